// Entry points for tests/test_cuda_emu_half.py: the emulator's __half /
// __nv_bfloat16 conversions and arithmetic, and kernels/half.cuh's helpers.
#include "../../kernels/half.cuh"

// y[i] = __float2half_rn(x[i]); grid-stride over n.
extern "C" __global__ void to_f16(const float* x, __half* y, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += gridDim.x * blockDim.x)
    y[i] = __float2half_rn(x[i]);
}

// y[i] = __half2float(x[i]).
extern "C" __global__ void from_f16(const __half* x, float* y, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += gridDim.x * blockDim.x)
    y[i] = __half2float(x[i]);
}

// y[i] = __float2bfloat16_rn(x[i]).
extern "C" __global__ void to_bf16(const float* x, __nv_bfloat16* y, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += gridDim.x * blockDim.x)
    y[i] = __float2bfloat16_rn(x[i]);
}

// y[i] = __bfloat162float(x[i]).
extern "C" __global__ void from_bf16(const __nv_bfloat16* x, float* y,
                                     int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += gridDim.x * blockDim.x)
    y[i] = __bfloat162float(x[i]);
}

// out[4 * i + k] = a op_k b for op = add, sub, mul, fma(a, b, c).
extern "C" __global__ void arith_f16(const __half* a, const __half* b,
                                     const __half* c, __half* out, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += gridDim.x * blockDim.x) {
    out[4 * i] = __hadd(a[i], b[i]);
    out[4 * i + 1] = a[i] - b[i];
    out[4 * i + 2] = __hmul(a[i], b[i]);
    out[4 * i + 3] = __hfma(a[i], b[i], c[i]);
  }
}

// As arith_f16, in bfloat16.
extern "C" __global__ void arith_bf16(const __nv_bfloat16* a,
                                      const __nv_bfloat16* b,
                                      const __nv_bfloat16* c,
                                      __nv_bfloat16* out, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += gridDim.x * blockDim.x) {
    out[4 * i] = __hadd(a[i], b[i]);
    out[4 * i + 1] = a[i] - b[i];
    out[4 * i + 2] = __hmul(a[i], b[i]);
    out[4 * i + 3] = __hfma(a[i], b[i], c[i]);
  }
}

// half.cuh helpers: y[i] = gk_cast<__half>(gk_ldg(x + i) * s), a warp
// shuffle of a __half, and a scalar __half parameter.
extern "C" __global__ void helpers_f16(const __half* x, __half* y,
                                       __half s, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  __half v = __ushort_as_half(0);
  if (i < n) v = gk_cast<__half>(gk_ldg(x + i) * gk_f32(s));
  // Every lane takes its neighbour's value (lane 31 wraps to 0).
  const __half w = __shfl_sync(0xffffffffu, v, (threadIdx.x + 1) & 31);
  if (i < n) gk_st(y + i, gk_f32(w));
}
