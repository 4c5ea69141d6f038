// Pooling kernels (channels-last; float32, float16 and bfloat16 with
// float32 arithmetic, see half.cuh): max and average, forward and
// backward. Shapes are given as 3 spatial dims (D, H, W); 1-D and 2-D
// pooling pass D = H = 1 with pool/stride 1 and padding 0 on those dims.
//   x, dx:        (N, D, H, W, C)
//   y, dy, argmax: (N, OD, OH, OW, C)
// argmax holds, per output cell, the flat spatial index (d * H + h) * W + w
// of the winning input cell within its sample (int32; the first maximum in
// row-major window order; padded cells never win). Average pooling divides
// by the number of real (unpadded) cells of the window.
// Backward kernels are gather-style (one thread per dx element, fixed
// summation order): deterministic, no atomics.
// Launch, every entry point: grid (min(ceil(total / 256), 65535)), block
// (256), grid-stride loop over `total` elements of the written array.
// Entry points: <name>_f32 / _f16 / _bf16 for float / __half /
// __nv_bfloat16 data arrays (argmax is int32 in all three).

#include "half.cuh"

struct PoolGeom {
  int N, D, H, W, C, OD, OH, OW, KD, KH, KW, SD, SH, SW, PD, PH, PW;
};

#define POOL_PARAMS                                                         \
  int N, int D, int H, int W, int C, int OD, int OH, int OW, int KD, int KH, \
      int KW, int SD, int SH, int SW, int PD, int PH, int PW
#define POOL_GEOM                                                         \
  PoolGeom g;                                                             \
  g.N = N; g.D = D; g.H = H; g.W = W; g.C = C; g.OD = OD; g.OH = OH;      \
  g.OW = OW; g.KD = KD; g.KH = KH; g.KW = KW; g.SD = SD; g.SH = SH;       \
  g.SW = SW; g.PD = PD; g.PH = PH; g.PW = PW

// Range of outputs o with o * S - P <= i < o * S - P + K, clipped to [0, O).
__device__ __forceinline__ void out_range(int i, int K, int S, int P, int O,
                                          int* lo, int* hi) {
  const int a = i + P - K + 1;  // o * S >= a
  *lo = a <= 0 ? 0 : (a + S - 1) / S;
  const int b = (i + P) / S;    // o * S <= i + P
  *hi = b < O - 1 ? b : O - 1;
}

// maxpool_fwd: y = window max, argmax = its flat spatial index.
// total = N * OD * OH * OW * C. The max of rounded values is exact, so
// y is bit-equal to the input cell in every type.
template <typename T>
__device__ __forceinline__ void maxpool_fwd(const T* __restrict__ x,
                                            T* __restrict__ y,
                                            int* __restrict__ argmax,
                                            long long total, POOL_PARAMS) {
  POOL_GEOM;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
       e < total; e += (long long)gridDim.x * blockDim.x) {
    const int c = (int)(e % g.C);
    long long t = e / g.C;
    const int ow = (int)(t % g.OW); t /= g.OW;
    const int oh = (int)(t % g.OH); t /= g.OH;
    const int od = (int)(t % g.OD);
    const int n = (int)(t / g.OD);
    const long long base = (long long)n * g.D * g.H * g.W;
    float best = __int_as_float(0xff800000);  // -inf
    int best_i = -1;
    for (int kd = 0; kd < g.KD; ++kd) {
      const int id = od * g.SD - g.PD + kd;
      if (id < 0 || id >= g.D) continue;
      for (int kh = 0; kh < g.KH; ++kh) {
        const int ih = oh * g.SH - g.PH + kh;
        if (ih < 0 || ih >= g.H) continue;
        for (int kw = 0; kw < g.KW; ++kw) {
          const int iw = ow * g.SW - g.PW + kw;
          if (iw < 0 || iw >= g.W) continue;
          const int s = (id * g.H + ih) * g.W + iw;
          const float v = gk_ldg(x + (base + s) * g.C + c);
          if (best_i < 0 || v > best) { best = v; best_i = s; }
        }
      }
    }
    gk_st(y + e, best);
    argmax[e] = best_i;
  }
}

