// LSTM step kernels: fused gate non-linearities + state update (forward)
// and the fused gate derivatives (backward), one launch per time step.
//
// The recurrent GEMMs are not here: the wrapper (gkeras/backend/gpu/rnn.py)
// runs them with cuBLAS (cupy.matmul) between launches, and the recurrent
// kernel gradient as ONE GEMM over the whole sequence after the reverse
// loop. NumPy twin of the same math: gkeras/backend/cpu/rnn.py
// (_NumpyViewSteps.lstm_fwd / lstm_bwd).
//
// Layouts (all C-contiguous float32, Keras gate order i, f, c, o):
//   xw     (N, T, 4U)  x @ kernel + bias, input time order
//   gates  (N, T, 4U)  activated gates [i|f|g|o], processing order
//   hstate, cstate (N, T, U)  states after each step, processing order
//   mask   (N, T) uint8/bool, input time order, or NULL (no masking)
// `t` is the processing step, `s` the input time index it reads
// (s = T-1-t with go_backwards). Element-wise launches: one thread per
// (n, u), grid = ceil(N*U / 256), block = 256 (rnn_launch_config in
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

// dL/dh_t on entry of a reverse step: the carried G, plus the output
// gradient (dropped at masked steps with zero_output_for_mask), plus the
// recurrent-GEMM term dz_{t+1} @ R^T (times the shared dropout mask).
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

// lstm_fwd_step: one forward step.
//   rec  (N, 4U)  (h_{t-1} * dropout) @ recurrent_kernel, from cuBLAS
//   h0, c0 (N, U) initial states (read when t == 0)
//   dm   (N, U)   shared recurrent dropout mask, or NULL
//   hd   (N, U)   out: h_t * dm, the next GEMM's input (NULL if dm NULL)
// Writes gates[:, t], hstate[:, t], cstate[:, t]; masked rows carry the
// previous states through.
// grid: (ceil(N*U/256)), block: (256).
template <typename E>
__device__ __forceinline__ void gk_lstm_fwd_step(
    const E* __restrict__ xw, const E* __restrict__ rec,
    const E* __restrict__ h0, const E* __restrict__ c0,
    const unsigned char* __restrict__ mask, const E* __restrict__ dm,
    E* __restrict__ gates, E* __restrict__ hstate,
    E* __restrict__ cstate, E* __restrict__ hd, int N, int T, int U,
    int t, int s, int act, int ract) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)N * U) return;
  long long n = idx / U, u = idx - n * U;
  const E* x = xw + (n * T + s) * 4LL * U;
  const E* r = rec + n * 4LL * U;
  long long ost = (n * T + t) * U + u;
  float hp, cp;
  if (t == 0) {
    hp = gk_f32(h0[idx]);
    cp = gk_f32(c0[idx]);
  } else {
    hp = gk_f32(hstate[ost - U]);
    cp = gk_f32(cstate[ost - U]);
  }
  float i = gk_act(ract, gk_f32(x[u]) + gk_f32(r[u]));
  float f = gk_act(ract, gk_f32(x[U + u]) + gk_f32(r[U + u]));
  float g = gk_act(act, gk_f32(x[2 * U + u]) + gk_f32(r[2 * U + u]));
  float o = gk_act(ract, gk_f32(x[3 * U + u]) + gk_f32(r[3 * U + u]));
  E* gt = gates + (n * T + t) * 4LL * U;
  gt[u] = gk_cast<E>(i);
  gt[U + u] = gk_cast<E>(f);
  gt[2 * U + u] = gk_cast<E>(g);
  gt[3 * U + u] = gk_cast<E>(o);
  float c = f * cp + i * g;
  float h = o * gk_act(act, c);
  if (mask && !mask[n * T + s]) {
    c = cp;
    h = hp;
  }
  hstate[ost] = gk_cast<E>(h);
  cstate[ost] = gk_cast<E>(c);
  if (hd) hd[idx] = gk_cast<E>(h * gk_f32(dm[idx]));
}

