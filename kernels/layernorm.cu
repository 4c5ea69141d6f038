// layernorm.cu -- layer normalization over the rows of a (M, C)
// C-contiguous array (Keras 3 LayerNormalization; the caller moves the
// normalized axes last). Row statistics + normalize + affine in one kernel;
// backward as one row kernel (dx) and one column kernel (dgamma, dbeta).
// Deterministic: fixed-order tree reductions, no atomics.
//
//   default:      y = (x - mean) * inv_std * gamma + beta
//   rms (Keras):  y = x * inv_std * gamma (+ beta when given)
//   inv_std = rsqrt(var + eps), var = mean((x - mean)^2) (biased)
// gamma / beta may be NULL.
//
// Precision: x, y, dy and dx are float (entry points without a suffix, as
// before), __half (_f16) or __nv_bfloat16 (_bf16); gamma, beta, mean,
// inv_std, dgamma and dbeta are float32 in all three (Keras normalizes in
// float32 under mixed policies and keeps the parameters float32); all
// arithmetic is float32 (half.cuh).

#include "half.cuh"

#define LN_THREADS 128      // mirrored in backend/gpu/layernorm.py
#define LN_COLS 32          // columns per block of layernorm_bwd_params
#define LN_ROWGROUPS 8      // LN_COLS * LN_ROWGROUPS threads per block

__device__ __forceinline__ float gk_ln_sum(float v, float* red) {
  int t = threadIdx.x;
  red[t] = v;
  __syncthreads();
  for (int s = LN_THREADS / 2; s > 0; s >>= 1) {
    if (t < s) red[t] += red[t + s];
    __syncthreads();
  }
  float r = red[0];
  __syncthreads();
  return r;
}

// layernorm_fwd
//   grid = (M,), block = (LN_THREADS,). x (M, C) -> y (M, C), mean (M,),
//   inv_std (M,). Any C >= 1 (two passes over the row: mean, then the
//   centred variance).
template <typename T>
__device__ __forceinline__ void ln_fwd(
    const T* __restrict__ x, const float* __restrict__ gamma,
    const float* __restrict__ beta, T* __restrict__ y,
    float* __restrict__ mean, float* __restrict__ inv_std, long long M, int C,
    float eps, int rms) {
  __shared__ float red[LN_THREADS];
  const long long row = blockIdx.x;
  const T* xr = x + row * C;
  T* yr = y + row * C;
  const int t = threadIdx.x;
  float s = 0.0f;
  for (int j = t; j < C; j += LN_THREADS) s += gk_ld(xr + j);
  const float mu = gk_ln_sum(s, red) / (float)C;
  float v = 0.0f;
  for (int j = t; j < C; j += LN_THREADS) {
    float d = gk_ld(xr + j) - mu;
    v += d * d;
  }
  const float var = gk_ln_sum(v, red) / (float)C;
  const float r = rsqrtf(var + eps);
  for (int j = t; j < C; j += LN_THREADS) {
    const float xj = gk_ld(xr + j);
    float o = rms ? xj * r : (xj - mu) * r;
    if (gamma) o *= gamma[j];
    if (beta) o += beta[j];
    gk_st(yr + j, o);
  }
  if (t == 0) {
    mean[row] = mu;
    inv_std[row] = r;
  }
}

