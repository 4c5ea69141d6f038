// cuda_emu_fp16.h -- the subset of cuda_fp16.h / cuda_bf16.h that gkeras
// kernels use, for the CUDA-on-CPU emulator (included by cuda_emu.h).
//
// __half (IEEE binary16) and __nv_bfloat16 (bfloat16) are 2-byte structs
// holding the bits, as in CUDA. Conversions from float round to nearest,
// ties to even, as __float2half_rn / __float2bfloat16_rn do on the GPU;
// overflow gives +-inf, NaN gives the canonical NaN 0x7fff (what the
// hardware's cvt.rn.f16.f32 / cvt.rn.bf16.f32 write). Conversions to float
// are exact. Arithmetic (__hadd, operators, ...) is computed exactly in
// double and rounded once to the 16-bit format (through float with
// round-to-odd, which cannot double-round), i.e. correctly rounded like the
// hardware's half instructions.
//
// Like CUDA (without __CUDA_NO_HALF_CONVERSIONS__ semantics relied upon),
// there are no implicit conversions from float: kernels must convert
// explicitly, so code that passes here also compiles against the real
// headers and against kernels/half.cuh's NVRTC definitions.

#pragma once

namespace cuda_emu {

inline uint32_t f32_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
inline float bits_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

// float -> binary16, round to nearest even.
inline unsigned short f32_to_f16_bits(float f) {
  const uint32_t x = f32_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t ax = x & 0x7fffffffu;
  if (ax > 0x7f800000u) return 0x7fffu;              // NaN
  if (ax >= 0x477ff000u) return (unsigned short)(sign | 0x7c00u);  // >= 65520
  if (ax < 0x38800000u) {                            // below 2**-14: subnormal
    // |f| * 2**24 is exact (a power-of-two scale); nearbyint rounds to even
    // under the default rounding mode. 1024 encodes 2**-14, the first normal.
    const float m = nearbyintf(bits_f32(ax) * 16777216.0f);
    return (unsigned short)(sign | (uint32_t)m);
  }
  const uint32_t odd = (ax >> 13) & 1u;
  return (unsigned short)(sign | ((ax + 0xfffu + odd - (112u << 23)) >> 13));
}

// binary16 -> float, exact.
inline float f16_bits_to_f32(unsigned short h) {
  const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0) {
    const float v = (float)m * 5.9604644775390625e-08f;  // m * 2**-24, exact
    return sign ? -v : v;
  }
  if (e == 31) return bits_f32(sign | 0x7f800000u | (m << 13));
  return bits_f32(sign | ((e + 112u) << 23) | (m << 13));
}

// float -> bfloat16, round to nearest even.
inline unsigned short f32_to_bf16_bits(float f) {
  const uint32_t x = f32_bits(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return 0x7fffu;  // NaN
  return (unsigned short)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

inline float bf16_bits_to_f32(unsigned short b) {
  return bits_f32((uint32_t)b << 16);
}

// double -> float rounding to odd: a later rounding to fewer bits (16-bit
// formats) is then correctly rounded, with no double-rounding error.
inline float f64_to_f32_odd(double d) {
  float f = (float)d;
  if (d != d || (double)f == d || std::isinf(f)) return f;
  if (fabs((double)f) > fabs(d)) f = nextafterf(f, 0.0f);  // truncate
  return bits_f32(f32_bits(f) | 1u);
}

}  // namespace cuda_emu

struct __align__(2) __half {
  unsigned short __x;
};
struct __align__(2) __nv_bfloat16 {
  unsigned short __x;
};
typedef __half half;
typedef __nv_bfloat16 nv_bfloat16;

// ---- bit casts
inline __half __ushort_as_half(unsigned short u) { __half h; h.__x = u; return h; }
inline unsigned short __half_as_ushort(__half h) { return h.__x; }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short u) {
  __nv_bfloat16 b; b.__x = u; return b; }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 b) { return b.__x; }

// ---- conversions
inline float __half2float(__half h) { return cuda_emu::f16_bits_to_f32(h.__x); }
inline __half __float2half_rn(float f) {
  return __ushort_as_half(cuda_emu::f32_to_f16_bits(f)); }
