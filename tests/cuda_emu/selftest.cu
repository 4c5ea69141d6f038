// Self-test kernels of the CUDA emulator (tests/cuda_emu); not shipped.

__device__ __forceinline__ float warp_sum(float v) {
  for (int off = 16; off > 0; off >>= 1)
    v += __shfl_down_sync(0xffffffffu, v, off);
  return v;
}

// grid: (ceil(n / blockDim.x)), block: (any multiple of 32 up to 1024).
// out[blockIdx.x] = sum of x over the block's slice: warp shuffles, then
// the warp sums through static shared memory.
extern "C" __global__ void block_sum(const float* __restrict__ x,
                                     float* __restrict__ out, int n) {
  __shared__ float warp_sums[32];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = i < n ? __ldg(x + i) : 0.f;
  v = warp_sum(v);
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  if (warp == 0) {
    int nw = (blockDim.x + 31) / 32;
    v = lane < nw ? warp_sums[lane] : 0.f;
    v = warp_sum(v);
    if (lane == 0) out[blockIdx.x] = v;
  }
}

// Reverses each block's slice through dynamic shared memory (2-D block).
// block: (bx, by), shared_mem = bx*by*4 bytes.
extern "C" __global__ void reverse_blocks(const float* x, float* y, int n) {
  extern __shared__ float buf[];
  int t = threadIdx.y * blockDim.x + threadIdx.x;
  int nt = blockDim.x * blockDim.y;
  int i = blockIdx.x * nt + t;
  buf[t] = i < n ? x[i] : 0.f;
  __syncthreads();
  int j = blockIdx.x * nt + (nt - 1 - t);
  if (j < n) y[j] = buf[t];
}

// Same as reverse_blocks but without the barrier: must fail in some order.
extern "C" __global__ void reverse_racy(const float* x, float* y, int n) {
  extern __shared__ float buf[];
  int t = threadIdx.x, nt = blockDim.x;
  int i = blockIdx.x * nt + t;
  buf[t] = i < n ? x[i] : 0.f;
  int j = blockIdx.x * nt + (nt - 1 - t);
  if (j < n) y[j] = buf[nt - 1 - t];
}

// When n == 0 thread 0 waits in a shuffle for lane 1 while lane 1 waits at
// the block barrier for thread 0: a deadlock to detect.
extern "C" __global__ void bad_barrier(int* out, int n) {
  int v = threadIdx.x;
  if (threadIdx.x == 0 && n == 0) v = __shfl_sync(0xffffffffu, v, 1);
  else __syncthreads();
  out[threadIdx.x] = 1 + v - threadIdx.x;
}

// Warp votes, xor butterfly, integer and float atomics, int64 scalars.
extern "C" __global__ void warp_misc(const float* x, unsigned* ballots,
                                     float* xor_sum, int* count,
                                     float* total, long long base) {
  int t = threadIdx.x, lane = t & 31;
  float v = x[blockIdx.x * blockDim.x + t];
  unsigned b = __ballot_sync(0xffffffffu, v > 0.f);
  float s = v;
  for (int m = 16; m > 0; m >>= 1) s += __shfl_xor_sync(0xffffffffu, s, m);
  if (lane == 0) ballots[blockIdx.x * (blockDim.x / 32) + t / 32] = b;
  xor_sum[blockIdx.x * blockDim.x + t] = s;
  if (v > 0.f) atomicAdd(count, 1);
  atomicAdd(total, v + (float)(base - base));
}

// Writes one element past the end: must be reported.
extern "C" __global__ void oob_write(float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i <= n) y[i] = 1.f;
}