// maxpool_bwd: dx[cell] = sum of dy over the windows whose argmax is
// this cell. total = N * D * H * W * C.
template <typename T>
__device__ __forceinline__ void maxpool_bwd(const T* __restrict__ dy,
                                            const int* __restrict__ argmax,
                                            T* __restrict__ dx,
                                            long long total, POOL_PARAMS) {
  POOL_GEOM;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
       e < total; e += (long long)gridDim.x * blockDim.x) {
    const int c = (int)(e % g.C);
    long long t = e / g.C;
    const int iw = (int)(t % g.W); t /= g.W;
    const int ih = (int)(t % g.H); t /= g.H;
    const int id = (int)(t % g.D);
    const int n = (int)(t / g.D);
    const int me = (id * g.H + ih) * g.W + iw;
    int d0, d1, h0, h1, w0, w1;
    out_range(id, g.KD, g.SD, g.PD, g.OD, &d0, &d1);
    out_range(ih, g.KH, g.SH, g.PH, g.OH, &h0, &h1);
    out_range(iw, g.KW, g.SW, g.PW, g.OW, &w0, &w1);
    float acc = 0.f;
    for (int od = d0; od <= d1; ++od)
      for (int oh = h0; oh <= h1; ++oh)
        for (int ow = w0; ow <= w1; ++ow) {
          const long long o =
              ((((long long)n * g.OD + od) * g.OH + oh) * g.OW + ow) * g.C + c;
          if (__ldg(argmax + o) == me) acc += gk_ldg(dy + o);
        }
    gk_st(dx + e, acc);
  }
}

// Number of real cells of window (od, oh, ow).
__device__ __forceinline__ int window_count(const PoolGeom& g, int od, int oh,
                                            int ow) {
  const int d0 = max(od * g.SD - g.PD, 0), d1 = min(od * g.SD - g.PD + g.KD, g.D);
  const int h0 = max(oh * g.SH - g.PH, 0), h1 = min(oh * g.SH - g.PH + g.KH, g.H);
  const int w0 = max(ow * g.SW - g.PW, 0), w1 = min(ow * g.SW - g.PW + g.KW, g.W);
  return (d1 - d0) * (h1 - h0) * (w1 - w0);
}

// avgpool_fwd: y = mean of the window's real cells.
// total = N * OD * OH * OW * C.
template <typename T>
__device__ __forceinline__ void avgpool_fwd(const T* __restrict__ x,
                                            T* __restrict__ y,
                                            long long total, POOL_PARAMS) {
  POOL_GEOM;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
       e < total; e += (long long)gridDim.x * blockDim.x) {
    const int c = (int)(e % g.C);
    long long t = e / g.C;
    const int ow = (int)(t % g.OW); t /= g.OW;
    const int oh = (int)(t % g.OH); t /= g.OH;
    const int od = (int)(t % g.OD);
    const int n = (int)(t / g.OD);
    const long long base = (long long)n * g.D * g.H * g.W;
    float acc = 0.f;
    for (int kd = 0; kd < g.KD; ++kd) {
      const int id = od * g.SD - g.PD + kd;
      if (id < 0 || id >= g.D) continue;
      for (int kh = 0; kh < g.KH; ++kh) {
        const int ih = oh * g.SH - g.PH + kh;
        if (ih < 0 || ih >= g.H) continue;
        for (int kw = 0; kw < g.KW; ++kw) {
          const int iw = ow * g.SW - g.PW + kw;
          if (iw < 0 || iw >= g.W) continue;
          acc += gk_ldg(x + (base + (id * g.H + ih) * g.W + iw) * g.C + c);
        }
      }
    }
    gk_st(y + e, acc / (float)window_count(g, od, oh, ow));
  }
}

// avgpool_bwd: dx[cell] = sum over the windows holding it of
// dy / count. total = N * D * H * W * C.
template <typename T>
__device__ __forceinline__ void avgpool_bwd(const T* __restrict__ dy,
                                            T* __restrict__ dx,
                                            long long total, POOL_PARAMS) {
  POOL_GEOM;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x;
       e < total; e += (long long)gridDim.x * blockDim.x) {
    const int c = (int)(e % g.C);
    long long t = e / g.C;
    const int iw = (int)(t % g.W); t /= g.W;
    const int ih = (int)(t % g.H); t /= g.H;
    const int id = (int)(t % g.D);
    const int n = (int)(t / g.D);
    int d0, d1, h0, h1, w0, w1;
    out_range(id, g.KD, g.SD, g.PD, g.OD, &d0, &d1);
    out_range(ih, g.KH, g.SH, g.PH, g.OH, &h0, &h1);
    out_range(iw, g.KW, g.SW, g.PW, g.OW, &w0, &w1);
    float acc = 0.f;
    for (int od = d0; od <= d1; ++od)
      for (int oh = h0; oh <= h1; ++oh)
        for (int ow = w0; ow <= w1; ++ow) {
          const long long o =
              ((((long long)n * g.OD + od) * g.OH + oh) * g.OW + ow) * g.C + c;
          acc += gk_ldg(dy + o) / (float)window_count(g, od, oh, ow);
        }
    gk_st(dx + e, acc);
  }
}