// layernorm_bwd_dx
//   grid = (M,), block = (LN_THREADS,). dy, x (M, C), mean, inv_std (M,)
//   -> dx (M, C). With g = dy * gamma:
//   default: dx = r * (g - mean(g) - xhat * mean(g * xhat)), xhat = (x-mu) r
//   rms:     dx = r * g - r^3 * (x - mu) * mean(g * x)
template <typename T>
__device__ __forceinline__ void ln_bwd_dx(
    const T* __restrict__ dy, const T* __restrict__ x,
    const float* __restrict__ gamma, const float* __restrict__ mean,
    const float* __restrict__ inv_std, T* __restrict__ dx, long long M,
    int C, int rms) {
  __shared__ float red[LN_THREADS];
  const long long row = blockIdx.x;
  const T* g = dy + row * C;
  const T* xr = x + row * C;
  T* out = dx + row * C;
  const int t = threadIdx.x;
  const float mu = mean[row], r = inv_std[row];
  const float invC = 1.0f / (float)C;
  if (rms) {
    float a = 0.0f;
    for (int j = t; j < C; j += LN_THREADS) {
      float gj = gamma ? gk_ld(g + j) * gamma[j] : gk_ld(g + j);
      a += gj * gk_ld(xr + j);
    }
    a = gk_ln_sum(a, red) * invC;
    const float r3 = r * r * r;
    for (int j = t; j < C; j += LN_THREADS) {
      float gj = gamma ? gk_ld(g + j) * gamma[j] : gk_ld(g + j);
      gk_st(out + j, r * gj - r3 * (gk_ld(xr + j) - mu) * a);
    }
  } else {
    float a = 0.0f, c = 0.0f;
    for (int j = t; j < C; j += LN_THREADS) {
      float gj = gamma ? gk_ld(g + j) * gamma[j] : gk_ld(g + j);
      a += gj;
      c += gj * (gk_ld(xr + j) - mu) * r;
    }
    a = gk_ln_sum(a, red) * invC;
    c = gk_ln_sum(c, red) * invC;
    for (int j = t; j < C; j += LN_THREADS) {
      float gj = gamma ? gk_ld(g + j) * gamma[j] : gk_ld(g + j);
      float xh = (gk_ld(xr + j) - mu) * r;
      gk_st(out + j, r * (gj - a - xh * c));
    }
  }
}

// layernorm_bwd_params
//   grid = (ceil(C / LN_COLS),), block = (LN_COLS * LN_ROWGROUPS,) = 256.
//   dgamma[c] = sum_m dy * xhat (rms: dy * x * r), dbeta[c] = sum_m dy.
//   dgamma may be NULL. Thread (col = t % LN_COLS, grp = t / LN_COLS)
//   strides over rows grp, grp + LN_ROWGROUPS, ...; the groups are then
//   summed in a fixed order.
template <typename T>
__device__ __forceinline__ void ln_bwd_params(
    const T* __restrict__ dy, const T* __restrict__ x,
    const float* __restrict__ mean, const float* __restrict__ inv_std,
    float* __restrict__ dgamma, float* __restrict__ dbeta, long long M, int C,
    int rms) {
  __shared__ float sg[LN_ROWGROUPS][LN_COLS];
  __shared__ float sb[LN_ROWGROUPS][LN_COLS];
  const int t = threadIdx.x;
  const int col = t % LN_COLS, grp = t / LN_COLS;
  const int c = blockIdx.x * LN_COLS + col;
  float ag = 0.0f, ab = 0.0f;
  if (c < C) {
    for (long long m = grp; m < M; m += LN_ROWGROUPS) {
      float d = gk_ld(dy + m * C + c);
      float xv = gk_ld(x + m * C + c);
      float xh = rms ? xv * inv_std[m] : (xv - mean[m]) * inv_std[m];
      ag += d * xh;
      ab += d;
    }
  }
  sg[grp][col] = ag;
  sb[grp][col] = ab;
  __syncthreads();
  if (grp == 0 && c < C) {
    float tg = 0.0f, tb = 0.0f;
    for (int k = 0; k < LN_ROWGROUPS; ++k) {
      tg += sg[k][col];
      tb += sb[k][col];
    }
    if (dgamma) dgamma[c] = tg;
    dbeta[c] = tb;
  }
}

// ---- entry points: the templates above for float / __half / __nv_bfloat16
// (launch layouts above; the float32 names keep no suffix).

// layernorm_fwd: ln_fwd, x and y in float32.
extern "C" __global__ void layernorm_fwd(const float* __restrict__ x,
    const float* __restrict__ gamma, const float* __restrict__ beta,
    float* __restrict__ y, float* __restrict__ mean,
    float* __restrict__ inv_std, long long M, int C, float eps, int rms) {
  ln_fwd<float>(x, gamma, beta, y, mean, inv_std, M, C, eps, rms);
}

