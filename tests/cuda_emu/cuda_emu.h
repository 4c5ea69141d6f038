// cuda_emu.h -- run CUDA C kernels on the CPU, for tests.
//
// Included (via the generated translation unit of tests/cuda_emu/emu.py)
// before a kernels/*.cu file compiled with g++. It provides what device code
// needs from the CUDA runtime: threadIdx/blockIdx/blockDim/gridDim,
// __shared__ storage (one block at a time per OS thread), __syncthreads() as
// a real barrier, warp shuffles/votes with the exchange semantics of the
// hardware, atomics, and the fast-math intrinsics.
//
// Execution model. A block's threads are fibers (ucontext) on one OS thread;
// a fiber runs until it reaches a barrier (__syncthreads, a warp primitive,
// __syncwarp) or returns, then the next runnable fiber runs. A barrier is
// released only when every live thread of the block (or every live lane of
// the mask, for warp primitives) has arrived, so a missing __syncthreads
// between a shared-memory write and another thread's read shows up as a
// wrong result (thread 0 runs ahead of thread 1 ... in "forward" order; the
// "reverse" and "random" orders catch the other direction). A barrier that
// can never be released (threads waiting at different barriers) is reported
// as a deadlock instead of hanging. Threads that have returned count as
// arrived, as on Volta and later GPUs.
//
// Blocks run one after the other on each worker OS thread (workers > 1 runs
// several blocks concurrently, so atomics are real atomics).

#pragma once

#include <math.h>
#include <cmath>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

// ---------------------------------------------------------------- keywords
#define __global__
#define __device__
#define __host__
#define __constant__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// Block-static storage; per OS thread so concurrent workers do not share it.
#define __shared__ static thread_local
#ifndef __CUDA_ARCH__
#define __CUDA_EMU__ 1
#endif

// ------------------------------------------------------------ vector types
struct uint3 { unsigned int x, y, z; };
struct dim3 {
  unsigned int x, y, z;
  dim3(unsigned int x_ = 1, unsigned int y_ = 1, unsigned int z_ = 1)
      : x(x_), y(y_), z(z_) {}
};
#define CUDA_EMU_VEC2(T, N, A) \
  struct __attribute__((aligned(A))) N { T x, y; }; \
  inline N make_##N(T x, T y) { N v; v.x = x; v.y = y; return v; }
#define CUDA_EMU_VEC3(T, N) \
  struct N { T x, y, z; }; \
  inline N make_##N(T x, T y, T z) { N v; v.x = x; v.y = y; v.z = z; return v; }
#define CUDA_EMU_VEC4(T, N, A) \
  struct __attribute__((aligned(A))) N { T x, y, z, w; }; \
  inline N make_##N(T x, T y, T z, T w) { \
    N v; v.x = x; v.y = y; v.z = z; v.w = w; return v; }
CUDA_EMU_VEC2(float, float2, 8)
CUDA_EMU_VEC3(float, float3)
CUDA_EMU_VEC4(float, float4, 16)
CUDA_EMU_VEC2(int, int2, 8)
CUDA_EMU_VEC3(int, int3)
CUDA_EMU_VEC4(int, int4, 16)
CUDA_EMU_VEC2(double, double2, 16)
inline uint3 make_uint3(unsigned x, unsigned y, unsigned z) {
  uint3 v; v.x = x; v.y = y; v.z = z; return v; }

// __half / __nv_bfloat16 (cuda_fp16.h / cuda_bf16.h subset)
#include "cuda_emu_fp16.h"

