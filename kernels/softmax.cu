// softmax.cu -- softmax over the last axis of a (M, C) C-contiguous array,
// forward and backward (ops.softmax / activations.softmax on the GPU;
// other axes are moved last by the caller). One block per row, a fixed-order
// tree reduction in shared memory: deterministic.
// Precision: float (no suffix), __half (_f16) or __nv_bfloat16 (_bf16)
// arrays, float32 arithmetic (half.cuh).

#include "half.cuh"

// SMX_THREADS is mirrored by SOFTMAX_THREADS in backend/gpu/attention.py.
#define SMX_THREADS 128

__device__ __forceinline__ float gk_smx_reduce(float v, float* red, int op) {
  int t = threadIdx.x;
  red[t] = v;
  __syncthreads();
  for (int s = SMX_THREADS / 2; s > 0; s >>= 1) {
    if (t < s) red[t] = op ? fmaxf(red[t], red[t + s]) : red[t] + red[t + s];
    __syncthreads();
  }
  float r = red[0];
  __syncthreads();
  return r;
}

// softmax_fwd
//   grid = (M,), block = (SMX_THREADS,). x (M, C) -> y (M, C); y may alias x.
//   Any C >= 1.
template <typename T>
__device__ __forceinline__ void smx_fwd(const T* x, T* y, long long M, int C) {
  __shared__ float red[SMX_THREADS];
  const long long row = blockIdx.x;
  const T* xr = x + row * C;
  T* yr = y + row * C;
  const int t = threadIdx.x;
  float mx = -3.0e38f;
  for (int j = t; j < C; j += SMX_THREADS) mx = fmaxf(mx, gk_ld(xr + j));
  mx = gk_smx_reduce(mx, red, 1);
  float sum = 0.0f;
  for (int j = t; j < C; j += SMX_THREADS) sum += expf(gk_ld(xr + j) - mx);
  sum = gk_smx_reduce(sum, red, 0);
  const float inv = 1.0f / sum;
  for (int j = t; j < C; j += SMX_THREADS)
    gk_st(yr + j, expf(gk_ld(xr + j) - mx) * inv);
}

// softmax_bwd
//   grid = (M,), block = (SMX_THREADS,). dy, y (M, C) -> dx (M, C),
//   dx = y * (dy - sum(dy * y)); dx may alias dy.
template <typename T>
__device__ __forceinline__ void smx_bwd(const T* dy, const T* __restrict__ y,
                                        T* dx, long long M, int C) {
  __shared__ float red[SMX_THREADS];
  const long long row = blockIdx.x;
  const T* g = dy + row * C;
  const T* yr = y + row * C;
  T* out = dx + row * C;
  const int t = threadIdx.x;
  float acc = 0.0f;
  for (int j = t; j < C; j += SMX_THREADS) acc += gk_ld(g + j) * gk_ld(yr + j);
  acc = gk_smx_reduce(acc, red, 0);
  for (int j = t; j < C; j += SMX_THREADS)
    gk_st(out + j, gk_ld(yr + j) * (gk_ld(g + j) - acc));
}

// ---- entry points (launch layouts above; the float32 names keep no suffix).

// softmax_fwd: smx_fwd on float32; y may alias x.
extern "C" __global__ void softmax_fwd(const float* x, float* y, long long M,
                                       int C) {
  smx_fwd<float>(x, y, M, C);
}

// softmax_bwd: smx_bwd on float32; dx may alias dy.
extern "C" __global__ void softmax_bwd(const float* dy,
    const float* __restrict__ y, float* dx, long long M, int C) {
  smx_bwd<float>(dy, y, dx, M, C);
}

#if GK_F16
// softmax_fwd_f16: smx_fwd on float16; y may alias x.
extern "C" __global__ void softmax_fwd_f16(
    const __half* x, __half* y, long long M, int C) {
  smx_fwd<__half>(x, y, M, C);
}
#endif

#if GK_F16
// softmax_bwd_f16: smx_bwd on float16; dx may alias dy.
extern "C" __global__ void softmax_bwd_f16(const __half* dy,
    const __half* __restrict__ y, __half* dx, long long M, int C) {
  smx_bwd<__half>(dy, y, dx, M, C);
}
#endif

#if GK_BF16
// softmax_fwd_bf16: smx_fwd on bfloat16; y may alias x.
extern "C" __global__ void softmax_fwd_bf16(
    const __nv_bfloat16* x, __nv_bfloat16* y, long long M, int C) {
  smx_fwd<__nv_bfloat16>(x, y, M, C);
}
#endif

#if GK_BF16
// softmax_bwd_bf16: smx_bwd on bfloat16; dx may alias dy.
extern "C" __global__ void softmax_bwd_bf16(
    const __nv_bfloat16* dy, const __nv_bfloat16* __restrict__ y,
    __nv_bfloat16* dx, long long M, int C) {
  smx_bwd<__nv_bfloat16>(dy, y, dx, M, C);
}
#endif
