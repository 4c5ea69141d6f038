// attention.cu -- scaled dot-product attention entry points: the flash
// path (forward, deterministic backward) and the general path's fused
// softmax row kernels, for float (no suffix), __half (_f16) and
// __nv_bfloat16 (_bf16) data. Layouts, semantics, launch configurations
// and limits: attention.cuh, next to each template.

#include "attention.cuh"

// ---- entry points: the templates of attention.cuh for float (no
// suffix), __half (_f16) and __nv_bfloat16 (_bf16); launch layouts and
// limits as there.

// flash_attn_fwd: gk_flash_attn_fwd, float32 data.
extern "C" __global__ void flash_attn_fwd(
    const float* __restrict__ q, const float* __restrict__ k,
    const float* __restrict__ v, float* __restrict__ out,
    float* __restrict__ lse, const unsigned char* __restrict__ mask,
    long long msb, long long msh, long long msq, long long msk, int B,
    int H, int Tq, int Tk, int D, int Dv, float scale, int causal,
    int zero_fm, unsigned int drop_thr, float drop_scale, unsigned int seed) {
  gk_flash_attn_fwd<float>(q, k, v, out, lse, mask, msb, msh, msq, msk, B, H,
      Tq, Tk, D, Dv, scale, causal, zero_fm, drop_thr, drop_scale, seed);
}

#if GK_F16
// flash_attn_fwd_f16: gk_flash_attn_fwd, float16 data.
extern "C" __global__ void flash_attn_fwd_f16(
    const __half* __restrict__ q, const __half* __restrict__ k,
    const __half* __restrict__ v, __half* __restrict__ out,
    float* __restrict__ lse, const unsigned char* __restrict__ mask,
    long long msb, long long msh, long long msq, long long msk, int B,
    int H, int Tq, int Tk, int D, int Dv, float scale, int causal,
    int zero_fm, unsigned int drop_thr, float drop_scale, unsigned int seed) {
  gk_flash_attn_fwd<__half>(q, k, v, out, lse, mask, msb, msh, msq, msk, B, H,
      Tq, Tk, D, Dv, scale, causal, zero_fm, drop_thr, drop_scale, seed);
}
#endif

#if GK_BF16
// flash_attn_fwd_bf16: gk_flash_attn_fwd, bfloat16 data.
extern "C" __global__ void flash_attn_fwd_bf16(
    const __nv_bfloat16* __restrict__ q,
    const __nv_bfloat16* __restrict__ k,
    const __nv_bfloat16* __restrict__ v, __nv_bfloat16* __restrict__ out,
    float* __restrict__ lse, const unsigned char* __restrict__ mask,
    long long msb, long long msh, long long msq, long long msk, int B,
    int H, int Tq, int Tk, int D, int Dv, float scale, int causal,
    int zero_fm, unsigned int drop_thr, float drop_scale, unsigned int seed) {
  gk_flash_attn_fwd<__nv_bfloat16>(q, k, v, out, lse, mask, msb, msh, msq,
      msk, B, H, Tq, Tk, D, Dv, scale, causal, zero_fm, drop_thr, drop_scale,
      seed);
}
#endif

// flash_attn_bwd_preprocess: gk_flash_attn_bwd_preprocess, float32 data.
extern "C" __global__ void flash_attn_bwd_preprocess(
    const float* __restrict__ dout, const float* __restrict__ out,
    float* __restrict__ delta, long long rows, int Dv) {
  gk_flash_attn_bwd_preprocess<float>(dout, out, delta, rows, Dv);
}

#if GK_F16
// flash_attn_bwd_preprocess_f16: gk_flash_attn_bwd_preprocess, float16 data.
extern "C" __global__ void flash_attn_bwd_preprocess_f16(
    const __half* __restrict__ dout, const __half* __restrict__ out,
    float* __restrict__ delta, long long rows, int Dv) {
  gk_flash_attn_bwd_preprocess<__half>(dout, out, delta, rows, Dv);
}
#endif

#if GK_BF16
// flash_attn_bwd_preprocess_bf16: gk_flash_attn_bwd_preprocess, bfloat16 data.
extern "C" __global__ void flash_attn_bwd_preprocess_bf16(
    const __nv_bfloat16* __restrict__ dout,
    const __nv_bfloat16* __restrict__ out, float* __restrict__ delta,
    long long rows, int Dv) {
  gk_flash_attn_bwd_preprocess<__nv_bfloat16>(dout, out, delta, rows, Dv);
}
#endif

// flash_attn_bwd_dq: gk_flash_attn_bwd_dq, float32 data.
extern "C" __global__ void flash_attn_bwd_dq(
    const float* __restrict__ q, const float* __restrict__ k,
    const float* __restrict__ v, const float* __restrict__ dout,
    const float* __restrict__ lse, const float* __restrict__ delta,
    float* __restrict__ dq, const unsigned char* __restrict__ mask,
    long long msb, long long msh, long long msq, long long msk, int B,
    int H, int Tq, int Tk, int D, int Dv, float scale, int causal,
    int zero_fm, unsigned int drop_thr, float drop_scale, unsigned int seed) {
  gk_flash_attn_bwd_dq<float>(q, k, v, dout, lse, delta, dq, mask, msb, msh,
      msq, msk, B, H, Tq, Tk, D, Dv, scale, causal, zero_fm, drop_thr,
      drop_scale, seed);
}

