// GRU step kernels: fused gate non-linearities + state update (forward)
// and the fused gate derivatives (backward), one launch per time step
// (two with reset_after=False, around the candidate's GEMM).
//
// The recurrent GEMMs run with cuBLAS between launches, and the recurrent
// kernel gradient as ONE GEMM over the whole sequence after the reverse
// loop (gkeras/backend/gpu/rnn.py). NumPy twin of the same math:
// gkeras/backend/cpu/rnn.py (_NumpyViewSteps.gru_*).
//
// Layouts (C-contiguous float32, Keras gate order z, r, h):
//   xw     (N, T, 3U)  x @ kernel + input bias, input time order
//   hstate (N, T, U)   state after each step, processing order
//   mask   (N, T) uint8/bool, input time order, or NULL
//   reset_after=True:  gates (N, T, 4U) = [z|r|hh|inner_h + rb_h]
//   reset_after=False: gates (N, T, 3U) = [z|r|hh];
//                      rh (N, T, U) = r * h_{t-1} (* dropout), input order
// `t` is the processing step, `s` the input time index (T-1-t with
// go_backwards). Element-wise launches: one thread per (n, u),
// grid = ceil(N*U / 256), block = 256 (rnn_launch_config in
// gkeras/backend/gpu/rnn.py). Limits: N*U < 2^31; offsets in 64 bits.
// No host headers (NVRTC-compatible).

// Precision: the arrays are float (entry points without a suffix), __half
// (_f16) or __nv_bfloat16 (_bf16), the masks uint8; every step computes in
// float32 (half.cuh) and rounds once per stored value.

#include "half.cuh"

#define GK_ACT_LINEAR 0
#define GK_ACT_TANH 1
#define GK_ACT_SIGMOID 2
#define GK_ACT_RELU 3
#define GK_ACT_HARD_SIGMOID 4

// act(x) for the activation codes of gkeras/backend/cpu/rnn.py (ACT_*).
__device__ __forceinline__ float gk_act(int code, float x) {
  switch (code) {
    case GK_ACT_TANH: return tanhf(x);
    case GK_ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case GK_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case GK_ACT_HARD_SIGMOID: {  // Keras 3: relu6(x + 3) / 6
      float y = x * (1.0f / 6.0f) + 0.5f;
      return y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
    }
    default: return x;
  }
}

// d act / dx written through the output y = act(x).
__device__ __forceinline__ float gk_dact(int code, float y) {
  switch (code) {
    case GK_ACT_TANH: return 1.0f - y * y;
    case GK_ACT_SIGMOID: return y * (1.0f - y);
    case GK_ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case GK_ACT_HARD_SIGMOID: return (y > 0.0f && y < 1.0f) ? (1.0f / 6.0f)
                                                            : 0.0f;
    default: return 1.0f;
  }
}

// dL/dh_t on entry of a reverse step (see lstm.cu, same rule).
template <typename E>
__device__ __forceinline__ float gk_state_grad(
    const E* G, const E* dhs, const E* dhrec, const E* dm,
    long long idx, long long ost, bool valid, int zero_out) {
  float g = gk_f32(G[idx]);
  if (dhs && (valid || !zero_out)) g += gk_f32(dhs[ost]);
  if (dhrec)
    g += dm ? gk_f32(dhrec[idx]) * gk_f32(dm[idx]) : gk_f32(dhrec[idx]);
  return g;
}

template <typename E>
__device__ __forceinline__ float gk_prev_state(const E* h0,
                                               const E* hstate,
                                               long long idx, long long ost,
                                               int t, int U) {
  return t == 0 ? gk_f32(h0[idx]) : gk_f32(hstate[ost - U]);
}

