// optimizers.cu -- fused multi-tensor optimizer update entry points, for
// float32 (_f32), float16 (_f16) and bfloat16 (_bf16) gradients (variables
// and slots float32), and the device-side gradient clipping. Tables,
// launch layout and formulas: optimizers.cuh, next to each template.

#include "optimizers.cuh"

// ---- entry points: the templates of optimizers.cuh with float (_f32),
// __half (_f16) and __nv_bfloat16 (_bf16) gradients; layouts and
// formulas as there.

// sgd_mt_f32: gk_sgd_mt with float32 gradients.
extern "C" __global__ void sgd_mt_f32(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr,
    float momentum, int nesterov, float wd_factor,
    const float* __restrict__ gscale) {
  gk_sgd_mt<float>(meta, chunks, n_ptr, lr, momentum, nesterov, wd_factor,
      gscale);
}

// adam_mt_f32: gk_adam_mt with float32 gradients.
extern "C" __global__ void adam_mt_f32(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float alpha, float c1,
    float c2, float epsilon, float wd_factor,
    const float* __restrict__ gscale) {
  gk_adam_mt<float>(meta, chunks, n_ptr, alpha, c1, c2, epsilon, wd_factor,
      gscale);
}

// rmsprop_mt_f32: gk_rmsprop_mt with float32 gradients.
extern "C" __global__ void rmsprop_mt_f32(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr, float rho,
    float one_minus_rho, float momentum, float epsilon, int centered,
    float wd_factor, const float* __restrict__ gscale) {
  gk_rmsprop_mt<float>(meta, chunks, n_ptr, lr, rho, one_minus_rho, momentum,
      epsilon, centered, wd_factor, gscale);
}

// adagrad_mt_f32: gk_adagrad_mt with float32 gradients.
extern "C" __global__ void adagrad_mt_f32(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr,
    float epsilon, float wd_factor, const float* __restrict__ gscale) {
  gk_adagrad_mt<float>(meta, chunks, n_ptr, lr, epsilon, wd_factor, gscale);
}

// adamax_mt_f32: gk_adamax_mt with float32 gradients.
extern "C" __global__ void adamax_mt_f32(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float alpha, float c1,
    float beta_2, float epsilon, float wd_factor,
    const float* __restrict__ gscale) {
  gk_adamax_mt<float>(meta, chunks, n_ptr, alpha, c1, beta_2, epsilon,
      wd_factor, gscale);
}

// lion_mt_f32: gk_lion_mt with float32 gradients.
extern "C" __global__ void lion_mt_f32(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr, float beta_1,
    float one_minus_beta_1, float beta_2, float one_minus_beta_2,
    float wd_factor, const float* __restrict__ gscale) {
  gk_lion_mt<float>(meta, chunks, n_ptr, lr, beta_1, one_minus_beta_1, beta_2,
      one_minus_beta_2, wd_factor, gscale);
}

// nadam_mt_f32: gk_nadam_mt with float32 gradients.
extern "C" __global__ void nadam_mt_f32(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr, float c1,
    float c2, float a, float b, float v_scale, float epsilon,
    float wd_factor, const float* __restrict__ gscale) {
  gk_nadam_mt<float>(meta, chunks, n_ptr, lr, c1, c2, a, b, v_scale, epsilon,
      wd_factor, gscale);
}

// mt_sumsq_f32: gk_mt_sumsq with float32 gradients.
extern "C" __global__ void mt_sumsq_f32(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr,
    float* __restrict__ partial) {
  gk_mt_sumsq<float>(meta, chunks, n_ptr, partial);
}

#if GK_F16
// sgd_mt_f16: gk_sgd_mt with float16 gradients.
extern "C" __global__ void sgd_mt_f16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr,
    float momentum, int nesterov, float wd_factor,
    const float* __restrict__ gscale) {
  gk_sgd_mt<__half>(meta, chunks, n_ptr, lr, momentum, nesterov, wd_factor,
      gscale);
}
#endif

#if GK_F16
// adam_mt_f16: gk_adam_mt with float16 gradients.
extern "C" __global__ void adam_mt_f16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float alpha, float c1,
    float c2, float epsilon, float wd_factor,
    const float* __restrict__ gscale) {
  gk_adam_mt<__half>(meta, chunks, n_ptr, alpha, c1, c2, epsilon, wd_factor,
      gscale);
}
#endif