#if GK_F16
// flash_attn_bwd_dq_f16: gk_flash_attn_bwd_dq, float16 data.
extern "C" __global__ void flash_attn_bwd_dq_f16(
    const __half* __restrict__ q, const __half* __restrict__ k,
    const __half* __restrict__ v, const __half* __restrict__ dout,
    const float* __restrict__ lse, const float* __restrict__ delta,
    __half* __restrict__ dq, const unsigned char* __restrict__ mask,
    long long msb, long long msh, long long msq, long long msk, int B,
    int H, int Tq, int Tk, int D, int Dv, float scale, int causal,
    int zero_fm, unsigned int drop_thr, float drop_scale, unsigned int seed) {
  gk_flash_attn_bwd_dq<__half>(q, k, v, dout, lse, delta, dq, mask, msb, msh,
      msq, msk, B, H, Tq, Tk, D, Dv, scale, causal, zero_fm, drop_thr,
      drop_scale, seed);
}
#endif

#if GK_BF16
// flash_attn_bwd_dq_bf16: gk_flash_attn_bwd_dq, bfloat16 data.
extern "C" __global__ void flash_attn_bwd_dq_bf16(
    const __nv_bfloat16* __restrict__ q,
    const __nv_bfloat16* __restrict__ k,
    const __nv_bfloat16* __restrict__ v,
    const __nv_bfloat16* __restrict__ dout, const float* __restrict__ lse,
    const float* __restrict__ delta, __nv_bfloat16* __restrict__ dq,
    const unsigned char* __restrict__ mask, long long msb, long long msh,
    long long msq, long long msk, int B, int H, int Tq, int Tk, int D,
    int Dv, float scale, int causal, int zero_fm, unsigned int drop_thr,
    float drop_scale, unsigned int seed) {
  gk_flash_attn_bwd_dq<__nv_bfloat16>(q, k, v, dout, lse, delta, dq, mask,
      msb, msh, msq, msk, B, H, Tq, Tk, D, Dv, scale, causal, zero_fm,
      drop_thr, drop_scale, seed);
}
#endif

// flash_attn_bwd_dkdv: gk_flash_attn_bwd_dkdv, float32 data.
extern "C" __global__ void flash_attn_bwd_dkdv(
    const float* __restrict__ q, const float* __restrict__ k,
    const float* __restrict__ v, const float* __restrict__ dout,
    const float* __restrict__ lse, const float* __restrict__ delta,
    float* __restrict__ dk, float* __restrict__ dv,
    const unsigned char* __restrict__ mask, long long msb, long long msh,
    long long msq, long long msk, int B, int H, int Tq, int Tk, int D,
    int Dv, float scale, int causal, int zero_fm, unsigned int drop_thr,
    float drop_scale, unsigned int seed) {
  gk_flash_attn_bwd_dkdv<float>(q, k, v, dout, lse, delta, dk, dv, mask, msb,
      msh, msq, msk, B, H, Tq, Tk, D, Dv, scale, causal, zero_fm, drop_thr,
      drop_scale, seed);
}

#if GK_F16
// flash_attn_bwd_dkdv_f16: gk_flash_attn_bwd_dkdv, float16 data.
extern "C" __global__ void flash_attn_bwd_dkdv_f16(
    const __half* __restrict__ q, const __half* __restrict__ k,
    const __half* __restrict__ v, const __half* __restrict__ dout,
    const float* __restrict__ lse, const float* __restrict__ delta,
    __half* __restrict__ dk, __half* __restrict__ dv,
    const unsigned char* __restrict__ mask, long long msb, long long msh,
    long long msq, long long msk, int B, int H, int Tq, int Tk, int D,
    int Dv, float scale, int causal, int zero_fm, unsigned int drop_thr,
    float drop_scale, unsigned int seed) {
  gk_flash_attn_bwd_dkdv<__half>(q, k, v, dout, lse, delta, dk, dv, mask, msb,
      msh, msq, msk, B, H, Tq, Tk, D, Dv, scale, causal, zero_fm, drop_thr,
      drop_scale, seed);
}
#endif