// gru_fwd_step (reset_after=True): one forward step.
//   inner (N, 3U) (h_{t-1} * dropout) @ recurrent_kernel, from cuBLAS
//   rb    (3U) recurrent bias or NULL;  h0 (N, U) initial state
//   dm    (N, U) shared recurrent dropout mask or NULL
//   hd    (N, U) out: h_t * dm for the next GEMM (NULL if dm NULL)
// Writes gates[:, t] = [z|r|hh|inner_h + rb_h] and hstate[:, t].
// grid: (ceil(N*U/256)), block: (256).
template <typename E>
__device__ __forceinline__ void gk_gru_fwd_step(
    const E* __restrict__ xw, const E* __restrict__ inner,
    const E* __restrict__ rb, const E* __restrict__ h0,
    const unsigned char* __restrict__ mask, const E* __restrict__ dm,
    E* __restrict__ gates, E* __restrict__ hstate,
    E* __restrict__ hd, int N, int T, int U, int t, int s, int act,
    int ract) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)N * U) return;
  long long n = idx / U, u = idx - n * U;
  const E* x = xw + (n * T + s) * 3LL * U;
  const E* in = inner + n * 3LL * U;
  long long ost = (n * T + t) * U + u;
  float hp = gk_prev_state(h0, hstate, idx, ost, t, U);
  float iz = gk_f32(in[u]), ir = gk_f32(in[U + u]), ih = gk_f32(in[2 * U + u]);
  if (rb) {
    iz += gk_f32(rb[u]);
    ir += gk_f32(rb[U + u]);
    ih += gk_f32(rb[2 * U + u]);
  }
  float z = gk_act(ract, gk_f32(x[u]) + iz);
  float r = gk_act(ract, gk_f32(x[U + u]) + ir);
  float hh = gk_act(act, gk_f32(x[2 * U + u]) + r * ih);
  E* gt = gates + (n * T + t) * 4LL * U;
  gt[u] = gk_cast<E>(z);
  gt[U + u] = gk_cast<E>(r);
  gt[2 * U + u] = gk_cast<E>(hh);
  gt[3 * U + u] = gk_cast<E>(ih);
  float h = z * (hp - hh) + hh;
  if (mask && !mask[n * T + s]) h = hp;
  hstate[ost] = gk_cast<E>(h);
  if (hd) hd[idx] = gk_cast<E>(h * gk_f32(dm[idx]));
}

// gru_bwd_step (reset_after=True): one reverse step (t = T-1 down to 0).
//   dhs (N, T, U) or NULL;  dhrec (N, U) dinner_{t+1} @ R^T or NULL
//   dm (N, U) or NULL;  G (N, U) in/out carried dL/dh (init dh_T)
//   dxw (N, T, 3U) out at s: [dz, dr, dhh] pre-activation gradients
//   dinner (N, T, 3U) out at s: gradient of inner = [dz, dr, dhh * r]
// Masked rows: zeros, G carried. Valid rows: G <- G * z (direct path).
// grid: (ceil(N*U/256)), block: (256).
template <typename E>
__device__ __forceinline__ void gk_gru_bwd_step(
    const E* __restrict__ gates, const E* __restrict__ hstate,
    const E* __restrict__ h0, const E* __restrict__ dhs,
    const E* __restrict__ dhrec, const E* __restrict__ dm,
    const unsigned char* __restrict__ mask, E* __restrict__ G,
    E* __restrict__ dxw, E* __restrict__ dinner, int N, int T,
    int U, int t, int s, int zero_out, int act, int ract) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)N * U) return;
  long long n = idx / U, u = idx - n * U;
  long long ost = (n * T + t) * U + u;
  bool valid = !mask || mask[n * T + s];
  float g = gk_state_grad(G, dhs, dhrec, dm, idx, ost, valid, zero_out);
  E* dx = dxw + (n * T + s) * 3LL * U;
  E* di = dinner + (n * T + s) * 3LL * U;
  if (!valid) {
    dx[u] = gk_cast<E>(0.0f);
    dx[U + u] = gk_cast<E>(0.0f);
    dx[2 * U + u] = gk_cast<E>(0.0f);
    di[u] = gk_cast<E>(0.0f);
    di[U + u] = gk_cast<E>(0.0f);
    di[2 * U + u] = gk_cast<E>(0.0f);
    G[idx] = gk_cast<E>(g);
    return;
  }
  const E* gt = gates + (n * T + t) * 4LL * U;
  float z = gk_f32(gt[u]), r = gk_f32(gt[U + u]);
  float hh = gk_f32(gt[2 * U + u]), ih = gk_f32(gt[3 * U + u]);
  float hp = gk_prev_state(h0, hstate, idx, ost, t, U);
  float dzp = g * (hp - hh) * gk_dact(ract, z);
  float dah = g * (1.0f - z) * gk_dact(act, hh);
  float drp = dah * ih * gk_dact(ract, r);
  dx[u] = gk_cast<E>(dzp);
  dx[U + u] = gk_cast<E>(drp);
  dx[2 * U + u] = gk_cast<E>(dah);
  di[u] = gk_cast<E>(dzp);
  di[U + u] = gk_cast<E>(drp);
  di[2 * U + u] = gk_cast<E>(dah * r);
  G[idx] = gk_cast<E>(g * z);
}