inline __half __float2half(float f) { return __float2half_rn(f); }
inline float __bfloat162float(__nv_bfloat16 b) {
  return cuda_emu::bf16_bits_to_f32(b.__x); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
  return __ushort_as_bfloat16(cuda_emu::f32_to_bf16_bits(f)); }
inline __nv_bfloat16 __float2bfloat16(float f) { return __float2bfloat16_rn(f); }
inline __half __double2half(double d) {
  return __float2half_rn(cuda_emu::f64_to_f32_odd(d)); }
inline __nv_bfloat16 __double2bfloat16(double d) {
  return __float2bfloat16_rn(cuda_emu::f64_to_f32_odd(d)); }
inline __half __int2half_rn(int i) { return __double2half((double)i); }
inline __nv_bfloat16 __int2bfloat16_rn(int i) { return __double2bfloat16((double)i); }

// ---- arithmetic: exact in double, rounded once
#define CUDA_EMU_HALF_ARITH(T, TO, FROM, P)                                    \
  inline T P##add(T a, T b) { return FROM((double)TO(a) + (double)TO(b)); }     \
  inline T P##sub(T a, T b) { return FROM((double)TO(a) - (double)TO(b)); }     \
  inline T P##mul(T a, T b) { return FROM((double)TO(a) * (double)TO(b)); }     \
  inline T P##div(T a, T b) { return FROM((double)TO(a) / (double)TO(b)); }     \
  inline T P##fma(T a, T b, T c) {                                              \
    return FROM(fma((double)TO(a), (double)TO(b), (double)TO(c))); }           \
  inline T P##neg(T a) { T r = a; r.__x ^= 0x8000u; return r; }                 \
  inline T P##abs(T a) { T r = a; r.__x &= 0x7fffu; return r; }                 \
  inline bool P##eq(T a, T b) { return TO(a) == TO(b); }                        \
  inline bool P##ne(T a, T b) { return TO(a) != TO(b); }                        \
  inline bool P##lt(T a, T b) { return TO(a) < TO(b); }                         \
  inline bool P##le(T a, T b) { return TO(a) <= TO(b); }                        \
  inline bool P##gt(T a, T b) { return TO(a) > TO(b); }                         \
  inline bool P##ge(T a, T b) { return TO(a) >= TO(b); }                        \
  inline bool P##isnan(T a) { return TO(a) != TO(a); }                          \
  inline T P##max(T a, T b) { return P##isnan(a) ? b : (P##isnan(b) ? a :      \
                                     (TO(a) >= TO(b) ? a : b)); }               \
  inline T P##min(T a, T b) { return P##isnan(a) ? b : (P##isnan(b) ? a :      \
                                     (TO(a) <= TO(b) ? a : b)); }               \
  inline T operator+(T a, T b) { return P##add(a, b); }                         \
  inline T operator-(T a, T b) { return P##sub(a, b); }                         \
  inline T operator*(T a, T b) { return P##mul(a, b); }                         \
  inline T operator/(T a, T b) { return P##div(a, b); }                         \
  inline T operator-(T a) { return P##neg(a); }                                 \
  inline T& operator+=(T& a, T b) { return a = P##add(a, b); }                  \
  inline T& operator-=(T& a, T b) { return a = P##sub(a, b); }                  \
  inline T& operator*=(T& a, T b) { return a = P##mul(a, b); }                  \
  inline T& operator/=(T& a, T b) { return a = P##div(a, b); }                  \
  inline bool operator==(T a, T b) { return P##eq(a, b); }                      \
  inline bool operator!=(T a, T b) { return P##ne(a, b); }                      \
  inline bool operator<(T a, T b) { return P##lt(a, b); }                       \
  inline bool operator<=(T a, T b) { return P##le(a, b); }                      \
  inline bool operator>(T a, T b) { return P##gt(a, b); }                       \
  inline bool operator>=(T a, T b) { return P##ge(a, b); }
CUDA_EMU_HALF_ARITH(__half, __half2float, __double2half, __h)
#undef CUDA_EMU_HALF_ARITH
// cuda_bf16.h spells the bfloat16 versions with the same __h prefix,
// overloaded on the type.
#define CUDA_EMU_BF16_ARITH(T, TO, FROM)                                       \
  inline T __hadd(T a, T b) { return FROM((double)TO(a) + (double)TO(b)); }     \
  inline T __hsub(T a, T b) { return FROM((double)TO(a) - (double)TO(b)); }     \
  inline T __hmul(T a, T b) { return FROM((double)TO(a) * (double)TO(b)); }     \
  inline T __hdiv(T a, T b) { return FROM((double)TO(a) / (double)TO(b)); }     \
  inline T __hfma(T a, T b, T c) {                                              \
    return FROM(fma((double)TO(a), (double)TO(b), (double)TO(c))); }           \
  inline T __hneg(T a) { T r = a; r.__x ^= 0x8000u; return r; }                 \
  inline T __habs(T a) { T r = a; r.__x &= 0x7fffu; return r; }                 \
  inline bool __heq(T a, T b) { return TO(a) == TO(b); }                        \
  inline bool __hne(T a, T b) { return TO(a) != TO(b); }                        \
  inline bool __hlt(T a, T b) { return TO(a) < TO(b); }                         \
  inline bool __hle(T a, T b) { return TO(a) <= TO(b); }                        \
  inline bool __hgt(T a, T b) { return TO(a) > TO(b); }                         \
  inline bool __hge(T a, T b) { return TO(a) >= TO(b); }                        \
  inline bool __hisnan(T a) { return TO(a) != TO(a); }                          \
  inline T __hmax(T a, T b) { return __hisnan(a) ? b : (__hisnan(b) ? a :      \
                                     (TO(a) >= TO(b) ? a : b)); }               \
  inline T __hmin(T a, T b) { return __hisnan(a) ? b : (__hisnan(b) ? a :      \
                                     (TO(a) <= TO(b) ? a : b)); }               \
  inline T operator+(T a, T b) { return __hadd(a, b); }                         \
  inline T operator-(T a, T b) { return __hsub(a, b); }                         \
  inline T operator*(T a, T b) { return __hmul(a, b); }                         \
  inline T operator/(T a, T b) { return __hdiv(a, b); }                         \
  inline T operator-(T a) { return __hneg(a); }                                 \
  inline T& operator+=(T& a, T b) { return a = __hadd(a, b); }                  \
  inline T& operator-=(T& a, T b) { return a = __hsub(a, b); }                  \
  inline T& operator*=(T& a, T b) { return a = __hmul(a, b); }                  \
  inline T& operator/=(T& a, T b) { return a = __hdiv(a, b); }                  \
  inline bool operator==(T a, T b) { return __heq(a, b); }                      \
  inline bool operator!=(T a, T b) { return __hne(a, b); }                      \
  inline bool operator<(T a, T b) { return __hlt(a, b); }                       \
  inline bool operator<=(T a, T b) { return __hle(a, b); }                      \
  inline bool operator>(T a, T b) { return __hgt(a, b); }                       \
  inline bool operator>=(T a, T b) { return __hge(a, b); }
CUDA_EMU_BF16_ARITH(__nv_bfloat16, __bfloat162float, __double2bfloat16)
#undef CUDA_EMU_BF16_ARITH

// Warp shuffles of the 16-bit types go through the generic templates of
// cuda_emu.h (memcpy of the bits); atomicAdd on them as in CUDA (sm_70+ for
// __half, sm_80+ for bfloat16), computed with the same single rounding.
inline __half atomicAdd(__half* a, __half v) {
  unsigned short* p = reinterpret_cast<unsigned short*>(a);
  unsigned short old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
  for (;;) {
    unsigned short n = __hadd(__ushort_as_half(old), v).__x;
    if (__atomic_compare_exchange_n(p, &old, n, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
      return __ushort_as_half(old);
  }
}
inline __nv_bfloat16 atomicAdd(__nv_bfloat16* a, __nv_bfloat16 v) {
  unsigned short* p = reinterpret_cast<unsigned short*>(a);
  unsigned short old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
  for (;;) {
    unsigned short n = __hadd(__ushort_as_bfloat16(old), v).__x;
    if (__atomic_compare_exchange_n(p, &old, n, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
      return __ushort_as_bfloat16(old);
  }
}