#if GK_BF16
// flash_attn_bwd_dkdv_bf16: gk_flash_attn_bwd_dkdv, bfloat16 data.
extern "C" __global__ void flash_attn_bwd_dkdv_bf16(
    const __nv_bfloat16* __restrict__ q,
    const __nv_bfloat16* __restrict__ k,
    const __nv_bfloat16* __restrict__ v,
    const __nv_bfloat16* __restrict__ dout, const float* __restrict__ lse,
    const float* __restrict__ delta, __nv_bfloat16* __restrict__ dk,
    __nv_bfloat16* __restrict__ dv, const unsigned char* __restrict__ mask,
    long long msb, long long msh, long long msq, long long msk, int B,
    int H, int Tq, int Tk, int D, int Dv, float scale, int causal,
    int zero_fm, unsigned int drop_thr, float drop_scale, unsigned int seed) {
  gk_flash_attn_bwd_dkdv<__nv_bfloat16>(q, k, v, dout, lse, delta, dk, dv,
      mask, msb, msh, msq, msk, B, H, Tq, Tk, D, Dv, scale, causal, zero_fm,
      drop_thr, drop_scale, seed);
}
#endif

// attn_softmax_fwd: gk_attn_softmax_fwd, float32 data.
extern "C" __global__ void attn_softmax_fwd(
    const float* scores, float* probs, float* probs_dropped,
    const unsigned char* __restrict__ mask, long long msb, long long msh,
    long long msq, long long msk, int B, int H, int Tq, int Tk, float scale,
    int causal, int zero_fm, unsigned int drop_thr, float drop_scale,
    unsigned int seed) {
  gk_attn_softmax_fwd<float>(scores, probs, probs_dropped, mask, msb, msh,
      msq, msk, B, H, Tq, Tk, scale, causal, zero_fm, drop_thr, drop_scale,
      seed);
}

#if GK_F16
// attn_softmax_fwd_f16: gk_attn_softmax_fwd, float16 data.
extern "C" __global__ void attn_softmax_fwd_f16(
    const __half* scores, __half* probs, __half* probs_dropped,
    const unsigned char* __restrict__ mask, long long msb, long long msh,
    long long msq, long long msk, int B, int H, int Tq, int Tk, float scale,
    int causal, int zero_fm, unsigned int drop_thr, float drop_scale,
    unsigned int seed) {
  gk_attn_softmax_fwd<__half>(scores, probs, probs_dropped, mask, msb, msh,
      msq, msk, B, H, Tq, Tk, scale, causal, zero_fm, drop_thr, drop_scale,
      seed);
}
#endif

#if GK_BF16
// attn_softmax_fwd_bf16: gk_attn_softmax_fwd, bfloat16 data.
extern "C" __global__ void attn_softmax_fwd_bf16(
    const __nv_bfloat16* scores, __nv_bfloat16* probs,
    __nv_bfloat16* probs_dropped, const unsigned char* __restrict__ mask,
    long long msb, long long msh, long long msq, long long msk, int B,
    int H, int Tq, int Tk, float scale, int causal, int zero_fm,
    unsigned int drop_thr, float drop_scale, unsigned int seed) {
  gk_attn_softmax_fwd<__nv_bfloat16>(scores, probs, probs_dropped, mask, msb,
      msh, msq, msk, B, H, Tq, Tk, scale, causal, zero_fm, drop_thr,
      drop_scale, seed);
}
#endif

// attn_softmax_bwd: gk_attn_softmax_bwd, float32 data.
extern "C" __global__ void attn_softmax_bwd(
    const float* dprobs, const float* __restrict__ probs, float* dscores,
    const unsigned char* __restrict__ mask, long long msb, long long msh,
    long long msq, long long msk, int B, int H, int Tq, int Tk, float scale,
    int causal, unsigned int drop_thr, float drop_scale, unsigned int seed) {
  gk_attn_softmax_bwd<float>(dprobs, probs, dscores, mask, msb, msh, msq, msk,
      B, H, Tq, Tk, scale, causal, drop_thr, drop_scale, seed);
}

#if GK_F16
// attn_softmax_bwd_f16: gk_attn_softmax_bwd, float16 data.
extern "C" __global__ void attn_softmax_bwd_f16(
    const __half* dprobs, const __half* __restrict__ probs, __half* dscores,
    const unsigned char* __restrict__ mask, long long msb, long long msh,
    long long msq, long long msk, int B, int H, int Tq, int Tk, float scale,
    int causal, unsigned int drop_thr, float drop_scale, unsigned int seed) {
  gk_attn_softmax_bwd<__half>(dprobs, probs, dscores, mask, msb, msh, msq,
      msk, B, H, Tq, Tk, scale, causal, drop_thr, drop_scale, seed);
}
#endif

#if GK_BF16
// attn_softmax_bwd_bf16: gk_attn_softmax_bwd, bfloat16 data.
extern "C" __global__ void attn_softmax_bwd_bf16(
    const __nv_bfloat16* dprobs, const __nv_bfloat16* __restrict__ probs,
    __nv_bfloat16* dscores, const unsigned char* __restrict__ mask,
    long long msb, long long msh, long long msq, long long msk, int B,
    int H, int Tq, int Tk, float scale, int causal, unsigned int drop_thr,
    float drop_scale, unsigned int seed) {
  gk_attn_softmax_bwd<__nv_bfloat16>(dprobs, probs, dscores, mask, msb, msh,
      msq, msk, B, H, Tq, Tk, scale, causal, drop_thr, drop_scale, seed);
}
#endif