// gru_fwd_gates (reset_after=False, pass 1 of a step): z and r.
//   rec_zr (N, 2U) (h_{t-1} * dropout) @ R[:, :2U], from cuBLAS
//   dmh (N, U) dropout mask of the candidate's GEMM input, or NULL
// Writes gates[:, t, :2U] = [z|r] and rh[:, s] = r * h_{t-1} * dmh, the
// input of the candidate GEMM rh @ R[:, 2U:] that the wrapper runs next.
// grid: (ceil(N*U/256)), block: (256).
template <typename E>
__device__ __forceinline__ void gk_gru_fwd_gates(
    const E* __restrict__ xw, const E* __restrict__ rec_zr,
    const E* __restrict__ h0, const E* __restrict__ hstate,
    const E* __restrict__ dmh, E* __restrict__ gates,
    E* __restrict__ rh, int N, int T, int U, int t, int s, int ract) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)N * U) return;
  long long n = idx / U, u = idx - n * U;
  const E* x = xw + (n * T + s) * 3LL * U;
  const E* r2 = rec_zr + n * 2LL * U;
  long long ost = (n * T + t) * U + u;
  float hp = gk_prev_state(h0, hstate, idx, ost, t, U);
  float z = gk_act(ract, gk_f32(x[u]) + gk_f32(r2[u]));
  float r = gk_act(ract, gk_f32(x[U + u]) + gk_f32(r2[U + u]));
  E* gt = gates + (n * T + t) * 3LL * U;
  gt[u] = gk_cast<E>(z);
  gt[U + u] = gk_cast<E>(r);
  float v = r * hp;
  if (dmh) v *= gk_f32(dmh[idx]);
  rh[(n * T + s) * U + u] = gk_cast<E>(v);
}

// gru_fwd_update (reset_after=False, pass 2): candidate + state update.
//   rec_h (N, U) rh_t @ R[:, 2U:], from cuBLAS;  dm, hd as gru_fwd_step
// Writes gates[:, t, 2U:] = hh and hstate[:, t].
// grid: (ceil(N*U/256)), block: (256).
template <typename E>
__device__ __forceinline__ void gk_gru_fwd_update(
    const E* __restrict__ xw, const E* __restrict__ rec_h,
    const E* __restrict__ h0, const unsigned char* __restrict__ mask,
    const E* __restrict__ dm, E* __restrict__ gates,
    E* __restrict__ hstate, E* __restrict__ hd, int N, int T, int U,
    int t, int s, int act) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)N * U) return;
  long long n = idx / U, u = idx - n * U;
  const E* x = xw + (n * T + s) * 3LL * U;
  long long ost = (n * T + t) * U + u;
  float hp = gk_prev_state(h0, hstate, idx, ost, t, U);
  E* gt = gates + (n * T + t) * 3LL * U;
  float hh = gk_act(act, gk_f32(x[2 * U + u]) + gk_f32(rec_h[idx]));
  gt[2 * U + u] = gk_cast<E>(hh);
  float h = gk_f32(gt[u]) * (hp - hh) + hh;
  if (mask && !mask[n * T + s]) h = hp;
  hstate[ost] = gk_cast<E>(h);
  if (hd) hd[idx] = gk_cast<E>(h * gk_f32(dm[idx]));
}