// lstm_bwd_step: one reverse step (call for t = T-1 down to 0).
//   dhs   (N, T, U) gradient of the outputs (processing order) or NULL
//   dhrec (N, U) dz_{t+1} @ R^T from cuBLAS, NULL at t = T-1
//   dm    (N, U) shared recurrent dropout mask or NULL
//   G, Dc (N, U) in/out: carried dL/dh, dL/dc (init dh_T, dc_T)
//   dxw   (N, T, 4U) out: dL/dz at input time s (zero on masked rows)
// After the call G holds only the parts of dL/dh_{t-1} not going through
// the recurrent GEMM (0 on valid rows, the carried G on masked rows).
// grid: (ceil(N*U/256)), block: (256).
template <typename E>
__device__ __forceinline__ void gk_lstm_bwd_step(
    const E* __restrict__ gates, const E* __restrict__ cstate,
    const E* __restrict__ c0, const E* __restrict__ dhs,
    const E* __restrict__ dhrec, const E* __restrict__ dm,
    const unsigned char* __restrict__ mask, E* __restrict__ G,
    E* __restrict__ Dc, E* __restrict__ dxw, int N, int T, int U,
    int t, int s, int zero_out, int act, int ract) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)N * U) return;
  long long n = idx / U, u = idx - n * U;
  long long ost = (n * T + t) * U + u;
  bool valid = !mask || mask[n * T + s];
  float g = gk_state_grad(G, dhs, dhrec, dm, idx, ost, valid, zero_out);
  E* dz = dxw + (n * T + s) * 4LL * U;
  if (!valid) {
    dz[u] = gk_cast<E>(0.0f);
    dz[U + u] = gk_cast<E>(0.0f);
    dz[2 * U + u] = gk_cast<E>(0.0f);
    dz[3 * U + u] = gk_cast<E>(0.0f);
    G[idx] = gk_cast<E>(g);
    return;
  }
  const E* gt = gates + (n * T + t) * 4LL * U;
  float i = gk_f32(gt[u]), f = gk_f32(gt[U + u]);
  float gg = gk_f32(gt[2 * U + u]), o = gk_f32(gt[3 * U + u]);
  float c = gk_f32(cstate[ost]);
  float cp = t == 0 ? gk_f32(c0[idx]) : gk_f32(cstate[ost - U]);
  float tc = gk_act(act, c);
  float dct = gk_f32(Dc[idx]) + g * o * gk_dact(act, tc);
  dz[u] = gk_cast<E>(dct * gg * gk_dact(ract, i));
  dz[U + u] = gk_cast<E>(dct * cp * gk_dact(ract, f));
  dz[2 * U + u] = gk_cast<E>(dct * i * gk_dact(act, gg));
  dz[3 * U + u] = gk_cast<E>(g * tc * gk_dact(ract, o));
  Dc[idx] = gk_cast<E>(dct * f);
  G[idx] = gk_cast<E>(0.0f);
}

// ---- entry points: the templates above for float (no suffix), __half
// (_f16) and __nv_bfloat16 (_bf16); layouts and launches as above.

// lstm_fwd_step: gk_lstm_fwd_step, float32 data.
extern "C" __global__ void lstm_fwd_step(
    const float* __restrict__ xw, const float* __restrict__ rec,
    const float* __restrict__ h0, const float* __restrict__ c0,
    const unsigned char* __restrict__ mask, const float* __restrict__ dm,
    float* __restrict__ gates, float* __restrict__ hstate,
    float* __restrict__ cstate, float* __restrict__ hd, int N, int T, int U,
    int t, int s, int act, int ract) {
  gk_lstm_fwd_step<float>(xw, rec, h0, c0, mask, dm, gates, hstate, cstate,
      hd, N, T, U, t, s, act, ract);
}

