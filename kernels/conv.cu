// Convolution kernels (channels-last; float32, float16 and bfloat16 with
// float32 arithmetic, see half.cuh): im2col for the forward pass
// and the kernel gradient, col2im (gather form) for the input gradient.
// The GEMMs between them run on cuBLAS (cupy.matmul); see
// gkeras/backend/gpu/conv.py for the launches.
//
// Shapes are given as 3 spatial dims (D, H, W); 1-D and 2-D convolutions
// pass D = H = 1 (and kernel/stride/dilation 1, padding 0 on those dims).
//   x:    (N, D, H, W, C)            C = G * Cg
//   col:  (G, M, KD*KH*KW, Cg)       M = N * OD * OH * OW
// Column order (taps..., Cg) matches the Keras kernel layout
// (KD, KH, KW, Cg, F) reshaped to (G, taps * Cg, F / G).
// Flat indices are 64-bit; the per-dim sizes are 32-bit ints.
// Entry points: <name>_f32 / _f16 / _bf16 for float / __half /
// __nv_bfloat16 arrays (x, col, dcol, dx all of that type).

#include "half.cuh"

struct ConvGeom {
  int N, D, H, W, C, OD, OH, OW, KD, KH, KW;
  int SD, SH, SW, PD, PH, PW, DD, DH, DW, G;
};

__device__ __forceinline__ ConvGeom make_geom(
    int N, int D, int H, int W, int C, int OD, int OH, int OW, int KD, int KH,
    int KW, int SD, int SH, int SW, int PD, int PH, int PW, int DD, int DH,
    int DW, int G) {
  ConvGeom g;
  g.N = N; g.D = D; g.H = H; g.W = W; g.C = C;
  g.OD = OD; g.OH = OH; g.OW = OW; g.KD = KD; g.KH = KH; g.KW = KW;
  g.SD = SD; g.SH = SH; g.SW = SW; g.PD = PD; g.PH = PH; g.PW = PW;
  g.DD = DD; g.DH = DH; g.DW = DW; g.G = G;
  return g;
}

// im2col: col[g, m, tap, cg] = x at the tap's input cell, 0 in padding.
// grid: (min(ceil(total / blockDim.x), 65535)), block: (256); grid-stride
// loop over total = G * M * taps * Cg elements (one thread an element;
// consecutive threads take consecutive cg, so reads of x are coalesced).
template <typename T>
__device__ __forceinline__ void im2col(
    const T* __restrict__ x, T* __restrict__ col, long long total,
    int N, int D, int H, int W, int C, int OD, int OH, int OW, int KD, int KH,
    int KW, int SD, int SH, int SW, int PD, int PH, int PW, int DD, int DH,
    int DW, int G) {
  const ConvGeom g = make_geom(N, D, H, W, C, OD, OH, OW, KD, KH, KW, SD, SH,
                               SW, PD, PH, PW, DD, DH, DW, G);
  const int Cg = g.C / g.G;
  const int taps = g.KD * g.KH * g.KW;
  const long long M = (long long)g.N * g.OD * g.OH * g.OW;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
       e < total; e += (long long)gridDim.x * blockDim.x) {
    const int cg = (int)(e % Cg);
    long long t = e / Cg;
    const int tap = (int)(t % taps);
    t /= taps;
    const long long m = t % M;
    const int grp = (int)(t / M);
    const int kw = tap % g.KW, kh = (tap / g.KW) % g.KH, kd = tap / (g.KW * g.KH);
    const int ow = (int)(m % g.OW), oh = (int)((m / g.OW) % g.OH);
    const int od = (int)((m / ((long long)g.OW * g.OH)) % g.OD);
    const int n = (int)(m / ((long long)g.OW * g.OH * g.OD));
    const int id = od * g.SD - g.PD + kd * g.DD;
    const int ih = oh * g.SH - g.PH + kh * g.DH;
    const int iw = ow * g.SW - g.PW + kw * g.DW;
    float v = 0.f;
    if (id >= 0 && id < g.D && ih >= 0 && ih < g.H && iw >= 0 && iw < g.W)
      v = gk_ldg(x + ((((long long)n * g.D + id) * g.H + ih) * g.W + iw) * g.C +
                 grp * Cg + cg);
    gk_st(col + e, v);
  }
}