// gru_bwd_update (reset_after=False, reverse pass 1 of a step).
//   dhs, dhrec (= [dz|dr]_{t+1} @ R[:, :2U]^T), dm, G as gru_bwd_step
// Writes dxw[:, s] = [dz, 0, dhh] (dr comes from gru_bwd_gates after the
// wrapper's GEMM drh = dhh @ R[:, 2U:]^T); valid rows G <- G * z.
// grid: (ceil(N*U/256)), block: (256).
template <typename E>
__device__ __forceinline__ void gk_gru_bwd_update(
    const E* __restrict__ gates, const E* __restrict__ hstate,
    const E* __restrict__ h0, const E* __restrict__ dhs,
    const E* __restrict__ dhrec, const E* __restrict__ dm,
    const unsigned char* __restrict__ mask, E* __restrict__ G,
    E* __restrict__ dxw, int N, int T, int U, int t, int s,
    int zero_out, int act, int ract) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)N * U) return;
  long long n = idx / U, u = idx - n * U;
  long long ost = (n * T + t) * U + u;
  bool valid = !mask || mask[n * T + s];
  float g = gk_state_grad(G, dhs, dhrec, dm, idx, ost, valid, zero_out);
  E* dx = dxw + (n * T + s) * 3LL * U;
  if (!valid) {
    dx[u] = gk_cast<E>(0.0f);
    dx[U + u] = gk_cast<E>(0.0f);
    dx[2 * U + u] = gk_cast<E>(0.0f);
    G[idx] = gk_cast<E>(g);
    return;
  }
  const E* gt = gates + (n * T + t) * 3LL * U;
  float z = gk_f32(gt[u]), hh = gk_f32(gt[2 * U + u]);
  float hp = gk_prev_state(h0, hstate, idx, ost, t, U);
  dx[u] = gk_cast<E>(g * (hp - hh) * gk_dact(ract, z));
  dx[U + u] = gk_cast<E>(0.0f);
  dx[2 * U + u] = gk_cast<E>(g * (1.0f - z) * gk_dact(act, hh));
  G[idx] = gk_cast<E>(g * z);
}

// gru_bwd_gates (reset_after=False, reverse pass 2 of a step).
//   drh (N, U) dL/d(rh_t) = dhh @ R[:, 2U:]^T from cuBLAS;  dmh or NULL
// Writes dxw[:, s, U:2U] = dr (pre-activation); valid rows
// G += drh * r * dmh.
// grid: (ceil(N*U/256)), block: (256).
template <typename E>
__device__ __forceinline__ void gk_gru_bwd_gates(
    const E* __restrict__ gates, const E* __restrict__ hstate,
    const E* __restrict__ h0, const E* __restrict__ drh,
    const E* __restrict__ dmh, const unsigned char* __restrict__ mask,
    E* __restrict__ G, E* __restrict__ dxw, int N, int T, int U,
    int t, int s, int ract) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)N * U) return;
  long long n = idx / U, u = idx - n * U;
  long long ost = (n * T + t) * U + u;
  E* dx = dxw + (n * T + s) * 3LL * U;
  if (mask && !mask[n * T + s]) {
    dx[U + u] = gk_cast<E>(0.0f);
    return;
  }
  float r = gk_f32(gates[(n * T + t) * 3LL * U + U + u]);
  float hp = gk_prev_state(h0, hstate, idx, ost, t, U);
  float m = dmh ? gk_f32(dmh[idx]) : 1.0f;
  float d = gk_f32(drh[idx]) * m;
  dx[U + u] = gk_cast<E>(d * hp * gk_dact(ract, r));
  G[idx] = gk_cast<E>(gk_f32(G[idx]) + d * r);
}

// ---- entry points: the templates above for float (no suffix), __half
// (_f16) and __nv_bfloat16 (_bf16); layouts and launches as above.

// gru_fwd_step: gk_gru_fwd_step, float32 data.
extern "C" __global__ void gru_fwd_step(
    const float* __restrict__ xw, const float* __restrict__ inner,
    const float* __restrict__ rb, const float* __restrict__ h0,
    const unsigned char* __restrict__ mask, const float* __restrict__ dm,
    float* __restrict__ gates, float* __restrict__ hstate,
    float* __restrict__ hd, int N, int T, int U, int t, int s, int act,
    int ract) {
  gk_gru_fwd_step<float>(xw, inner, rb, h0, mask, dm, gates, hstate, hd, N, T,
      U, t, s, act, ract);
}

