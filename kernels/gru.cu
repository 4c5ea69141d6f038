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
__device__ __forceinline__ float gk_state_grad(
    const float* G, const float* dhs, const float* dhrec, const float* dm,
    long long idx, long long ost, bool valid, int zero_out) {
  float g = G[idx];
  if (dhs && (valid || !zero_out)) g += dhs[ost];
  if (dhrec) g += dm ? dhrec[idx] * dm[idx] : dhrec[idx];
  return g;
}

__device__ __forceinline__ float gk_prev_state(const float* h0,
                                               const float* hstate,
                                               long long idx, long long ost,
                                               int t, int U) {
  return t == 0 ? h0[idx] : hstate[ost - U];
}

// gru_fwd_step (reset_after=True): one forward step.
//   inner (N, 3U) (h_{t-1} * dropout) @ recurrent_kernel, from cuBLAS
//   rb    (3U) recurrent bias or NULL;  h0 (N, U) initial state
//   dm    (N, U) shared recurrent dropout mask or NULL
//   hd    (N, U) out: h_t * dm for the next GEMM (NULL if dm NULL)
// Writes gates[:, t] = [z|r|hh|inner_h + rb_h] and hstate[:, t].
// grid: (ceil(N*U/256)), block: (256).
extern "C" __global__ void gru_fwd_step(
    const float* __restrict__ xw, const float* __restrict__ inner,
    const float* __restrict__ rb, const float* __restrict__ h0,
    const unsigned char* __restrict__ mask, const float* __restrict__ dm,
    float* __restrict__ gates, float* __restrict__ hstate,
    float* __restrict__ hd, int N, int T, int U, int t, int s, int act,
    int ract) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)N * U) return;
  long long n = idx / U, u = idx - n * U;
  const float* x = xw + (n * T + s) * 3LL * U;
  const float* in = inner + n * 3LL * U;
  long long ost = (n * T + t) * U + u;
  float hp = gk_prev_state(h0, hstate, idx, ost, t, U);
  float iz = in[u], ir = in[U + u], ih = in[2 * U + u];
  if (rb) {
    iz += rb[u];
    ir += rb[U + u];
    ih += rb[2 * U + u];
  }
  float z = gk_act(ract, x[u] + iz);
  float r = gk_act(ract, x[U + u] + ir);
  float hh = gk_act(act, x[2 * U + u] + r * ih);
  float* gt = gates + (n * T + t) * 4LL * U;
  gt[u] = z;
  gt[U + u] = r;
  gt[2 * U + u] = hh;
  gt[3 * U + u] = ih;
  float h = z * (hp - hh) + hh;
  if (mask && !mask[n * T + s]) h = hp;
  hstate[ost] = h;
  if (hd) hd[idx] = h * dm[idx];
}

// gru_bwd_step (reset_after=True): one reverse step (t = T-1 down to 0).
//   dhs (N, T, U) or NULL;  dhrec (N, U) dinner_{t+1} @ R^T or NULL
//   dm (N, U) or NULL;  G (N, U) in/out carried dL/dh (init dh_T)
//   dxw (N, T, 3U) out at s: [dz, dr, dhh] pre-activation gradients
//   dinner (N, T, 3U) out at s: gradient of inner = [dz, dr, dhh * r]
// Masked rows: zeros, G carried. Valid rows: G <- G * z (direct path).
// grid: (ceil(N*U/256)), block: (256).
extern "C" __global__ void gru_bwd_step(
    const float* __restrict__ gates, const float* __restrict__ hstate,
    const float* __restrict__ h0, const float* __restrict__ dhs,
    const float* __restrict__ dhrec, const float* __restrict__ dm,
    const unsigned char* __restrict__ mask, float* __restrict__ G,
    float* __restrict__ dxw, float* __restrict__ dinner, int N, int T,
    int U, int t, int s, int zero_out, int act, int ract) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)N * U) return;
  long long n = idx / U, u = idx - n * U;
  long long ost = (n * T + t) * U + u;
  bool valid = !mask || mask[n * T + s];
  float g = gk_state_grad(G, dhs, dhrec, dm, idx, ost, valid, zero_out);
  float* dx = dxw + (n * T + s) * 3LL * U;
  float* di = dinner + (n * T + s) * 3LL * U;
  if (!valid) {
    dx[u] = dx[U + u] = dx[2 * U + u] = 0.0f;
    di[u] = di[U + u] = di[2 * U + u] = 0.0f;
    G[idx] = g;
    return;
  }
  const float* gt = gates + (n * T + t) * 4LL * U;
  float z = gt[u], r = gt[U + u], hh = gt[2 * U + u], ih = gt[3 * U + u];
  float hp = gk_prev_state(h0, hstate, idx, ost, t, U);
  float dzp = g * (hp - hh) * gk_dact(ract, z);
  float dah = g * (1.0f - z) * gk_dact(act, hh);
  float drp = dah * ih * gk_dact(ract, r);
  dx[u] = dzp;
  dx[U + u] = drp;
  dx[2 * U + u] = dah;
  di[u] = dzp;
  di[U + u] = drp;
  di[2 * U + u] = dah * r;
  G[idx] = g * z;
}

