// half.cuh -- the element types of the kernels: float, __half (float16) and
// __nv_bfloat16 (bfloat16). Included by every kernel family that has _f16 /
// _bf16 entry points next to _f32.
//
// Mixed precision rule: a kernel templated on T loads T, computes and
// accumulates in float32 (gk_ld / gk_ldg), and rounds once when it stores
// (gk_st: round to nearest even). With T = float the helpers are the
// identity, so the _f32 entry points compute exactly what they did before
// the templating.
//
// Where the types come from:
// - nvcc: the toolkit's cuda_fp16.h / cuda_bf16.h;
// - NVRTC (cupy.RawModule): CuPy gives NVRTC the toolkit headers only when
//   it finds a CUDA include folder, which a pip-installed CuPy often does
//   not, so the small subset used here is defined in place (bit casts and
//   the round-to-nearest-even conversions, through the cvt instructions;
//   bfloat16 rounding in integer arithmetic before sm_80, which has no
//   cvt.rn.bf16.f32);
// - the CUDA-on-CPU emulator: tests/cuda_emu/cuda_emu_fp16.h.
// Kernels use only these names, so the three agree.
#ifndef GKERAS_HALF_CUH
#define GKERAS_HALF_CUH

// Which 16-bit entry points a compile includes: all by default (nvcc, the
// compile tests, the emulator); gkeras/backend/gpu/_module.py compiles the
// float32 entry points without them (-DGK_F16=0 -DGK_BF16=0), so a float32
// model does not pay NVRTC time for the 16-bit twins, and each 16-bit type
// in a module of its own on first use.
#ifndef GK_F16
#define GK_F16 1
#endif
#ifndef GK_BF16
#define GK_BF16 1
#endif

#if defined(__CUDA_EMU__)
// tests/cuda_emu/cuda_emu.h already defines __half and __nv_bfloat16.
#elif defined(__CUDACC_RTC__)
struct __align__(2) __half { unsigned short __x; };
struct __align__(2) __nv_bfloat16 { unsigned short __x; };

__device__ __forceinline__ __half __ushort_as_half(unsigned short u) {
  __half h; h.__x = u; return h;
}
__device__ __forceinline__ unsigned short __half_as_ushort(__half h) {
  return h.__x;
}
__device__ __forceinline__ __nv_bfloat16 __ushort_as_bfloat16(
    unsigned short u) {
  __nv_bfloat16 b; b.__x = u; return b;
}
__device__ __forceinline__ unsigned short __bfloat16_as_ushort(
    __nv_bfloat16 b) {
  return b.__x;
}
__device__ __forceinline__ float __half2float(__half h) {
  float f;
  asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h.__x));
  return f;
}
__device__ __forceinline__ __half __float2half_rn(float f) {
  __half h;
  asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h.__x) : "f"(f));
  return h;
}
__device__ __forceinline__ float __bfloat162float(__nv_bfloat16 b) {
  return __uint_as_float(((unsigned int)b.__x) << 16);
}
__device__ __forceinline__ __nv_bfloat16 __float2bfloat16_rn(float f) {
  __nv_bfloat16 b;
#if __CUDA_ARCH__ >= 800
  asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(b.__x) : "f"(f));
#else
  const unsigned int u = __float_as_uint(f);
  b.__x = (u & 0x7fffffffu) > 0x7f800000u
              ? (unsigned short)0x7fffu
              : (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
#endif
  return b;
}
#else
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#endif

// ---- load as float32
__device__ __forceinline__ float gk_f32(float v) { return v; }
__device__ __forceinline__ float gk_f32(__half v) { return __half2float(v); }
__device__ __forceinline__ float gk_f32(__nv_bfloat16 v) {
  return __bfloat162float(v);
}

// Plain load of element i, as float32.
template <typename T>
__device__ __forceinline__ float gk_ld(const T* p) {
  return gk_f32(*p);
}

// Read-only-cache load (__ldg) as float32; 16-bit types go through their
// bits, which every architecture has an __ldg for.
__device__ __forceinline__ float gk_ldg(const float* p) { return __ldg(p); }
__device__ __forceinline__ float gk_ldg(const __half* p) {
  return __half2float(
      __ushort_as_half(__ldg(reinterpret_cast<const unsigned short*>(p))));
}
__device__ __forceinline__ float gk_ldg(const __nv_bfloat16* p) {
  return __bfloat162float(__ushort_as_bfloat16(
      __ldg(reinterpret_cast<const unsigned short*>(p))));
}

// ---- round a float32 to T (nearest even)
template <typename T>
struct GkRound;
template <>
struct GkRound<float> {
  static __device__ __forceinline__ float from(float v) { return v; }
};
template <>
struct GkRound<__half> {
  static __device__ __forceinline__ __half from(float v) {
    return __float2half_rn(v);
  }
};
template <>
struct GkRound<__nv_bfloat16> {
  static __device__ __forceinline__ __nv_bfloat16 from(float v) {
    return __float2bfloat16_rn(v);
  }
};

template <>
struct GkRound<double> {
  static __device__ __forceinline__ double from(double v) { return v; }
};

template <typename T, typename A>
__device__ __forceinline__ T gk_cast(A v) {
  return GkRound<T>::from(v);
}

// The accumulation type of an element: float for the 16-bit types and
// float, double for double.
__device__ __forceinline__ double gk_widen(double v) { return v; }
__device__ __forceinline__ float gk_widen(float v) { return v; }
__device__ __forceinline__ float gk_widen(__half v) { return gk_f32(v); }
__device__ __forceinline__ float gk_widen(__nv_bfloat16 v) {
  return gk_f32(v);
}

// Store float32 v into *p, rounded to T.
template <typename T>
__device__ __forceinline__ void gk_st(T* p, float v) {
  *p = GkRound<T>::from(v);
}

#endif  // GKERAS_HALF_CUH