#if GK_F16
// gru_fwd_step_f16: gk_gru_fwd_step, float16 data.
extern "C" __global__ void gru_fwd_step_f16(
    const __half* __restrict__ xw, const __half* __restrict__ inner,
    const __half* __restrict__ rb, const __half* __restrict__ h0,
    const unsigned char* __restrict__ mask, const __half* __restrict__ dm,
    __half* __restrict__ gates, __half* __restrict__ hstate,
    __half* __restrict__ hd, int N, int T, int U, int t, int s, int act,
    int ract) {
  gk_gru_fwd_step<__half>(xw, inner, rb, h0, mask, dm, gates, hstate, hd, N,
      T, U, t, s, act, ract);
}
#endif

#if GK_BF16
// gru_fwd_step_bf16: gk_gru_fwd_step, bfloat16 data.
extern "C" __global__ void gru_fwd_step_bf16(
    const __nv_bfloat16* __restrict__ xw,
    const __nv_bfloat16* __restrict__ inner,
    const __nv_bfloat16* __restrict__ rb,
    const __nv_bfloat16* __restrict__ h0,
    const unsigned char* __restrict__ mask,
    const __nv_bfloat16* __restrict__ dm, __nv_bfloat16* __restrict__ gates,
    __nv_bfloat16* __restrict__ hstate, __nv_bfloat16* __restrict__ hd,
    int N, int T, int U, int t, int s, int act, int ract) {
  gk_gru_fwd_step<__nv_bfloat16>(xw, inner, rb, h0, mask, dm, gates, hstate,
      hd, N, T, U, t, s, act, ract);
}
#endif

// gru_bwd_step: gk_gru_bwd_step, float32 data.
extern "C" __global__ void gru_bwd_step(
    const float* __restrict__ gates, const float* __restrict__ hstate,
    const float* __restrict__ h0, const float* __restrict__ dhs,
    const float* __restrict__ dhrec, const float* __restrict__ dm,
    const unsigned char* __restrict__ mask, float* __restrict__ G,
    float* __restrict__ dxw, float* __restrict__ dinner, int N, int T,
    int U, int t, int s, int zero_out, int act, int ract) {
  gk_gru_bwd_step<float>(gates, hstate, h0, dhs, dhrec, dm, mask, G, dxw,
      dinner, N, T, U, t, s, zero_out, act, ract);
}

#if GK_F16
// gru_bwd_step_f16: gk_gru_bwd_step, float16 data.
extern "C" __global__ void gru_bwd_step_f16(
    const __half* __restrict__ gates, const __half* __restrict__ hstate,
    const __half* __restrict__ h0, const __half* __restrict__ dhs,
    const __half* __restrict__ dhrec, const __half* __restrict__ dm,
    const unsigned char* __restrict__ mask, __half* __restrict__ G,
    __half* __restrict__ dxw, __half* __restrict__ dinner, int N, int T,
    int U, int t, int s, int zero_out, int act, int ract) {
  gk_gru_bwd_step<__half>(gates, hstate, h0, dhs, dhrec, dm, mask, G, dxw,
      dinner, N, T, U, t, s, zero_out, act, ract);
}
#endif

#if GK_BF16
// gru_bwd_step_bf16: gk_gru_bwd_step, bfloat16 data.
extern "C" __global__ void gru_bwd_step_bf16(
    const __nv_bfloat16* __restrict__ gates,
    const __nv_bfloat16* __restrict__ hstate,
    const __nv_bfloat16* __restrict__ h0,
    const __nv_bfloat16* __restrict__ dhs,
    const __nv_bfloat16* __restrict__ dhrec,
    const __nv_bfloat16* __restrict__ dm,
    const unsigned char* __restrict__ mask, __nv_bfloat16* __restrict__ G,
    __nv_bfloat16* __restrict__ dxw, __nv_bfloat16* __restrict__ dinner,
    int N, int T, int U, int t, int s, int zero_out, int act, int ract) {
  gk_gru_bwd_step<__nv_bfloat16>(gates, hstate, h0, dhs, dhrec, dm, mask, G,
      dxw, dinner, N, T, U, t, s, zero_out, act, ract);
}
#endif