// gru_fwd_gates (reset_after=False, pass 1 of a step): z and r.
//   rec_zr (N, 2U) (h_{t-1} * dropout) @ R[:, :2U], from cuBLAS
//   dmh (N, U) dropout mask of the candidate's GEMM input, or NULL
// Writes gates[:, t, :2U] = [z|r] and rh[:, s] = r * h_{t-1} * dmh, the
// input of the candidate GEMM rh @ R[:, 2U:] that the wrapper runs next.
// grid: (ceil(N*U/256)), block: (256).
extern "C" __global__ void gru_fwd_gates(
    const float* __restrict__ xw, const float* __restrict__ rec_zr,
    const float* __restrict__ h0, const float* __restrict__ hstate,
    const float* __restrict__ dmh, float* __restrict__ gates,
    float* __restrict__ rh, int N, int T, int U, int t, int s, int ract) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)N * U) return;
  long long n = idx / U, u = idx - n * U;
  const float* x = xw + (n * T + s) * 3LL * U;
  const float* r2 = rec_zr + n * 2LL * U;
  long long ost = (n * T + t) * U + u;
  float hp = gk_prev_state(h0, hstate, idx, ost, t, U);
  float z = gk_act(ract, x[u] + r2[u]);
  float r = gk_act(ract, x[U + u] + r2[U + u]);
  float* gt = gates + (n * T + t) * 3LL * U;
  gt[u] = z;
  gt[U + u] = r;
  float v = r * hp;
  if (dmh) v *= dmh[idx];
  rh[(n * T + s) * U + u] = v;
}

// gru_fwd_update (reset_after=False, pass 2): candidate + state update.
//   rec_h (N, U) rh_t @ R[:, 2U:], from cuBLAS;  dm, hd as gru_fwd_step
// Writes gates[:, t, 2U:] = hh and hstate[:, t].
// grid: (ceil(N*U/256)), block: (256).
extern "C" __global__ void gru_fwd_update(
    const float* __restrict__ xw, const float* __restrict__ rec_h,
    const float* __restrict__ h0, const unsigned char* __restrict__ mask,
    const float* __restrict__ dm, float* __restrict__ gates,
    float* __restrict__ hstate, float* __restrict__ hd, int N, int T, int U,
    int t, int s, int act) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)N * U) return;
  long long n = idx / U, u = idx - n * U;
  const float* x = xw + (n * T + s) * 3LL * U;
  long long ost = (n * T + t) * U + u;
  float hp = gk_prev_state(h0, hstate, idx, ost, t, U);
  float* gt = gates + (n * T + t) * 3LL * U;
  float hh = gk_act(act, x[2 * U + u] + rec_h[idx]);
  gt[2 * U + u] = hh;
  float h = gt[u] * (hp - hh) + hh;
  if (mask && !mask[n * T + s]) h = hp;
  hstate[ost] = h;
  if (hd) hd[idx] = h * dm[idx];
}

// gru_bwd_update (reset_after=False, reverse pass 1 of a step).
//   dhs, dhrec (= [dz|dr]_{t+1} @ R[:, :2U]^T), dm, G as gru_bwd_step
// Writes dxw[:, s] = [dz, 0, dhh] (dr comes from gru_bwd_gates after the
// wrapper's GEMM drh = dhh @ R[:, 2U:]^T); valid rows G <- G * z.
// grid: (ceil(N*U/256)), block: (256).
extern "C" __global__ void gru_bwd_update(
    const float* __restrict__ gates, const float* __restrict__ hstate,
    const float* __restrict__ h0, const float* __restrict__ dhs,
    const float* __restrict__ dhrec, const float* __restrict__ dm,
    const unsigned char* __restrict__ mask, float* __restrict__ G,
    float* __restrict__ dxw, int N, int T, int U, int t, int s,
    int zero_out, int act, int ract) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)N * U) return;
  long long n = idx / U, u = idx - n * U;
  long long ost = (n * T + t) * U + u;
  bool valid = !mask || mask[n * T + s];
  float g = gk_state_grad(G, dhs, dhrec, dm, idx, ost, valid, zero_out);
  float* dx = dxw + (n * T + s) * 3LL * U;
  if (!valid) {
    dx[u] = dx[U + u] = dx[2 * U + u] = 0.0f;
    G[idx] = g;
    return;
  }
  const float* gt = gates + (n * T + t) * 3LL * U;
  float z = gt[u], hh = gt[2 * U + u];
  float hp = gk_prev_state(h0, hstate, idx, ost, t, U);
  dx[u] = g * (hp - hh) * gk_dact(ract, z);
  dx[U + u] = 0.0f;
  dx[2 * U + u] = g * (1.0f - z) * gk_dact(act, hh);
  G[idx] = g * z;
}

// gru_bwd_gates (reset_after=False, reverse pass 2 of a step).
//   drh (N, U) dL/d(rh_t) = dhh @ R[:, 2U:]^T from cuBLAS;  dmh or NULL
// Writes dxw[:, s, U:2U] = dr (pre-activation); valid rows
// G += drh * r * dmh.
// grid: (ceil(N*U/256)), block: (256).
extern "C" __global__ void gru_bwd_gates(
    const float* __restrict__ gates, const float* __restrict__ hstate,
    const float* __restrict__ h0, const float* __restrict__ drh,
    const float* __restrict__ dmh, const unsigned char* __restrict__ mask,
    float* __restrict__ G, float* __restrict__ dxw, int N, int T, int U,
    int t, int s, int ract) {
  long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (idx >= (long long)N * U) return;
  long long n = idx / U, u = idx - n * U;
  long long ost = (n * T + t) * U + u;
  float* dx = dxw + (n * T + s) * 3LL * U;
  if (mask && !mask[n * T + s]) {
    dx[U + u] = 0.0f;
    return;
  }
  float r = gates[(n * T + t) * 3LL * U + U + u];
  float hp = gk_prev_state(h0, hstate, idx, ost, t, U);
  float m = dmh ? dmh[idx] : 1.0f;
  float d = drh[idx] * m;
  dx[U + u] = d * hp * gk_dact(ract, r);
  G[idx] += d * r;
}