// layernorm_bwd_dx: ln_bwd_dx, dy, x and dx in float32.
extern "C" __global__ void layernorm_bwd_dx(const float* __restrict__ dy,
    const float* __restrict__ x, const float* __restrict__ gamma,
    const float* __restrict__ mean, const float* __restrict__ inv_std,
    float* __restrict__ dx, long long M, int C, int rms) {
  ln_bwd_dx<float>(dy, x, gamma, mean, inv_std, dx, M, C, rms);
}

// layernorm_bwd_params: ln_bwd_params, dy and x in float32.
extern "C" __global__ void layernorm_bwd_params(
    const float* __restrict__ dy, const float* __restrict__ x,
    const float* __restrict__ mean, const float* __restrict__ inv_std,
    float* __restrict__ dgamma, float* __restrict__ dbeta, long long M, int C,
    int rms) {
  ln_bwd_params<float>(dy, x, mean, inv_std, dgamma, dbeta, M, C, rms);
}

#if GK_F16
// layernorm_fwd_f16: ln_fwd, x and y in float16.
extern "C" __global__ void layernorm_fwd_f16(const __half* __restrict__ x,
    const float* __restrict__ gamma, const float* __restrict__ beta,
    __half* __restrict__ y, float* __restrict__ mean,
    float* __restrict__ inv_std, long long M, int C, float eps, int rms) {
  ln_fwd<__half>(x, gamma, beta, y, mean, inv_std, M, C, eps, rms);
}
#endif

#if GK_F16
// layernorm_bwd_dx_f16: ln_bwd_dx, dy, x and dx in float16.
extern "C" __global__ void layernorm_bwd_dx_f16(const __half* __restrict__ dy,
    const __half* __restrict__ x, const float* __restrict__ gamma,
    const float* __restrict__ mean, const float* __restrict__ inv_std,
    __half* __restrict__ dx, long long M, int C, int rms) {
  ln_bwd_dx<__half>(dy, x, gamma, mean, inv_std, dx, M, C, rms);
}
#endif

#if GK_F16
// layernorm_bwd_params_f16: ln_bwd_params, dy and x in float16.
extern "C" __global__ void layernorm_bwd_params_f16(
    const __half* __restrict__ dy, const __half* __restrict__ x,
    const float* __restrict__ mean, const float* __restrict__ inv_std,
    float* __restrict__ dgamma, float* __restrict__ dbeta, long long M, int C,
    int rms) {
  ln_bwd_params<__half>(dy, x, mean, inv_std, dgamma, dbeta, M, C, rms);
}
#endif

#if GK_BF16
// layernorm_fwd_bf16: ln_fwd, x and y in bfloat16.
extern "C" __global__ void layernorm_fwd_bf16(
    const __nv_bfloat16* __restrict__ x, const float* __restrict__ gamma,
    const float* __restrict__ beta, __nv_bfloat16* __restrict__ y,
    float* __restrict__ mean, float* __restrict__ inv_std, long long M,
    int C, float eps, int rms) {
  ln_fwd<__nv_bfloat16>(x, gamma, beta, y, mean, inv_std, M, C, eps, rms);
}
#endif

#if GK_BF16
// layernorm_bwd_dx_bf16: ln_bwd_dx, dy, x and dx in bfloat16.
extern "C" __global__ void layernorm_bwd_dx_bf16(
    const __nv_bfloat16* __restrict__ dy,
    const __nv_bfloat16* __restrict__ x, const float* __restrict__ gamma,
    const float* __restrict__ mean, const float* __restrict__ inv_std,
    __nv_bfloat16* __restrict__ dx, long long M, int C, int rms) {
  ln_bwd_dx<__nv_bfloat16>(dy, x, gamma, mean, inv_std, dx, M, C, rms);
}
#endif

#if GK_BF16
// layernorm_bwd_params_bf16: ln_bwd_params, dy and x in bfloat16.
extern "C" __global__ void layernorm_bwd_params_bf16(
    const __nv_bfloat16* __restrict__ dy, const __nv_bfloat16* __restrict__ x,
    const float* __restrict__ mean, const float* __restrict__ inv_std,
    float* __restrict__ dgamma, float* __restrict__ dbeta, long long M, int C,
    int rms) {
  ln_bwd_params<__nv_bfloat16>(dy, x, mean, inv_std, dgamma, dbeta, M, C, rms);
}
#endif