// --------------------------------------------------------------- scheduler
namespace cuda_emu {

enum State { RUNNABLE = 0, AT_BAR = 1, AT_WARP = 2, DONE = 3 };
enum WarpKind { GATHER = 0, BALLOT = 1 };

struct Fiber {
  ucontext_t ctx;
  uint3 tid;
  int linear, lane, warp;
  State state;
  unsigned wmask;
  int wkind, wsrc;
  uint64_t wval, wres;
};

struct Block {
  uint3 bid, bdim, gdim;
  int nthreads;
  std::vector<Fiber> fibers;
  std::vector<int> order;
  ucontext_t sched;
  int live, bar_arrived;
  long long bar_acc, bar_result;  // __syncthreads_count/_or/_and
  std::vector<unsigned char> dyn_smem;
  void (*tramp)(void**);
  void** args;
  std::vector<char> stacks;
  size_t stack_size;
  std::string error;
};

inline thread_local Block* g_block = nullptr;
inline thread_local Fiber* g_fiber = nullptr;

inline void fail(const std::string& msg) {
  Block* b = g_block;
  if (b && b->error.empty()) b->error = msg;
}

inline void yield_to_sched() {
  Fiber* f = g_fiber;
  swapcontext(&f->ctx, &g_block->sched);
}

inline void try_release_bar(Block* b) {
  if (b->bar_arrived > 0 && b->bar_arrived == b->live) {
    for (auto& f : b->fibers)
      if (f.state == AT_BAR) f.state = RUNNABLE;
    b->bar_arrived = 0;
    b->bar_result = b->bar_acc;
    b->bar_acc = 0;
  }
}

// Releases the lanes of warp `w` waiting with `mask` once every live lane of
// the mask waits with it, computing each participant's result.
inline void try_release_warp(Block* b, int w, unsigned mask) {
  Fiber* base = &b->fibers[(size_t)w * 32];
  int nl = std::min(32, b->nthreads - w * 32);
  unsigned part = 0;
  int kind = -1;
  for (int l = 0; l < nl; ++l) {
    if (!((mask >> l) & 1u)) continue;
    Fiber& g = base[l];
    if (g.state == DONE) continue;
    if (g.state != AT_WARP || g.wmask != mask) return;
    if (kind >= 0 && g.wkind != kind)
      fail("warp lanes of one mask reached different warp primitives "
           "(divergent __shfl/__ballot)");
    kind = g.wkind;
    part |= 1u << l;
  }
  if (!part) return;
  unsigned ballot = 0;
  for (int l = 0; l < nl; ++l)
    if (((part >> l) & 1u) && base[l].wval) ballot |= 1u << l;
  for (int l = 0; l < nl; ++l) {
    if (!((part >> l) & 1u)) continue;
    Fiber& g = base[l];
    if (g.wkind == GATHER) {
      int s = g.wsrc;
      g.wres = (s >= 0 && s < nl && ((part >> s) & 1u)) ? base[s].wval
                                                          : g.wval;
    } else {
      g.wres = (uint64_t)ballot | ((uint64_t)part << 32);
    }
    g.state = RUNNABLE;
  }
}

inline uint64_t warp_op(unsigned mask, int kind, int src, uint64_t val) {
  Block* b = g_block;
  Fiber* f = g_fiber;
  if (!((mask >> f->lane) & 1u)) {
    fail("a warp primitive was called by a lane that is not in its mask");
    return val;
  }
  f->state = AT_WARP;
  f->wmask = mask;
  f->wkind = kind;
  f->wsrc = src;
  f->wval = val;
  try_release_warp(b, f->warp, mask);
  yield_to_sched();
  return f->wres;
}

inline void fiber_entry() {
  Block* b = g_block;
  b->tramp(b->args);
  Fiber* f = g_fiber;
  f->state = DONE;
  b->live--;
  try_release_bar(b);
  Fiber* base = &b->fibers[(size_t)f->warp * 32];
  int nl = std::min(32, b->nthreads - f->warp * 32);
  for (int l = 0; l < nl; ++l)
    if (base[l].state == AT_WARP) try_release_warp(b, f->warp, base[l].wmask);
  // returns to b->sched through uc_link
}

inline const char* state_name(State s) {
  switch (s) {
    case RUNNABLE: return "runnable";
    case AT_BAR: return "__syncthreads";
    case AT_WARP: return "warp primitive";
    default: return "exited";
  }
}

inline bool run_block(Block* b) {
  int n = b->nthreads;
  b->live = n;
  b->bar_arrived = 0;
  b->bar_acc = 0;
  b->bar_result = 0;
  for (int i = 0; i < n; ++i) {
    Fiber& f = b->fibers[i];
    f.linear = i;
    f.tid.x = i % b->bdim.x;
    f.tid.y = (i / b->bdim.x) % b->bdim.y;
    f.tid.z = i / (b->bdim.x * b->bdim.y);
    f.lane = i % 32;
    f.warp = i / 32;
    f.state = RUNNABLE;
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = b->stacks.data() + (size_t)i * b->stack_size;
    f.ctx.uc_stack.ss_size = b->stack_size;
    f.ctx.uc_link = &b->sched;
    makecontext(&f.ctx, (void (*)())fiber_entry, 0);
  }
  g_block = b;
  while (b->live > 0) {
    bool progressed = false;
    for (int k = 0; k < n; ++k) {
      Fiber& f = b->fibers[b->order[k]];
      if (f.state != RUNNABLE) continue;
      g_fiber = &f;
      swapcontext(&b->sched, &f.ctx);
      progressed = true;
    }
    if (!b->error.empty()) return false;
    if (!progressed) {
      int counts[4] = {0, 0, 0, 0};
      int first[4] = {-1, -1, -1, -1};
      for (int i = 0; i < n; ++i) {
        int s = b->fibers[i].state;
        if (first[s] < 0) first[s] = i;
        counts[s]++;
      }
      std::string m = "deadlock in block (" + std::to_string(b->bid.x) +
                      "," + std::to_string(b->bid.y) + "," +
                      std::to_string(b->bid.z) + "): ";
      for (int s = 1; s < 4; ++s)
        if (counts[s])
          m += std::to_string(counts[s]) + " thread(s) " +
               (s == 3 ? "exited" : std::string("waiting at ") +
                                        state_name((State)s)) +
               " (first: linear thread " + std::to_string(first[s]) + "); ";
      m += "a barrier is reached by only some threads of the block/warp";
      b->error = m;
      return false;
    }
  }
  return true;
}

}  // namespace cuda_emu