// col2im: dx[n, d, h, w, c] = sum over the taps and output cells that
// read this input cell of dcol[g, m, tap, cg] (gather form: each thread owns
// one dx element and sums in a fixed order -- deterministic, no atomics).
// grid: (min(ceil(total / blockDim.x), 65535)), block: (256); grid-stride
// loop over total = N * D * H * W * C.
template <typename T>
__device__ __forceinline__ void col2im(
    const T* __restrict__ dcol, T* __restrict__ dx, long long total,
    int N, int D, int H, int W, int C, int OD, int OH, int OW, int KD, int KH,
    int KW, int SD, int SH, int SW, int PD, int PH, int PW, int DD, int DH,
    int DW, int G) {
  const ConvGeom g = make_geom(N, D, H, W, C, OD, OH, OW, KD, KH, KW, SD, SH,
                               SW, PD, PH, PW, DD, DH, DW, G);
  const int Cg = g.C / g.G;
  const int taps = g.KD * g.KH * g.KW;
  const long long M = (long long)g.N * g.OD * g.OH * g.OW;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
       e < total; e += (long long)gridDim.x * blockDim.x) {
    const int c = (int)(e % g.C);
    long long t = e / g.C;
    const int iw = (int)(t % g.W);
    t /= g.W;
    const int ih = (int)(t % g.H);
    t /= g.H;
    const int id = (int)(t % g.D);
    const int n = (int)(t / g.D);
    const int grp = c / Cg, cg = c % Cg;
    float acc = 0.f;
    for (int kd = 0; kd < g.KD; ++kd) {
      const int pd = id + g.PD - kd * g.DD;
      if (pd < 0 || pd % g.SD) continue;
      const int od = pd / g.SD;
      if (od >= g.OD) continue;
      for (int kh = 0; kh < g.KH; ++kh) {
        const int ph = ih + g.PH - kh * g.DH;
        if (ph < 0 || ph % g.SH) continue;
        const int oh = ph / g.SH;
        if (oh >= g.OH) continue;
        for (int kw = 0; kw < g.KW; ++kw) {
          const int pw = iw + g.PW - kw * g.DW;
          if (pw < 0 || pw % g.SW) continue;
          const int ow = pw / g.SW;
          if (ow >= g.OW) continue;
          const long long m =
              (((long long)n * g.OD + od) * g.OH + oh) * g.OW + ow;
          const int tap = (kd * g.KH + kh) * g.KW + kw;
          acc += gk_ldg(dcol + (((long long)grp * M + m) * taps + tap) * Cg +
                        cg);
        }
      }
    }
    gk_st(dx + e, acc);
  }
}

// The geometry parameters after the two arrays, shared by every entry point.
#define CONV_PARAMS                                                          \
  long long total, int N, int D, int H, int W, int C, int OD, int OH, int OW, \
      int KD, int KH, int KW, int SD, int SH, int SW, int PD, int PH, int PW, \
      int DD, int DH, int DW, int G
#define CONV_ARGS                                                          \
  total, N, D, H, W, C, OD, OH, OW, KD, KH, KW, SD, SH, SW, PD, PH, PW, DD, \
      DH, DW, G

// im2col_f32: im2col on float32 arrays (launch and shapes above).
extern "C" __global__ void im2col_f32(const float* __restrict__ x,
    float* __restrict__ col, CONV_PARAMS) {
  im2col<float>(x, col, CONV_ARGS);
}

#if GK_F16
// im2col_f16: im2col on float16 arrays (launch and shapes above).
extern "C" __global__ void im2col_f16(const __half* __restrict__ x,
    __half* __restrict__ col, CONV_PARAMS) {
  im2col<__half>(x, col, CONV_ARGS);
}
#endif

#if GK_BF16
// im2col_bf16: im2col on bfloat16 arrays (launch and shapes above).
extern "C" __global__ void im2col_bf16(const __nv_bfloat16* __restrict__ x,
    __nv_bfloat16* __restrict__ col, CONV_PARAMS) {
  im2col<__nv_bfloat16>(x, col, CONV_ARGS);
}
#endif

// col2im_f32: col2im on float32 arrays (launch and shapes above).
extern "C" __global__ void col2im_f32(const float* __restrict__ dcol,
    float* __restrict__ dx, CONV_PARAMS) {
  col2im<float>(dcol, dx, CONV_ARGS);
}

#if GK_F16
// col2im_f16: col2im on float16 arrays (launch and shapes above).
extern "C" __global__ void col2im_f16(const __half* __restrict__ dcol,
    __half* __restrict__ dx, CONV_PARAMS) {
  col2im<__half>(dcol, dx, CONV_ARGS);
}
#endif

#if GK_BF16
// col2im_bf16: col2im on bfloat16 arrays (launch and shapes above).
extern "C" __global__ void col2im_bf16(const __nv_bfloat16* __restrict__ dcol,
    __nv_bfloat16* __restrict__ dx, CONV_PARAMS) {
  col2im<__nv_bfloat16>(dcol, dx, CONV_ARGS);
}
#endif
