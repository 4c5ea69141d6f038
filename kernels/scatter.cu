// scatter.cu -- deterministic scatter-add of rows: dst[rows[k], :] +=
// values[k, :] with repeated rows accumulated, without atomics.
//
// The host stable-sorts the row ids (`order` = the sort permutation,
// `sorted_rows` = rows[order]); each run of equal ids is one segment. The
// block at a segment's first position adds the segment's value rows to the
// destination row in their original order, starting from the destination's
// value: exactly the sequence of `numpy.add.at(dst, rows, values)`, so the
// result is the same on every run and matches the CPU path bit for bit.
//
//   sorted_rows (n,) int64, in [0, n_rows) (the wrapper wraps negatives;
//   an id outside is skipped, never written); order (n,) int64;
//   values (n, cols); dst (n_rows, cols); all C-contiguous.
//
// Precision: float32 (_f32) and float64 (_f64) accumulate in their own
// type, exactly like numpy.add.at; float16 (_f16) and bfloat16 (_bf16)
// accumulate each segment in float32 and round once (more accurate than
// NumPy's add.at, which rounds after every addition; the wrappers' tests
// compare them with a tolerance).
//
// grid = (min(n, SC_MAX_BLOCKS),), block = (SC_THREADS,): blocks stride over
// the sorted positions, a block's threads over the columns. Positions that
// do not start a segment return at once; a segment of length L costs its
// block L reads per column (a skewed id distribution, e.g. a padding id
// repeated thousands of times, serialises on one block but stays exact).

#define SC_THREADS 128      // mirrored in backend/gpu/scatter.py
#define SC_MAX_BLOCKS 65535 // mirrored in backend/gpu/scatter.py

#include "half.cuh"

template <typename T>
__device__ __forceinline__ void gk_scatter_add_rows(
    const long long* __restrict__ sorted_rows,
    const long long* __restrict__ order, const T* __restrict__ values,
    T* __restrict__ dst, long long n, long long n_rows, long long cols) {
  for (long long i = blockIdx.x; i < n; i += gridDim.x) {
    const long long r = sorted_rows[i];
    if (i > 0 && sorted_rows[i - 1] == r) continue;  // inside a segment
    long long end = i + 1;
    while (end < n && sorted_rows[end] == r) ++end;
    if (r < 0 || r >= n_rows) continue;  // never write out of bounds
    for (long long c = threadIdx.x; c < cols; c += blockDim.x) {
      auto acc = gk_widen(dst[r * cols + c]);
      for (long long j = i; j < end; ++j)
        acc += gk_widen(values[order[j] * cols + c]);
      dst[r * cols + c] = gk_cast<T>(acc);
    }
  }
}

// scatter_add_rows_f32
//   grid = (min(n, SC_MAX_BLOCKS),), block = (SC_THREADS,); float32 values
//   and dst, layout above.
extern "C" __global__ void scatter_add_rows_f32(
    const long long* __restrict__ sorted_rows,
    const long long* __restrict__ order, const float* __restrict__ values,
    float* __restrict__ dst, long long n, long long n_rows, long long cols) {
  gk_scatter_add_rows<float>(sorted_rows, order, values, dst, n, n_rows,
      cols);
}

// scatter_add_rows_f64
//   grid = (min(n, SC_MAX_BLOCKS),), block = (SC_THREADS,); float64 values
//   and dst, layout above.
extern "C" __global__ void scatter_add_rows_f64(
    const long long* __restrict__ sorted_rows,
    const long long* __restrict__ order, const double* __restrict__ values,
    double* __restrict__ dst, long long n, long long n_rows, long long cols) {
  gk_scatter_add_rows<double>(sorted_rows, order, values, dst, n, n_rows,
                              cols);
}

#if GK_F16
// scatter_add_rows_f16
//   grid = (min(n, SC_MAX_BLOCKS),), block = (SC_THREADS,); float16 values
//   and dst, float32 accumulation, layout above.
extern "C" __global__ void scatter_add_rows_f16(
    const long long* __restrict__ sorted_rows,
    const long long* __restrict__ order, const __half* __restrict__ values,
    __half* __restrict__ dst, long long n, long long n_rows, long long cols) {
  gk_scatter_add_rows<__half>(sorted_rows, order, values, dst, n, n_rows,
      cols);
}
#endif

#if GK_BF16
// scatter_add_rows_bf16
//   grid = (min(n, SC_MAX_BLOCKS),), block = (SC_THREADS,); bfloat16
//   values and dst, float32 accumulation, layout above.
extern "C" __global__ void scatter_add_rows_bf16(
    const long long* __restrict__ sorted_rows,
    const long long* __restrict__ order,
    const __nv_bfloat16* __restrict__ values,
    __nv_bfloat16* __restrict__ dst, long long n, long long n_rows,
    long long cols) {
  gk_scatter_add_rows<__nv_bfloat16>(sorted_rows, order, values, dst, n,
      n_rows, cols);
}
#endif