#if GK_F16
// rmsprop_mt_f16: gk_rmsprop_mt with float16 gradients.
extern "C" __global__ void rmsprop_mt_f16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr, float rho,
    float one_minus_rho, float momentum, float epsilon, int centered,
    float wd_factor, const float* __restrict__ gscale) {
  gk_rmsprop_mt<__half>(meta, chunks, n_ptr, lr, rho, one_minus_rho, momentum,
      epsilon, centered, wd_factor, gscale);
}
#endif

#if GK_F16
// adagrad_mt_f16: gk_adagrad_mt with float16 gradients.
extern "C" __global__ void adagrad_mt_f16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr,
    float epsilon, float wd_factor, const float* __restrict__ gscale) {
  gk_adagrad_mt<__half>(meta, chunks, n_ptr, lr, epsilon, wd_factor, gscale);
}
#endif

#if GK_F16
// adamax_mt_f16: gk_adamax_mt with float16 gradients.
extern "C" __global__ void adamax_mt_f16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float alpha, float c1,
    float beta_2, float epsilon, float wd_factor,
    const float* __restrict__ gscale) {
  gk_adamax_mt<__half>(meta, chunks, n_ptr, alpha, c1, beta_2, epsilon,
      wd_factor, gscale);
}
#endif

#if GK_F16
// lion_mt_f16: gk_lion_mt with float16 gradients.
extern "C" __global__ void lion_mt_f16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr, float beta_1,
    float one_minus_beta_1, float beta_2, float one_minus_beta_2,
    float wd_factor, const float* __restrict__ gscale) {
  gk_lion_mt<__half>(meta, chunks, n_ptr, lr, beta_1, one_minus_beta_1,
      beta_2, one_minus_beta_2, wd_factor, gscale);
}
#endif

#if GK_F16
// nadam_mt_f16: gk_nadam_mt with float16 gradients.
extern "C" __global__ void nadam_mt_f16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr, float c1,
    float c2, float a, float b, float v_scale, float epsilon,
    float wd_factor, const float* __restrict__ gscale) {
  gk_nadam_mt<__half>(meta, chunks, n_ptr, lr, c1, c2, a, b, v_scale, epsilon,
      wd_factor, gscale);
}
#endif

#if GK_F16
// mt_sumsq_f16: gk_mt_sumsq with float16 gradients.
extern "C" __global__ void mt_sumsq_f16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr,
    float* __restrict__ partial) {
  gk_mt_sumsq<__half>(meta, chunks, n_ptr, partial);
}
#endif

#if GK_BF16
// sgd_mt_bf16: gk_sgd_mt with bfloat16 gradients.
extern "C" __global__ void sgd_mt_bf16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr,
    float momentum, int nesterov, float wd_factor,
    const float* __restrict__ gscale) {
  gk_sgd_mt<__nv_bfloat16>(meta, chunks, n_ptr, lr, momentum, nesterov,
      wd_factor, gscale);
}
#endif

#if GK_BF16
// adam_mt_bf16: gk_adam_mt with bfloat16 gradients.
extern "C" __global__ void adam_mt_bf16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float alpha, float c1,
    float c2, float epsilon, float wd_factor,
    const float* __restrict__ gscale) {
  gk_adam_mt<__nv_bfloat16>(meta, chunks, n_ptr, alpha, c1, c2, epsilon,
      wd_factor, gscale);
}
#endif

#if GK_BF16
// rmsprop_mt_bf16: gk_rmsprop_mt with bfloat16 gradients.
extern "C" __global__ void rmsprop_mt_bf16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr, float rho,
    float one_minus_rho, float momentum, float epsilon, int centered,
    float wd_factor, const float* __restrict__ gscale) {
  gk_rmsprop_mt<__nv_bfloat16>(meta, chunks, n_ptr, lr, rho, one_minus_rho,
      momentum, epsilon, centered, wd_factor, gscale);
}
#endif

#if GK_BF16
// adagrad_mt_bf16: gk_adagrad_mt with bfloat16 gradients.
extern "C" __global__ void adagrad_mt_bf16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr,
    float epsilon, float wd_factor, const float* __restrict__ gscale) {
  gk_adagrad_mt<__nv_bfloat16>(meta, chunks, n_ptr, lr, epsilon, wd_factor,
      gscale);
}
#endif