#define threadIdx (::cuda_emu::g_fiber->tid)
#define blockIdx (::cuda_emu::g_block->bid)
#define blockDim (::cuda_emu::g_block->bdim)
#define gridDim (::cuda_emu::g_block->gdim)
#define warpSize 32

// ---------------------------------------------------------------- barriers
inline void __syncthreads() {
  cuda_emu::Block* b = cuda_emu::g_block;
  cuda_emu::g_fiber->state = cuda_emu::AT_BAR;
  b->bar_arrived++;
  cuda_emu::try_release_bar(b);
  cuda_emu::yield_to_sched();
}
inline int __syncthreads_count(int pred) {
  cuda_emu::g_block->bar_acc += pred ? 1 : 0;
  __syncthreads();
  return (int)cuda_emu::g_block->bar_result;
}
inline int __syncthreads_or(int pred) { return __syncthreads_count(pred) != 0; }
inline int __syncthreads_and(int pred) {
  cuda_emu::Block* b = cuda_emu::g_block;
  b->bar_acc += pred ? 0 : 1;  // counts the falses
  __syncthreads();
  return b->bar_result == 0;
}
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { __threadfence(); }

// ----------------------------------------------------------- warp primitives
namespace cuda_emu {
template <class T>
inline uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8, "warp shuffle of a type wider than 8 bytes");
  uint64_t u = 0;
  memcpy(&u, &v, sizeof(T));
  return u;
}
template <class T>
inline T from_bits(uint64_t u) {
  T v;
  memcpy(&v, &u, sizeof(T));
  return v;
}
}  // namespace cuda_emu