#define POOL_ARGS \
  total, N, D, H, W, C, OD, OH, OW, KD, KH, KW, SD, SH, SW, PD, PH, PW

// maxpool_fwd_f32: maxpool_fwd on float32 (launch and shapes above).
extern "C" __global__ void maxpool_fwd_f32(const float* __restrict__ x,
    float* __restrict__ y, int* __restrict__ argmax, long long total,
    POOL_PARAMS) {
  maxpool_fwd<float>(x, y, argmax, POOL_ARGS);
}

// maxpool_bwd_f32: maxpool_bwd on float32.
extern "C" __global__ void maxpool_bwd_f32(const float* __restrict__ dy,
    const int* __restrict__ argmax, float* __restrict__ dx, long long total,
    POOL_PARAMS) {
  maxpool_bwd<float>(dy, argmax, dx, POOL_ARGS);
}

// avgpool_fwd_f32: avgpool_fwd on float32.
extern "C" __global__ void avgpool_fwd_f32(const float* __restrict__ x,
    float* __restrict__ y, long long total, POOL_PARAMS) {
  avgpool_fwd<float>(x, y, POOL_ARGS);
}

// avgpool_bwd_f32: avgpool_bwd on float32.
extern "C" __global__ void avgpool_bwd_f32(const float* __restrict__ dy,
    float* __restrict__ dx, long long total, POOL_PARAMS) {
  avgpool_bwd<float>(dy, dx, POOL_ARGS);
}

#if GK_F16
// maxpool_fwd_f16: maxpool_fwd on float16 (launch and shapes above).
extern "C" __global__ void maxpool_fwd_f16(const __half* __restrict__ x,
    __half* __restrict__ y, int* __restrict__ argmax, long long total,
    POOL_PARAMS) {
  maxpool_fwd<__half>(x, y, argmax, POOL_ARGS);
}
#endif

#if GK_F16
// maxpool_bwd_f16: maxpool_bwd on float16.
extern "C" __global__ void maxpool_bwd_f16(const __half* __restrict__ dy,
    const int* __restrict__ argmax, __half* __restrict__ dx, long long total,
    POOL_PARAMS) {
  maxpool_bwd<__half>(dy, argmax, dx, POOL_ARGS);
}
#endif

#if GK_F16
// avgpool_fwd_f16: avgpool_fwd on float16.
extern "C" __global__ void avgpool_fwd_f16(const __half* __restrict__ x,
    __half* __restrict__ y, long long total, POOL_PARAMS) {
  avgpool_fwd<__half>(x, y, POOL_ARGS);
}
#endif

#if GK_F16
// avgpool_bwd_f16: avgpool_bwd on float16.
extern "C" __global__ void avgpool_bwd_f16(const __half* __restrict__ dy,
    __half* __restrict__ dx, long long total, POOL_PARAMS) {
  avgpool_bwd<__half>(dy, dx, POOL_ARGS);
}
#endif

#if GK_BF16
// maxpool_fwd_bf16: maxpool_fwd on bfloat16 (launch and shapes above).
extern "C" __global__ void maxpool_fwd_bf16(const __nv_bfloat16* __restrict__ x,
    __nv_bfloat16* __restrict__ y, int* __restrict__ argmax, long long total,
    POOL_PARAMS) {
  maxpool_fwd<__nv_bfloat16>(x, y, argmax, POOL_ARGS);
}
#endif

#if GK_BF16
// maxpool_bwd_bf16: maxpool_bwd on bfloat16.
extern "C" __global__ void maxpool_bwd_bf16(
    const __nv_bfloat16* __restrict__ dy, const int* __restrict__ argmax,
    __nv_bfloat16* __restrict__ dx, long long total, POOL_PARAMS) {
  maxpool_bwd<__nv_bfloat16>(dy, argmax, dx, POOL_ARGS);
}
#endif

#if GK_BF16
// avgpool_fwd_bf16: avgpool_fwd on bfloat16.
extern "C" __global__ void avgpool_fwd_bf16(const __nv_bfloat16* __restrict__ x,
    __nv_bfloat16* __restrict__ y, long long total, POOL_PARAMS) {
  avgpool_fwd<__nv_bfloat16>(x, y, POOL_ARGS);
}
#endif

#if GK_BF16
// avgpool_bwd_bf16: avgpool_bwd on bfloat16.
extern "C" __global__ void avgpool_bwd_bf16(
    const __nv_bfloat16* __restrict__ dy, __nv_bfloat16* __restrict__ dx,
    long long total, POOL_PARAMS) {
  avgpool_bwd<__nv_bfloat16>(dy, dx, POOL_ARGS);
}
#endif