#if GK_BF16
// adamax_mt_bf16: gk_adamax_mt with bfloat16 gradients.
extern "C" __global__ void adamax_mt_bf16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float alpha, float c1,
    float beta_2, float epsilon, float wd_factor,
    const float* __restrict__ gscale) {
  gk_adamax_mt<__nv_bfloat16>(meta, chunks, n_ptr, alpha, c1, beta_2, epsilon,
      wd_factor, gscale);
}
#endif

#if GK_BF16
// lion_mt_bf16: gk_lion_mt with bfloat16 gradients.
extern "C" __global__ void lion_mt_bf16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr, float beta_1,
    float one_minus_beta_1, float beta_2, float one_minus_beta_2,
    float wd_factor, const float* __restrict__ gscale) {
  gk_lion_mt<__nv_bfloat16>(meta, chunks, n_ptr, lr, beta_1, one_minus_beta_1,
      beta_2, one_minus_beta_2, wd_factor, gscale);
}
#endif

#if GK_BF16
// nadam_mt_bf16: gk_nadam_mt with bfloat16 gradients.
extern "C" __global__ void nadam_mt_bf16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr, float lr, float c1,
    float c2, float a, float b, float v_scale, float epsilon,
    float wd_factor, const float* __restrict__ gscale) {
  gk_nadam_mt<__nv_bfloat16>(meta, chunks, n_ptr, lr, c1, c2, a, b, v_scale,
      epsilon, wd_factor, gscale);
}
#endif

#if GK_BF16
// mt_sumsq_bf16: gk_mt_sumsq with bfloat16 gradients.
extern "C" __global__ void mt_sumsq_bf16(
    const long long* __restrict__ meta,
    const long long* __restrict__ chunks, int n_ptr,
    float* __restrict__ partial) {
  gk_mt_sumsq<__nv_bfloat16>(meta, chunks, n_ptr, partial);
}
#endif

// mt_clip_scale_f32
//   grid = (1,), block = (MT_THREADS,). norm = sqrt(sum of partial[0:n]),
//   summed in a fixed order; scale[0] = clip_norm * min(1 / norm,
//   inv_clip_norm) + (norm - norm) (Keras's clip_by_global_norm: NaN when
//   the norm is not finite; inv_clip_norm = 1 / clip_norm rounded by the
//   host, as NumPy rounds it), written to scale[0 .. n_tensors - 1], the
//   updates' `gscale`.
extern "C" __global__ void mt_clip_scale_f32(const float* __restrict__ partial,
                                             int n, float clip_norm,
                                             float inv_clip_norm,
                                             float* __restrict__ scale,
                                             int n_tensors) {
  __shared__ float red[MT_THREADS];
  float acc = 0.0f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) acc += partial[i];
  red[threadIdx.x] = acc;
  __syncthreads();
  for (int s = MT_THREADS / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) red[threadIdx.x] += red[threadIdx.x + s];
    __syncthreads();
  }
  const float norm = sqrtf(red[0]);
  const float inv = 1.0f / norm;
  const float m = inv < inv_clip_norm ? inv : inv_clip_norm;
  const float sc = __fadd_rn(__fmul_rn(clip_norm, m), norm - norm);
  for (int t = threadIdx.x; t < n_tensors; t += blockDim.x) scale[t] = sc;
}

// mt_clip_tensor_scale_f32
//   grid = (n_tensors,), block = (MT_THREADS,). For tensor t, whose chunks
//   are first[t] .. first[t + 1] - 1 of mt_sumsq_f32's partial sums:
//   norm = sqrt(their sum, in a fixed order), scale[t] = clip_norm /
//   max(norm, clip_norm) (Keras's per-variable `clipnorm`; NaN propagates
//   as with np.maximum).
extern "C" __global__ void mt_clip_tensor_scale_f32(
    const float* __restrict__ partial, const long long* __restrict__ first,
    float clip_norm, float* __restrict__ scale) {
  __shared__ float red[MT_THREADS];
  const long long t = blockIdx.x;
  float acc = 0.0f;
  for (long long i = first[t] + threadIdx.x; i < first[t + 1];
       i += blockDim.x) {
    acc += partial[i];
  }
  red[threadIdx.x] = acc;
  __syncthreads();
  for (int s = MT_THREADS / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) red[threadIdx.x] += red[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    const float norm = sqrtf(red[0]);
    scale[t] = clip_norm / gk_mt_nanmax(norm, clip_norm);
  }
}
