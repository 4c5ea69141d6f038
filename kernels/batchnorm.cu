// Batch normalization kernels (training mode), x as (M, C):
// statistics in two deterministic levels (per-split partials with Welford /
// Chan merging, then one fixed-order merge per channel), a fused
// normalize + affine pass, and the fused backward (per-split partial sums of
// dy and dy * xhat, a per-channel merge, then dx in one pass).
// No atomics: every sum has a fixed order, so results are bit-identical
// from run to run.
//
// Split layout, shared by the *_partial_* kernels:
//   grid (ceil(C / 32), S), block (32, 8); block (bx, s) covers channels
//   [32 bx, 32 bx + 32) and rows [s * rows_per_split, (s+1) * rows_per_split)
//   (clipped to M); thread (tx, ty) takes rows ty, ty + 8, ... of the split
//   for channel 32 bx + tx, and the 8 row-threads of a channel merge in
//   shared memory in ty order. S = ceil(M / rows_per_split) <= 65535.

//
// Precision: x, y, dy and dx are float (_f32), __half (_f16) or
// __nv_bfloat16 (_bf16); statistics, gamma/beta and their gradients are
// always float32 (Keras computes batch statistics in float32 under mixed
// policies and keeps the parameters float32), and all arithmetic is float32
// (half.cuh). The *_finalize_* kernels read only float32 partials, so they
// have no 16-bit twins.

#include "half.cuh"

#define BN_TX 32
#define BN_TY 8

// bn_partial_stats: part[(s * 3 + k) * C + c] = (count, mean, M2) of
// channel c over split s (k = 0, 1, 2).
template <typename T>
__device__ __forceinline__ void bn_partial_stats(const T* __restrict__ x,
                                                 float* __restrict__ part,
                                                 int M, int C,
                                                 int rows_per_split) {
  __shared__ float sh_n[BN_TY][BN_TX], sh_mean[BN_TY][BN_TX],
      sh_m2[BN_TY][BN_TX];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int c = blockIdx.x * BN_TX + tx;
  const int s = blockIdx.y;
  const int r0 = s * rows_per_split;
  const int r1 = min(M, r0 + rows_per_split);
  float n = 0.f, mean = 0.f, m2 = 0.f;
  if (c < C) {
    for (int r = r0 + ty; r < r1; r += BN_TY) {
      const float v = gk_ldg(x + (long long)r * C + c);
      n += 1.f;
      const float d = v - mean;
      mean += d / n;
      m2 += d * (v - mean);
    }
  }
  sh_n[ty][tx] = n;
  sh_mean[ty][tx] = mean;
  sh_m2[ty][tx] = m2;
  __syncthreads();
  if (ty == 0 && c < C) {
    for (int k = 1; k < BN_TY; ++k) {  // Chan et al. merge, fixed order
      const float nb = sh_n[k][tx];
      if (nb == 0.f) continue;
      const float na = n, nn = na + nb;
      const float d = sh_mean[k][tx] - mean;
      mean += d * (nb / nn);
      m2 += sh_m2[k][tx] + d * d * (na * nb / nn);
      n = nn;
    }
    part[((long long)s * 3 + 0) * C + c] = n;
    part[((long long)s * 3 + 1) * C + c] = mean;
    part[((long long)s * 3 + 2) * C + c] = m2;
  }
}

// bn_finalize_stats_f32: merges the S partials of each channel in split
// order; mean, biased var (M2 / M), inv_std = 1 / sqrt(var + eps).
// grid (ceil(C / 256)), block (256); one thread per channel.
extern "C" __global__ void bn_finalize_stats_f32(
    const float* __restrict__ part, float* __restrict__ mean_out,
    float* __restrict__ var_out, float* __restrict__ inv_std_out, int S,
    int C, float eps) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  float n = 0.f, mean = 0.f, m2 = 0.f;
  for (int s = 0; s < S; ++s) {
    const float nb = part[((long long)s * 3 + 0) * C + c];
    if (nb == 0.f) continue;
    const float mb = part[((long long)s * 3 + 1) * C + c];
    const float m2b = part[((long long)s * 3 + 2) * C + c];
    const float nn = n + nb;
    const float d = mb - mean;
    mean += d * (nb / nn);
    m2 += m2b + d * d * (n * nb / nn);
    n = nn;
  }
  const float var = m2 / n;
  mean_out[c] = mean;
  var_out[c] = var;
  inv_std_out[c] = 1.f / sqrtf(var + eps);
}

// bn_forward_apply: y = (x - mean) * inv_std * gamma + beta.
// grid (min(ceil(total / 256), 65535)), block (256); grid-stride loop over
// total = M * C.
template <typename T>
__device__ __forceinline__ void bn_forward_apply(
    const T* __restrict__ x, const float* __restrict__ mean,
    const float* __restrict__ inv_std, const float* __restrict__ gamma,
    const float* __restrict__ beta, T* __restrict__ y, long long total,
    int C) {
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
       e < total; e += (long long)gridDim.x * blockDim.x) {
    const int c = (int)(e % C);
    gk_st(y + e, (gk_ldg(x + e) - __ldg(mean + c)) *
                         (__ldg(inv_std + c) * __ldg(gamma + c)) +
                     __ldg(beta + c));
  }
}

