#ifndef GKERAS_OPTIMIZERS_CUH
#define GKERAS_OPTIMIZERS_CUH

// optimizers.cuh -- fused multi-tensor optimizer updates (the templates;
// the entry points are in optimizers.cu). Float32 variables and slots;
// float32, float16 or bfloat16 gradients.
//
// One launch updates every variable of an optimizer step: the variables,
// their gradients and their slots stay separate allocations, reached
// through a pointer table, and the work is cut into chunks of at most
// MT_CHUNK elements of one tensor, one chunk per block.
//
//   meta   (n_tensors, n_ptr) int64: device addresses, per tensor
//          [gradient, variable, slot_0, slot_1, ...] (the slots of each
//          optimizer are listed at its entry point)
//   chunks (n_chunks, 4) int64: [tensor, start, length, decay] with
//          0 < length <= MT_CHUNK; decay != 0 applies the decoupled weight
//          decay `w *= wd_factor` before the update (Keras's
//          `_apply_weight_decay`, only for the tensors it selects).
//
// grid = (n_chunks,), block = (MT_THREADS,). Each element is read and
// written by one thread only: no atomics, no reductions, so the result is
// deterministic and independent of the launch order.
//
// Every update entry point ends with (wd_factor, gscale): `w *= wd_factor`
// for the tensors marked `decay`, and, when `gscale` (n_tensors,) is not
// NULL, each gradient multiplied by its tensor's scale first (gradient
// clipping computed on the device: mt_sumsq_f32, then mt_clip_scale_f32
// for `global_clipnorm` or mt_clip_tensor_scale_f32 for `clipnorm`).
//
// The arithmetic is the operation sequence of the NumPy optimizers in
// gkeras/optimizers (each step rounded to float32, no fused multiply-add:
// __fmul_rn / __fadd_rn keep the compiler from contracting), so the GPU
// and the CPU give the same bits. Scalars arrive already rounded to float32
// by the host (learning rate, bias corrections, 1 - beta, ...).
//
// Mixed precision: variables and slots are always float32 (master
// weights); the gradients of one launch are float (_f32), __half (_f16) or
// __nv_bfloat16 (_bf16), converted exactly to float32 when read, so a
// 16-bit gradient gives the same update as its float32 value.

#include "half.cuh"

#define MT_THREADS 256   // mirrored in backend/gpu/optimizers.py
#define MT_CHUNK 4096    // mirrored in backend/gpu/optimizers.py

struct GkMtChunk {
  long long tensor;       // row of `meta`
  const long long* ptrs;  // this tensor's row of `meta`
  long long start;
  long long len;
  int decay;
};

__device__ __forceinline__ GkMtChunk gk_mt_chunk(const long long* meta,
                                                 const long long* chunks,
                                                 int n_ptr) {
  const long long* c = chunks + 4LL * blockIdx.x;
  GkMtChunk r;
  r.tensor = c[0];
  r.ptrs = meta + c[0] * n_ptr;
  r.start = c[1];
  r.len = c[2];
  r.decay = c[3] != 0;
  return r;
}

__device__ __forceinline__ float* gk_mt_ptr(const GkMtChunk& c, int k) {
  return reinterpret_cast<float*>(c.ptrs[k]) + c.start;
}

// The gradient, times its tensor's clipping scale when scales are given
// (gscale[tensor], from mt_clip_scale_f32 or mt_clip_tensor_scale_f32;
// NULL: no clipping), rounded as NumPy's `g * scale`.
template <typename TG>
__device__ __forceinline__ float gk_mt_grad(const TG* g, long long i,
                                            const float* gscale,
                                            const GkMtChunk& c) {
  return gscale ? __fmul_rn(gk_f32(g[i]), gscale[c.tensor]) : gk_f32(g[i]);
}

// This chunk's gradient, of element type TG.
template <typename TG>
__device__ __forceinline__ const TG* gk_mt_gptr(const GkMtChunk& c) {
  return reinterpret_cast<const TG*>(c.ptrs[0]) + c.start;
}

// np.maximum semantics: NaN when either operand is NaN.
__device__ __forceinline__ float gk_mt_nanmax(float a, float b) {
  return (a >= b || a != a) ? a : b;
}