// gru_fwd_gates: gk_gru_fwd_gates, float32 data.
extern "C" __global__ void gru_fwd_gates(
    const float* __restrict__ xw, const float* __restrict__ rec_zr,
    const float* __restrict__ h0, const float* __restrict__ hstate,
    const float* __restrict__ dmh, float* __restrict__ gates,
    float* __restrict__ rh, int N, int T, int U, int t, int s, int ract) {
  gk_gru_fwd_gates<float>(xw, rec_zr, h0, hstate, dmh, gates, rh, N, T, U, t,
      s, ract);
}

#if GK_F16
// gru_fwd_gates_f16: gk_gru_fwd_gates, float16 data.
extern "C" __global__ void gru_fwd_gates_f16(
    const __half* __restrict__ xw, const __half* __restrict__ rec_zr,
    const __half* __restrict__ h0, const __half* __restrict__ hstate,
    const __half* __restrict__ dmh, __half* __restrict__ gates,
    __half* __restrict__ rh, int N, int T, int U, int t, int s, int ract) {
  gk_gru_fwd_gates<__half>(xw, rec_zr, h0, hstate, dmh, gates, rh, N, T, U, t,
      s, ract);
}
#endif

#if GK_BF16
// gru_fwd_gates_bf16: gk_gru_fwd_gates, bfloat16 data.
extern "C" __global__ void gru_fwd_gates_bf16(
    const __nv_bfloat16* __restrict__ xw,
    const __nv_bfloat16* __restrict__ rec_zr,
    const __nv_bfloat16* __restrict__ h0,
    const __nv_bfloat16* __restrict__ hstate,
    const __nv_bfloat16* __restrict__ dmh,
    __nv_bfloat16* __restrict__ gates, __nv_bfloat16* __restrict__ rh,
    int N, int T, int U, int t, int s, int ract) {
  gk_gru_fwd_gates<__nv_bfloat16>(xw, rec_zr, h0, hstate, dmh, gates, rh, N,
      T, U, t, s, ract);
}
#endif

// gru_fwd_update: gk_gru_fwd_update, float32 data.
extern "C" __global__ void gru_fwd_update(
    const float* __restrict__ xw, const float* __restrict__ rec_h,
    const float* __restrict__ h0, const unsigned char* __restrict__ mask,
    const float* __restrict__ dm, float* __restrict__ gates,
    float* __restrict__ hstate, float* __restrict__ hd, int N, int T, int U,
    int t, int s, int act) {
  gk_gru_fwd_update<float>(xw, rec_h, h0, mask, dm, gates, hstate, hd, N, T,
      U, t, s, act);
}

#if GK_F16
// gru_fwd_update_f16: gk_gru_fwd_update, float16 data.
extern "C" __global__ void gru_fwd_update_f16(
    const __half* __restrict__ xw, const __half* __restrict__ rec_h,
    const __half* __restrict__ h0, const unsigned char* __restrict__ mask,
    const __half* __restrict__ dm, __half* __restrict__ gates,
    __half* __restrict__ hstate, __half* __restrict__ hd, int N, int T,
    int U, int t, int s, int act) {
  gk_gru_fwd_update<__half>(xw, rec_h, h0, mask, dm, gates, hstate, hd, N, T,
      U, t, s, act);
}
#endif

#if GK_BF16
// gru_fwd_update_bf16: gk_gru_fwd_update, bfloat16 data.
extern "C" __global__ void gru_fwd_update_bf16(
    const __nv_bfloat16* __restrict__ xw,
    const __nv_bfloat16* __restrict__ rec_h,
    const __nv_bfloat16* __restrict__ h0,
    const unsigned char* __restrict__ mask,
    const __nv_bfloat16* __restrict__ dm, __nv_bfloat16* __restrict__ gates,
    __nv_bfloat16* __restrict__ hstate, __nv_bfloat16* __restrict__ hd,
    int N, int T, int U, int t, int s, int act) {
  gk_gru_fwd_update<__nv_bfloat16>(xw, rec_h, h0, mask, dm, gates, hstate, hd,
      N, T, U, t, s, act);
}
#endif