// bn_partial_grads: part[(s * 2 + 0) * C + c] = sum of dy and
// part[(s * 2 + 1) * C + c] = sum of dy * xhat over split s, channel c.
// Same grid/block layout as bn_partial_stats.
template <typename T>
__device__ __forceinline__ void bn_partial_grads(
    const T* __restrict__ dy, const T* __restrict__ x,
    const float* __restrict__ mean, const float* __restrict__ inv_std,
    float* __restrict__ part, int M, int C, int rows_per_split) {
  __shared__ float sh_a[BN_TY][BN_TX], sh_b[BN_TY][BN_TX];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int c = blockIdx.x * BN_TX + tx;
  const int s = blockIdx.y;
  const int r0 = s * rows_per_split;
  const int r1 = min(M, r0 + rows_per_split);
  float a = 0.f, b = 0.f;
  if (c < C) {
    const float mu = __ldg(mean + c), is = __ldg(inv_std + c);
    for (int r = r0 + ty; r < r1; r += BN_TY) {
      const long long i = (long long)r * C + c;
      const float g = gk_ldg(dy + i);
      a += g;
      b += g * ((gk_ldg(x + i) - mu) * is);
    }
  }
  sh_a[ty][tx] = a;
  sh_b[ty][tx] = b;
  __syncthreads();
  if (ty == 0 && c < C) {
    for (int k = 1; k < BN_TY; ++k) {
      a += sh_a[k][tx];
      b += sh_b[k][tx];
    }
    part[((long long)s * 2 + 0) * C + c] = a;
    part[((long long)s * 2 + 1) * C + c] = b;
  }
}

// bn_finalize_grads_f32: dbeta[c] = sum_s part[s, 0, c], dgamma[c] =
// sum_s part[s, 1, c] (split order). grid (ceil(C / 256)), block (256).
extern "C" __global__ void bn_finalize_grads_f32(
    const float* __restrict__ part, float* __restrict__ dgamma,
    float* __restrict__ dbeta, int S, int C) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  float a = 0.f, b = 0.f;
  for (int s = 0; s < S; ++s) {
    a += part[((long long)s * 2 + 0) * C + c];
    b += part[((long long)s * 2 + 1) * C + c];
  }
  dbeta[c] = a;
  dgamma[c] = b;
}

// bn_backward_apply: dx = gamma * inv_std / M
//   * (M * dy - dbeta - xhat * dgamma), xhat = (x - mean) * inv_std.
// grid (min(ceil(total / 256), 65535)), block (256); grid-stride loop over
// total = M * C.
template <typename T>
__device__ __forceinline__ void bn_backward_apply(
    const T* __restrict__ dy, const T* __restrict__ x,
    const float* __restrict__ mean, const float* __restrict__ inv_std,
    const float* __restrict__ gamma, const float* __restrict__ dgamma,
    const float* __restrict__ dbeta, T* __restrict__ dx, long long total,
    int C, int M) {
  const float fm = (float)M;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
       e < total; e += (long long)gridDim.x * blockDim.x) {
    const int c = (int)(e % C);
    const float is = __ldg(inv_std + c);
    const float xhat = (gk_ldg(x + e) - __ldg(mean + c)) * is;
    gk_st(dx + e, (__ldg(gamma + c) * is / fm) *
                      (fm * gk_ldg(dy + e) - __ldg(dbeta + c) -
                       xhat * __ldg(dgamma + c)));
  }
}

// ---- entry points: the templates above for float / __half / __nv_bfloat16.

// bn_partial_stats_f32: bn_partial_stats, x in float32.
extern "C" __global__ void bn_partial_stats_f32(const float* __restrict__ x,
    float* __restrict__ part, int M, int C, int rows_per_split) {
  bn_partial_stats<float>(x, part, M, C, rows_per_split);
}

// bn_forward_apply_f32: bn_forward_apply, x and y in float32.
extern "C" __global__ void bn_forward_apply_f32(const float* __restrict__ x,
    const float* __restrict__ mean, const float* __restrict__ inv_std,
    const float* __restrict__ gamma, const float* __restrict__ beta,
    float* __restrict__ y, long long total, int C) {
  bn_forward_apply<float>(x, mean, inv_std, gamma, beta, y, total, C);
}

// bn_partial_grads_f32: bn_partial_grads, dy and x in float32.
extern "C" __global__ void bn_partial_grads_f32(const float* __restrict__ dy,
    const float* __restrict__ x, const float* __restrict__ mean,
    const float* __restrict__ inv_std, float* __restrict__ part, int M, int C,
    int rows_per_split) {
  bn_partial_grads<float>(dy, x, mean, inv_std, part, M, C, rows_per_split);
}