// sgd_mt (entry points sgd_mt_f32 / _f16 / _bf16)
//   grid = (n_chunks,), block = (MT_THREADS,). meta rows: [g, w] or
//   [g, w, momentum] (n_ptr 2 or 3). Keras SGD:
//     no slot:   w -= lr * g
//     momentum:  m = momentum * m - lr * g; w += m
//     nesterov:  m = momentum * m - lr * g; w = w - lr * g + momentum * m
template <typename TG>
__device__ __forceinline__ void gk_sgd_mt(
    const long long* __restrict__ meta,
                                      const long long* __restrict__ chunks,
                                      int n_ptr, float lr, float momentum,
                                      int nesterov, float wd_factor,
    const float* __restrict__ gscale) {
  const GkMtChunk c = gk_mt_chunk(meta, chunks, n_ptr);
  const TG* g = gk_mt_gptr<TG>(c);
  float* w = gk_mt_ptr(c, 1);
  float* m = n_ptr > 2 ? gk_mt_ptr(c, 2) : nullptr;
  for (long long i = threadIdx.x; i < c.len; i += blockDim.x) {
    float wi = w[i];
    if (c.decay) wi = __fmul_rn(wi, wd_factor);
    const float step = __fmul_rn(gk_mt_grad(g, i, gscale, c), lr);
    if (m) {
      const float mi = __fsub_rn(__fmul_rn(m[i], momentum), step);
      m[i] = mi;
      if (nesterov) {
        wi = __fadd_rn(__fsub_rn(wi, step), __fmul_rn(mi, momentum));
      } else {
        wi = __fadd_rn(wi, mi);
      }
    } else {
      wi = __fsub_rn(wi, step);
    }
    w[i] = wi;
  }
}

// adam_mt (entry points adam_mt_f32 / _f16 / _bf16)
//   grid = (n_chunks,), block = (MT_THREADS,). meta rows: [g, w, m, v] or,
//   with amsgrad, [g, w, m, v, v_hat] (n_ptr 4 or 5). Keras Adam / AdamW:
//     m += (g - m) * c1;  v += (g * g - v) * c2   (c1 = 1 - beta_1, ...)
//     v_hat = max(v_hat, v) (amsgrad; then used in place of v)
//     w -= m / (sqrt(v) + epsilon) * alpha
//   alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), computed by the host.
template <typename TG>
__device__ __forceinline__ void gk_adam_mt(
    const long long* __restrict__ meta,
                                       const long long* __restrict__ chunks,
                                       int n_ptr, float alpha, float c1,
                                       float c2, float epsilon,
                                       float wd_factor,
    const float* __restrict__ gscale) {
  const GkMtChunk c = gk_mt_chunk(meta, chunks, n_ptr);
  const TG* g = gk_mt_gptr<TG>(c);
  float* w = gk_mt_ptr(c, 1);
  float* m = gk_mt_ptr(c, 2);
  float* v = gk_mt_ptr(c, 3);
  float* v_hat = n_ptr > 4 ? gk_mt_ptr(c, 4) : nullptr;
  for (long long i = threadIdx.x; i < c.len; i += blockDim.x) {
    float wi = w[i];
    if (c.decay) wi = __fmul_rn(wi, wd_factor);
    const float gi = gk_mt_grad(g, i, gscale, c);
    float mi = m[i];
    mi = __fadd_rn(mi, __fmul_rn(__fsub_rn(gi, mi), c1));
    float vi = v[i];
    vi = __fadd_rn(vi, __fmul_rn(__fsub_rn(__fmul_rn(gi, gi), vi), c2));
    m[i] = mi;
    v[i] = vi;
    if (v_hat) {
      vi = gk_mt_nanmax(v_hat[i], vi);
      v_hat[i] = vi;
    }
    const float denom = __fadd_rn(sqrtf(vi), epsilon);
    w[i] = __fsub_rn(wi, __fmul_rn(mi / denom, alpha));
  }
}

// rmsprop_mt (entry points rmsprop_mt_f32 / _f16 / _bf16)
//   grid = (n_chunks,), block = (MT_THREADS,). meta rows: [g, w, velocity]
//   then, when enabled, average_gradient (centered) and momentum, in that
//   order (n_ptr 3 to 5). Keras RMSprop:
//     vel = rho * vel + (1 - rho) * g^2
//     centered: ag = rho * ag + (1 - rho) * g; d = vel - ag^2 + epsilon
//     else:     d = vel + epsilon
//     inc = g / sqrt(d) * lr
//     momentum: mom = momentum * mom + inc; w -= mom;  else w -= inc
template <typename TG>
__device__ __forceinline__ void gk_rmsprop_mt(
    const long long* __restrict__ meta,
                                          const long long* __restrict__ chunks,
                                          int n_ptr, float lr, float rho,
                                          float one_minus_rho, float momentum,
                                          float epsilon, int centered,
                                          float wd_factor,
    const float* __restrict__ gscale) {
  const GkMtChunk c = gk_mt_chunk(meta, chunks, n_ptr);
  const TG* g = gk_mt_gptr<TG>(c);
  float* w = gk_mt_ptr(c, 1);
  float* vel = gk_mt_ptr(c, 2);
  float* ag = centered ? gk_mt_ptr(c, 3) : nullptr;
  const int mom_at = centered ? 4 : 3;
  float* mom = n_ptr > mom_at ? gk_mt_ptr(c, mom_at) : nullptr;
  for (long long i = threadIdx.x; i < c.len; i += blockDim.x) {
    float wi = w[i];
    if (c.decay) wi = __fmul_rn(wi, wd_factor);
    const float gi = gk_mt_grad(g, i, gscale, c);
    const float vi = __fadd_rn(__fmul_rn(vel[i], rho),
                               __fmul_rn(__fmul_rn(gi, gi), one_minus_rho));
    vel[i] = vi;
    float d;
    if (ag) {
      const float ai = __fadd_rn(__fmul_rn(ag[i], rho),
                                 __fmul_rn(gi, one_minus_rho));
      ag[i] = ai;
      d = __fadd_rn(__fsub_rn(vi, __fmul_rn(ai, ai)), epsilon);
    } else {
      d = __fadd_rn(vi, epsilon);
    }
    const float inc = __fmul_rn(gi / sqrtf(d), lr);
    if (mom) {
      const float mo = __fadd_rn(__fmul_rn(mom[i], momentum), inc);
      mom[i] = mo;
      wi = __fsub_rn(wi, mo);
    } else {
      wi = __fsub_rn(wi, inc);
    }
    w[i] = wi;
  }
}