template <class T>
inline T __shfl_sync(unsigned mask, T var, int srcLane, int width = 32) {
  int lane = cuda_emu::g_fiber->lane;
  int base = lane & ~(width - 1);
  int src = base + (srcLane & (width - 1));
  return cuda_emu::from_bits<T>(
      cuda_emu::warp_op(mask, cuda_emu::GATHER, src, cuda_emu::to_bits(var)));
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = 32) {
  int lane = cuda_emu::g_fiber->lane;
  int base = lane & ~(width - 1);
  int src = (lane - base) < (int)delta ? lane : lane - (int)delta;
  return cuda_emu::from_bits<T>(
      cuda_emu::warp_op(mask, cuda_emu::GATHER, src, cuda_emu::to_bits(var)));
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T var, unsigned delta,
                          int width = 32) {
  int lane = cuda_emu::g_fiber->lane;
  int base = lane & ~(width - 1);
  int src = (lane - base) + (int)delta >= width ? lane : lane + (int)delta;
  return cuda_emu::from_bits<T>(
      cuda_emu::warp_op(mask, cuda_emu::GATHER, src, cuda_emu::to_bits(var)));
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T var, int laneMask, int width = 32) {
  int lane = cuda_emu::g_fiber->lane;
  int base = lane & ~(width - 1);
  int src = lane ^ laneMask;
  if (src < base || src >= base + width) src = lane;
  return cuda_emu::from_bits<T>(
      cuda_emu::warp_op(mask, cuda_emu::GATHER, src, cuda_emu::to_bits(var)));
}
inline unsigned __ballot_sync(unsigned mask, int pred) {
  return (unsigned)cuda_emu::warp_op(mask, cuda_emu::BALLOT, 0, pred != 0);
}
inline int __any_sync(unsigned mask, int pred) {
  return __ballot_sync(mask, pred) != 0;
}
inline int __all_sync(unsigned mask, int pred) {
  uint64_t r = cuda_emu::warp_op(mask, cuda_emu::BALLOT, 0, pred != 0);
  return (unsigned)r == (unsigned)(r >> 32);
}
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  cuda_emu::warp_op(mask, cuda_emu::BALLOT, 0, 0);
}
inline unsigned __activemask() {
  cuda_emu::Block* b = cuda_emu::g_block;
  int w = cuda_emu::g_fiber->warp;
  int nl = std::min(32, b->nthreads - w * 32);
  unsigned m = 0;
  for (int l = 0; l < nl; ++l)
    if (b->fibers[(size_t)w * 32 + l].state != cuda_emu::DONE) m |= 1u << l;
  return m;
}
inline unsigned __reduce_add_sync(unsigned mask, unsigned v) {
  unsigned s = 0;
  for (int l = 0; l < 32; ++l)
    if ((mask >> l) & 1u) s += __shfl_sync(mask, v, l);
  return s;
}

// ------------------------------------------------------------------ atomics
namespace cuda_emu {
template <class T, class F>
inline T cas_loop(T* addr, F op) {
  using U = typename std::conditional<sizeof(T) == 4, uint32_t, uint64_t>::type;
  U* p = reinterpret_cast<U*>(addr);
  U old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
  for (;;) {
    T o = from_bits<T>(old);
    T n = op(o);
    U nu = (U)to_bits(n);
    if (__atomic_compare_exchange_n(p, &old, nu, false, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST))
      return o;
  }
}
}  // namespace cuda_emu

#define CUDA_EMU_INT_ATOMICS(T)                                              \
  inline T atomicAdd(T* a, T v) { return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST); } \
  inline T atomicSub(T* a, T v) { return __atomic_fetch_sub(a, v, __ATOMIC_SEQ_CST); } \
  inline T atomicAnd(T* a, T v) { return __atomic_fetch_and(a, v, __ATOMIC_SEQ_CST); } \
  inline T atomicOr(T* a, T v) { return __atomic_fetch_or(a, v, __ATOMIC_SEQ_CST); }   \
  inline T atomicXor(T* a, T v) { return __atomic_fetch_xor(a, v, __ATOMIC_SEQ_CST); } \
  inline T atomicExch(T* a, T v) { return __atomic_exchange_n(a, v, __ATOMIC_SEQ_CST); } \
  inline T atomicMax(T* a, T v) {                                            \
    return cuda_emu::cas_loop(a, [v](T o) { return o > v ? o : v; }); }      \
  inline T atomicMin(T* a, T v) {                                            \
    return cuda_emu::cas_loop(a, [v](T o) { return o < v ? o : v; }); }      \
  inline T atomicCAS(T* a, T cmp, T v) {                                     \
    __atomic_compare_exchange_n(a, &cmp, v, false, __ATOMIC_SEQ_CST,         \
                                __ATOMIC_SEQ_CST);                           \
    return cmp; }