// bn_backward_apply_f32: bn_backward_apply, dy, x and dx in float32.
extern "C" __global__ void bn_backward_apply_f32(const float* __restrict__ dy,
    const float* __restrict__ x, const float* __restrict__ mean,
    const float* __restrict__ inv_std, const float* __restrict__ gamma,
    const float* __restrict__ dgamma, const float* __restrict__ dbeta,
    float* __restrict__ dx, long long total, int C, int M) {
  bn_backward_apply<float>(dy, x, mean, inv_std, gamma, dgamma, dbeta, dx,
      total, C, M);
}

#if GK_F16
// bn_partial_stats_f16: bn_partial_stats, x in float16.
extern "C" __global__ void bn_partial_stats_f16(const __half* __restrict__ x,
    float* __restrict__ part, int M, int C, int rows_per_split) {
  bn_partial_stats<__half>(x, part, M, C, rows_per_split);
}
#endif

#if GK_F16
// bn_forward_apply_f16: bn_forward_apply, x and y in float16.
extern "C" __global__ void bn_forward_apply_f16(const __half* __restrict__ x,
    const float* __restrict__ mean, const float* __restrict__ inv_std,
    const float* __restrict__ gamma, const float* __restrict__ beta,
    __half* __restrict__ y, long long total, int C) {
  bn_forward_apply<__half>(x, mean, inv_std, gamma, beta, y, total, C);
}
#endif

#if GK_F16
// bn_partial_grads_f16: bn_partial_grads, dy and x in float16.
extern "C" __global__ void bn_partial_grads_f16(const __half* __restrict__ dy,
    const __half* __restrict__ x, const float* __restrict__ mean,
    const float* __restrict__ inv_std, float* __restrict__ part, int M, int C,
    int rows_per_split) {
  bn_partial_grads<__half>(dy, x, mean, inv_std, part, M, C, rows_per_split);
}
#endif

#if GK_F16
// bn_backward_apply_f16: bn_backward_apply, dy, x and dx in float16.
extern "C" __global__ void bn_backward_apply_f16(const __half* __restrict__ dy,
    const __half* __restrict__ x, const float* __restrict__ mean,
    const float* __restrict__ inv_std, const float* __restrict__ gamma,
    const float* __restrict__ dgamma, const float* __restrict__ dbeta,
    __half* __restrict__ dx, long long total, int C, int M) {
  bn_backward_apply<__half>(dy, x, mean, inv_std, gamma, dgamma, dbeta, dx,
      total, C, M);
}
#endif

#if GK_BF16
// bn_partial_stats_bf16: bn_partial_stats, x in bfloat16.
extern "C" __global__ void bn_partial_stats_bf16(
    const __nv_bfloat16* __restrict__ x, float* __restrict__ part, int M,
    int C, int rows_per_split) {
  bn_partial_stats<__nv_bfloat16>(x, part, M, C, rows_per_split);
}
#endif

#if GK_BF16
// bn_forward_apply_bf16: bn_forward_apply, x and y in bfloat16.
extern "C" __global__ void bn_forward_apply_bf16(
    const __nv_bfloat16* __restrict__ x, const float* __restrict__ mean,
    const float* __restrict__ inv_std, const float* __restrict__ gamma,
    const float* __restrict__ beta, __nv_bfloat16* __restrict__ y,
    long long total, int C) {
  bn_forward_apply<__nv_bfloat16>(x, mean, inv_std, gamma, beta, y, total, C);
}
#endif

#if GK_BF16
// bn_partial_grads_bf16: bn_partial_grads, dy and x in bfloat16.
extern "C" __global__ void bn_partial_grads_bf16(
    const __nv_bfloat16* __restrict__ dy,
    const __nv_bfloat16* __restrict__ x, const float* __restrict__ mean,
    const float* __restrict__ inv_std, float* __restrict__ part, int M,
    int C, int rows_per_split) {
  bn_partial_grads<__nv_bfloat16>(dy, x, mean, inv_std, part, M, C,
      rows_per_split);
}
#endif

#if GK_BF16
// bn_backward_apply_bf16: bn_backward_apply, dy, x and dx in bfloat16.
extern "C" __global__ void bn_backward_apply_bf16(
    const __nv_bfloat16* __restrict__ dy,
    const __nv_bfloat16* __restrict__ x, const float* __restrict__ mean,
    const float* __restrict__ inv_std, const float* __restrict__ gamma,
    const float* __restrict__ dgamma, const float* __restrict__ dbeta,
    __nv_bfloat16* __restrict__ dx, long long total, int C, int M) {
  bn_backward_apply<__nv_bfloat16>(dy, x, mean, inv_std, gamma, dgamma, dbeta,
      dx,                          total, C, M);
}
#endif