// adagrad_mt (entry points adagrad_mt_f32 / _f16 / _bf16)
//   grid = (n_chunks,), block = (MT_THREADS,). meta rows: [g, w,
//   accumulator] (n_ptr 3). Keras Adagrad:
//     acc += g * g;  w -= g / sqrt(acc + epsilon) * lr
template <typename TG>
__device__ __forceinline__ void gk_adagrad_mt(
    const long long* __restrict__ meta,
                                          const long long* __restrict__ chunks,
                                          int n_ptr, float lr, float epsilon,
                                          float wd_factor,
    const float* __restrict__ gscale) {
  const GkMtChunk c = gk_mt_chunk(meta, chunks, n_ptr);
  const TG* g = gk_mt_gptr<TG>(c);
  float* w = gk_mt_ptr(c, 1);
  float* acc = gk_mt_ptr(c, 2);
  for (long long i = threadIdx.x; i < c.len; i += blockDim.x) {
    float wi = w[i];
    if (c.decay) wi = __fmul_rn(wi, wd_factor);
    const float gi = gk_mt_grad(g, i, gscale, c);
    const float ai = __fadd_rn(acc[i], __fmul_rn(gi, gi));
    acc[i] = ai;
    const float inc = __fmul_rn(gi / sqrtf(__fadd_rn(ai, epsilon)), lr);
    w[i] = __fsub_rn(wi, inc);
  }
}

// adamax_mt (entry points adamax_mt_f32 / _f16 / _bf16)
//   grid = (n_chunks,), block = (MT_THREADS,). meta rows: [g, w, m, u]
//   (n_ptr 4). Keras Adamax:
//     m += (g - m) * c1;  u = max(beta_2 * u, |g|)
//     w -= m / (u + epsilon) * alpha,  alpha = lr / (1 - beta_1^t) (host)
template <typename TG>
__device__ __forceinline__ void gk_adamax_mt(
    const long long* __restrict__ meta,
                                         const long long* __restrict__ chunks,
                                         int n_ptr, float alpha, float c1,
                                         float beta_2, float epsilon,
                                         float wd_factor,
    const float* __restrict__ gscale) {
  const GkMtChunk c = gk_mt_chunk(meta, chunks, n_ptr);
  const TG* g = gk_mt_gptr<TG>(c);
  float* w = gk_mt_ptr(c, 1);
  float* m = gk_mt_ptr(c, 2);
  float* u = gk_mt_ptr(c, 3);
  for (long long i = threadIdx.x; i < c.len; i += blockDim.x) {
    float wi = w[i];
    if (c.decay) wi = __fmul_rn(wi, wd_factor);
    const float gi = gk_mt_grad(g, i, gscale, c);
    float mi = m[i];
    mi = __fadd_rn(mi, __fmul_rn(__fsub_rn(gi, mi), c1));
    m[i] = mi;
    const float ui = gk_mt_nanmax(__fmul_rn(u[i], beta_2), fabsf(gi));
    u[i] = ui;
    w[i] = __fsub_rn(wi, __fmul_rn(mi / __fadd_rn(ui, epsilon), alpha));
  }
}