#if GK_F16
// lstm_fwd_step_f16: gk_lstm_fwd_step, float16 data.
extern "C" __global__ void lstm_fwd_step_f16(
    const __half* __restrict__ xw, const __half* __restrict__ rec,
    const __half* __restrict__ h0, const __half* __restrict__ c0,
    const unsigned char* __restrict__ mask, const __half* __restrict__ dm,
    __half* __restrict__ gates, __half* __restrict__ hstate,
    __half* __restrict__ cstate, __half* __restrict__ hd, int N, int T,
    int U, int t, int s, int act, int ract) {
  gk_lstm_fwd_step<__half>(xw, rec, h0, c0, mask, dm, gates, hstate, cstate,
      hd, N, T, U, t, s, act, ract);
}
#endif

#if GK_BF16
// lstm_fwd_step_bf16: gk_lstm_fwd_step, bfloat16 data.
extern "C" __global__ void lstm_fwd_step_bf16(
    const __nv_bfloat16* __restrict__ xw,
    const __nv_bfloat16* __restrict__ rec,
    const __nv_bfloat16* __restrict__ h0,
    const __nv_bfloat16* __restrict__ c0,
    const unsigned char* __restrict__ mask,
    const __nv_bfloat16* __restrict__ dm, __nv_bfloat16* __restrict__ gates,
    __nv_bfloat16* __restrict__ hstate, __nv_bfloat16* __restrict__ cstate,
    __nv_bfloat16* __restrict__ hd, int N, int T, int U, int t, int s,
    int act, int ract) {
  gk_lstm_fwd_step<__nv_bfloat16>(xw, rec, h0, c0, mask, dm, gates, hstate,
      cstate, hd, N, T, U, t, s, act, ract);
}
#endif

// lstm_bwd_step: gk_lstm_bwd_step, float32 data.
extern "C" __global__ void lstm_bwd_step(
    const float* __restrict__ gates, const float* __restrict__ cstate,
    const float* __restrict__ c0, const float* __restrict__ dhs,
    const float* __restrict__ dhrec, const float* __restrict__ dm,
    const unsigned char* __restrict__ mask, float* __restrict__ G,
    float* __restrict__ Dc, float* __restrict__ dxw, int N, int T, int U,
    int t, int s, int zero_out, int act, int ract) {
  gk_lstm_bwd_step<float>(gates, cstate, c0, dhs, dhrec, dm, mask, G, Dc, dxw,
      N, T, U, t, s, zero_out, act, ract);
}

#if GK_F16
// lstm_bwd_step_f16: gk_lstm_bwd_step, float16 data.
extern "C" __global__ void lstm_bwd_step_f16(
    const __half* __restrict__ gates, const __half* __restrict__ cstate,
    const __half* __restrict__ c0, const __half* __restrict__ dhs,
    const __half* __restrict__ dhrec, const __half* __restrict__ dm,
    const unsigned char* __restrict__ mask, __half* __restrict__ G,
    __half* __restrict__ Dc, __half* __restrict__ dxw, int N, int T, int U,
    int t, int s, int zero_out, int act, int ract) {
  gk_lstm_bwd_step<__half>(gates, cstate, c0, dhs, dhrec, dm, mask, G, Dc,
      dxw, N, T, U, t, s, zero_out, act, ract);
}
#endif

#if GK_BF16
// lstm_bwd_step_bf16: gk_lstm_bwd_step, bfloat16 data.
extern "C" __global__ void lstm_bwd_step_bf16(
    const __nv_bfloat16* __restrict__ gates,
    const __nv_bfloat16* __restrict__ cstate,
    const __nv_bfloat16* __restrict__ c0,
    const __nv_bfloat16* __restrict__ dhs,
    const __nv_bfloat16* __restrict__ dhrec,
    const __nv_bfloat16* __restrict__ dm,
    const unsigned char* __restrict__ mask, __nv_bfloat16* __restrict__ G,
    __nv_bfloat16* __restrict__ Dc, __nv_bfloat16* __restrict__ dxw, int N,
    int T, int U, int t, int s, int zero_out, int act, int ract) {
  gk_lstm_bwd_step<__nv_bfloat16>(gates, cstate, c0, dhs, dhrec, dm, mask, G,
      Dc, dxw, N, T, U, t, s, zero_out, act, ract);
}
#endif