CUDA_EMU_INT_ATOMICS(int)
CUDA_EMU_INT_ATOMICS(unsigned int)
CUDA_EMU_INT_ATOMICS(unsigned long long)
CUDA_EMU_INT_ATOMICS(long long)
#undef CUDA_EMU_INT_ATOMICS
inline float atomicAdd(float* a, float v) {
  return cuda_emu::cas_loop(a, [v](float o) { return o + v; }); }
inline double atomicAdd(double* a, double v) {
  return cuda_emu::cas_loop(a, [v](double o) { return o + v; }); }
inline float atomicExch(float* a, float v) {
  return cuda_emu::cas_loop(a, [v](float) { return v; }); }
inline float atomicMax(float* a, float v) {  // not in CUDA; handy in tests
  return cuda_emu::cas_loop(a, [v](float o) { return fmaxf(o, v); }); }
inline unsigned atomicInc(unsigned* a, unsigned m) {
  return cuda_emu::cas_loop(a, [m](unsigned o) { return o >= m ? 0u : o + 1; }); }
inline unsigned atomicDec(unsigned* a, unsigned m) {
  return cuda_emu::cas_loop(
      a, [m](unsigned o) { return (o == 0 || o > m) ? m : o - 1; }); }

// ----------------------------------------------------------- math intrinsics
template <class A, class B>
inline typename std::common_type<A, B>::type min(A a, B b) {
  typedef typename std::common_type<A, B>::type C;
  return (C)a < (C)b ? (C)a : (C)b;
}
template <class A, class B>
inline typename std::common_type<A, B>::type max(A a, B b) {
  typedef typename std::common_type<A, B>::type C;
  return (C)a > (C)b ? (C)a : (C)b;
}
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __frsqrt_rn(float x) { return 1.0f / sqrtf(x); }
inline float __expf(float x) { return expf(x); }
inline float __exp10f(float x) { return powf(10.0f, x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __tanf(float x) { return tanf(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float __saturatef(float x) { return x < 0.f ? 0.f : (x > 1.f ? 1.f : x); }
inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
inline int __float2int_rz(float x) { return (int)x; }
inline int __float2int_rd(float x) { return (int)floorf(x); }
inline int __float2int_ru(float x) { return (int)ceilf(x); }
inline float __int2float_rn(int x) { return (float)x; }
inline float __int_as_float(int x) { return cuda_emu::from_bits<float>((uint32_t)x); }
inline int __float_as_int(float x) { return (int)(uint32_t)cuda_emu::to_bits(x); }
inline float __uint_as_float(unsigned x) { return cuda_emu::from_bits<float>(x); }
inline unsigned __float_as_uint(float x) { return (uint32_t)cuda_emu::to_bits(x); }
inline double __longlong_as_double(long long x) { return cuda_emu::from_bits<double>((uint64_t)x); }
inline long long __double_as_longlong(double x) { return (long long)cuda_emu::to_bits(x); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x ? __builtin_clz((unsigned)x) : 32; }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __mul24(int a, int b) { return a * b; }
inline unsigned __umul24(unsigned a, unsigned b) { return a * b; }
inline long long clock64() { return (long long)__builtin_ia32_rdtsc(); }
template <class T>
inline T __ldg(const T* p) { return *p; }

// ------------------------------------------------------------- the launcher
namespace cuda_emu {

// Type signature of an entry point, for the Python launcher:
// comma-separated codes, "i4" int32, "u8" uint64, "f4" float, "b1" bool,
// "H2" __half, "B2" __nv_bfloat16,
// "S16" a struct by value, "Pc:f4" const float*, "Pm:i4" int*.
template <class T>
inline void scalar_code(std::string& s) {
  if (std::is_same<T, __half>::value) s += "H";
  else if (std::is_same<T, __nv_bfloat16>::value) s += "B";
  else if (std::is_same<T, bool>::value) s += "b";
  else if (std::is_floating_point<T>::value) s += "f";
  else if (std::is_integral<T>::value) s += std::is_signed<T>::value ? "i" : "u";
  else s += "S";
  s += std::to_string(sizeof(T));
}
template <class T>
inline void type_code(std::string& s) {
  if (std::is_pointer<T>::value) {
    typedef typename std::remove_pointer<T>::type E;
    s += std::is_const<E>::value ? "Pc:" : "Pm:";
    typedef typename std::remove_cv<E>::type B;
    if (std::is_void<B>::value) s += "v0";
    else scalar_code<typename std::conditional<std::is_void<B>::value, char, B>::type>(s);
  } else {
    scalar_code<T>(s);
  }
}
template <class... A>
inline std::string signature_of(void (*)(A...)) {
  std::string s;
  int dummy[] = {0, (type_code<A>(s), s += ",", 0)...};
  (void)dummy;
  if (!s.empty()) s.pop_back();
  return s;
}
template <class... A, size_t... I>
inline void call_with(void (*f)(A...), void** a, std::index_sequence<I...>) {
  f(*static_cast<typename std::remove_reference<A>::type*>(a[I])...);
}
template <class... A>
inline void invoke(void (*f)(A...), void** a) {
  call_with(f, a, std::index_sequence_for<A...>{});
}

inline void* dyn_smem() { return g_block->dyn_smem.data(); }

}  // namespace cuda_emu

// Runs tramp(args) for every thread of every block. order: 0 forward,
// 1 reverse, 2 random (per block, from seed). Returns 0, or 1 with a message
// in err.
extern "C" int cuda_emu_launch(void (*tramp)(void**), void** args,
                               const unsigned* grid, const unsigned* block,
                               unsigned long long shmem, int workers,
                               int order, unsigned long long seed,
                               unsigned long long stack_size, char* err,
                               int errlen) {
  unsigned long long nblocks =
      (unsigned long long)grid[0] * grid[1] * grid[2];
  int nthreads = (int)(block[0] * block[1] * block[2]);
  std::atomic<unsigned long long> next(0);
  std::atomic<int> failed(0);
  std::string first_error;
  std::atomic_flag err_lock = ATOMIC_FLAG_INIT;
  auto worker = [&]() {
    cuda_emu::Block b;
    b.bdim = make_uint3(block[0], block[1], block[2]);
    b.gdim = make_uint3(grid[0], grid[1], grid[2]);
    b.nthreads = nthreads;
    b.fibers.resize(nthreads);
    b.order.resize(nthreads);
    b.stack_size = stack_size;
    b.stacks.resize((size_t)stack_size * nthreads);
    b.dyn_smem.resize(shmem ? shmem : 1);
    b.tramp = tramp;
    b.args = args;
    std::mt19937_64 rng(seed);
    for (;;) {
      if (failed.load()) return;
      unsigned long long i = next.fetch_add(1);
      if (i >= nblocks) return;
      b.bid = make_uint3((unsigned)(i % grid[0]),
                         (unsigned)((i / grid[0]) % grid[1]),
                         (unsigned)(i / ((unsigned long long)grid[0] * grid[1])));
      for (int t = 0; t < nthreads; ++t)
        b.order[t] = order == 1 ? nthreads - 1 - t : t;
      if (order == 2) {
        rng.seed(seed + i);
        std::shuffle(b.order.begin(), b.order.end(), rng);
      }
      // Uninitialised shared memory reads NaN (0xff bytes) on purpose.
      memset(b.dyn_smem.data(), 0xff, b.dyn_smem.size());
      if (!cuda_emu::run_block(&b)) {
        if (!failed.exchange(1)) {
          while (err_lock.test_and_set()) {}
          first_error = b.error;
          err_lock.clear();
        }
        return;
      }
    }
  };
  if (workers <= 1 || nblocks <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    unsigned long long nw = std::min<unsigned long long>(workers, nblocks);
    for (unsigned long long w = 0; w < nw; ++w) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  cuda_emu::g_block = nullptr;
  cuda_emu::g_fiber = nullptr;
  if (failed.load()) {
    snprintf(err, errlen, "%s", first_error.c_str());
    return 1;
  }
  return 0;
}