// gru_bwd_update: gk_gru_bwd_update, float32 data.
extern "C" __global__ void gru_bwd_update(
    const float* __restrict__ gates, const float* __restrict__ hstate,
    const float* __restrict__ h0, const float* __restrict__ dhs,
    const float* __restrict__ dhrec, const float* __restrict__ dm,
    const unsigned char* __restrict__ mask, float* __restrict__ G,
    float* __restrict__ dxw, int N, int T, int U, int t, int s,
    int zero_out, int act, int ract) {
  gk_gru_bwd_update<float>(gates, hstate, h0, dhs, dhrec, dm, mask, G, dxw, N,
      T, U, t, s, zero_out, act, ract);
}

#if GK_F16
// gru_bwd_update_f16: gk_gru_bwd_update, float16 data.
extern "C" __global__ void gru_bwd_update_f16(
    const __half* __restrict__ gates, const __half* __restrict__ hstate,
    const __half* __restrict__ h0, const __half* __restrict__ dhs,
    const __half* __restrict__ dhrec, const __half* __restrict__ dm,
    const unsigned char* __restrict__ mask, __half* __restrict__ G,
    __half* __restrict__ dxw, int N, int T, int U, int t, int s,
    int zero_out, int act, int ract) {
  gk_gru_bwd_update<__half>(gates, hstate, h0, dhs, dhrec, dm, mask, G, dxw,
      N, T, U, t, s, zero_out, act, ract);
}
#endif

#if GK_BF16
// gru_bwd_update_bf16: gk_gru_bwd_update, bfloat16 data.
extern "C" __global__ void gru_bwd_update_bf16(
    const __nv_bfloat16* __restrict__ gates,
    const __nv_bfloat16* __restrict__ hstate,
    const __nv_bfloat16* __restrict__ h0,
    const __nv_bfloat16* __restrict__ dhs,
    const __nv_bfloat16* __restrict__ dhrec,
    const __nv_bfloat16* __restrict__ dm,
    const unsigned char* __restrict__ mask, __nv_bfloat16* __restrict__ G,
    __nv_bfloat16* __restrict__ dxw, int N, int T, int U, int t, int s,
    int zero_out, int act, int ract) {
  gk_gru_bwd_update<__nv_bfloat16>(gates, hstate, h0, dhs, dhrec, dm, mask, G,
      dxw, N, T, U, t, s, zero_out, act, ract);
}
#endif

// gru_bwd_gates: gk_gru_bwd_gates, float32 data.
extern "C" __global__ void gru_bwd_gates(
    const float* __restrict__ gates, const float* __restrict__ hstate,
    const float* __restrict__ h0, const float* __restrict__ drh,
    const float* __restrict__ dmh, const unsigned char* __restrict__ mask,
    float* __restrict__ G, float* __restrict__ dxw, int N, int T, int U,
    int t, int s, int ract) {
  gk_gru_bwd_gates<float>(gates, hstate, h0, drh, dmh, mask, G, dxw, N, T, U,
      t, s, ract);
}

#if GK_F16
// gru_bwd_gates_f16: gk_gru_bwd_gates, float16 data.
extern "C" __global__ void gru_bwd_gates_f16(
    const __half* __restrict__ gates, const __half* __restrict__ hstate,
    const __half* __restrict__ h0, const __half* __restrict__ drh,
    const __half* __restrict__ dmh, const unsigned char* __restrict__ mask,
    __half* __restrict__ G, __half* __restrict__ dxw, int N, int T, int U,
    int t, int s, int ract) {
  gk_gru_bwd_gates<__half>(gates, hstate, h0, drh, dmh, mask, G, dxw, N, T, U,
      t, s, ract);
}
#endif

#if GK_BF16
// gru_bwd_gates_bf16: gk_gru_bwd_gates, bfloat16 data.
extern "C" __global__ void gru_bwd_gates_bf16(
    const __nv_bfloat16* __restrict__ gates,
    const __nv_bfloat16* __restrict__ hstate,
    const __nv_bfloat16* __restrict__ h0,
    const __nv_bfloat16* __restrict__ drh,
    const __nv_bfloat16* __restrict__ dmh,
    const unsigned char* __restrict__ mask, __nv_bfloat16* __restrict__ G,
    __nv_bfloat16* __restrict__ dxw, int N, int T, int U, int t, int s,
    int ract) {
  gk_gru_bwd_gates<__nv_bfloat16>(gates, hstate, h0, drh, dmh, mask, G, dxw,
      N, T, U, t, s, ract);
}
#endif