// lion_mt (entry points lion_mt_f32 / _f16 / _bf16)
//   grid = (n_chunks,), block = (MT_THREADS,). meta rows: [g, w, m]
//   (n_ptr 3). Keras Lion:
//     w -= sign(beta_1 * m + (1 - beta_1) * g) * lr
//     m = beta_2 * m + (1 - beta_2) * g
template <typename TG>
__device__ __forceinline__ void gk_lion_mt(
    const long long* __restrict__ meta,
                                       const long long* __restrict__ chunks,
                                       int n_ptr, float lr, float beta_1,
                                       float one_minus_beta_1, float beta_2,
                                       float one_minus_beta_2,
                                       float wd_factor,
    const float* __restrict__ gscale) {
  const GkMtChunk c = gk_mt_chunk(meta, chunks, n_ptr);
  const TG* g = gk_mt_gptr<TG>(c);
  float* w = gk_mt_ptr(c, 1);
  float* m = gk_mt_ptr(c, 2);
  for (long long i = threadIdx.x; i < c.len; i += blockDim.x) {
    float wi = w[i];
    if (c.decay) wi = __fmul_rn(wi, wd_factor);
    const float gi = gk_mt_grad(g, i, gscale, c);
    const float mi = m[i];
    const float d = __fadd_rn(__fmul_rn(mi, beta_1),
                              __fmul_rn(gi, one_minus_beta_1));
    // np.sign: +-1, zero kept (with its sign), NaN kept.
    const float s = d > 0.0f ? 1.0f : (d < 0.0f ? -1.0f : d);
    w[i] = __fsub_rn(wi, __fmul_rn(s, lr));
    m[i] = __fadd_rn(__fmul_rn(mi, beta_2), __fmul_rn(gi, one_minus_beta_2));
  }
}

// nadam_mt (entry points nadam_mt_f32 / _f16 / _bf16)
//   grid = (n_chunks,), block = (MT_THREADS,). meta rows: [g, w, m, v]
//   (n_ptr 4). Keras Nadam, with the host's momentum-schedule scalars
//   a = u_{t+1} / (1 - prod_{t+1}), b = (1 - u_t) / (1 - prod_t),
//   v_scale = 1 / (1 - beta_2^t):
//     m += (g - m) * c1;  v += (g * g - v) * c2
//     w -= (m * a + g * b) / (sqrt(v * v_scale) + epsilon) * lr
template <typename TG>
__device__ __forceinline__ void gk_nadam_mt(
    const long long* __restrict__ meta,
                                        const long long* __restrict__ chunks,
                                        int n_ptr, float lr, float c1,
                                        float c2, float a, float b,
                                        float v_scale, float epsilon,
                                        float wd_factor,
    const float* __restrict__ gscale) {
  const GkMtChunk c = gk_mt_chunk(meta, chunks, n_ptr);
  const TG* g = gk_mt_gptr<TG>(c);
  float* w = gk_mt_ptr(c, 1);
  float* m = gk_mt_ptr(c, 2);
  float* v = gk_mt_ptr(c, 3);
  for (long long i = threadIdx.x; i < c.len; i += blockDim.x) {
    float wi = w[i];
    if (c.decay) wi = __fmul_rn(wi, wd_factor);
    const float gi = gk_mt_grad(g, i, gscale, c);
    float mi = m[i];
    mi = __fadd_rn(mi, __fmul_rn(__fsub_rn(gi, mi), c1));
    float vi = v[i];
    vi = __fadd_rn(vi, __fmul_rn(__fsub_rn(__fmul_rn(gi, gi), vi), c2));
    m[i] = mi;
    v[i] = vi;
    const float m_hat = __fadd_rn(__fmul_rn(mi, a), __fmul_rn(gi, b));
    const float denom = __fadd_rn(sqrtf(__fmul_rn(vi, v_scale)), epsilon);
    w[i] = __fsub_rn(wi, __fmul_rn(m_hat / denom, lr));
  }
}

// mt_sumsq (entry points mt_sumsq_f32 / _f16 / _bf16)
//   grid = (n_chunks,), block = (MT_THREADS,), same tables as the updates.
//   partial[chunk] = sum of g^2 over the chunk's elements (column 0 of
//   meta), each thread strided over the chunk, then a fixed-order tree:
//   deterministic.
template <typename TG>
__device__ __forceinline__ void gk_mt_sumsq(
    const long long* __restrict__ meta,
                                        const long long* __restrict__ chunks,
                                        int n_ptr,
                                        float* __restrict__ partial) {
  __shared__ float red[MT_THREADS];
  const GkMtChunk c = gk_mt_chunk(meta, chunks, n_ptr);
  const TG* g = gk_mt_gptr<TG>(c);
  float acc = 0.0f;
  for (long long i = threadIdx.x; i < c.len; i += blockDim.x) {
    const float gi = gk_f32(g[i]);
    acc = __fadd_rn(acc, __fmul_rn(gi, gi));
  }
  red[threadIdx.x] = acc;
  __syncthreads();
  for (int s = MT_THREADS / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) red[threadIdx.x] += red[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = red[0];
}

#endif  // GKERAS_OPTIMIZERS_CUH
