// softmax.cu -- softmax over the last axis of a (M, C) float32 C-contiguous
// array, forward and backward (ops.softmax / activations.softmax on the GPU;
// other axes are moved last by the caller). One block per row, a fixed-order
// tree reduction in shared memory: deterministic.

// SMX_THREADS is mirrored by SOFTMAX_THREADS in backend/gpu/attention.py.
#define SMX_THREADS 128

__device__ __forceinline__ float gk_smx_reduce(float v, float* red, int op) {
  int t = threadIdx.x;
  red[t] = v;
  __syncthreads();
  for (int s = SMX_THREADS / 2; s > 0; s >>= 1) {
    if (t < s) red[t] = op ? fmaxf(red[t], red[t + s]) : red[t] + red[t + s];
    __syncthreads();
  }
  float r = red[0];
  __syncthreads();
  return r;
}

// softmax_fwd
//   grid = (M,), block = (SMX_THREADS,). x (M, C) -> y (M, C); y may alias x.
//   Any C >= 1.
extern "C" __global__ void softmax_fwd(const float* x, float* y, long long M,
                                       int C) {
  __shared__ float red[SMX_THREADS];
  const long long row = blockIdx.x;
  const float* xr = x + row * C;
  float* yr = y + row * C;
  const int t = threadIdx.x;
  float mx = -3.0e38f;
  for (int j = t; j < C; j += SMX_THREADS) mx = fmaxf(mx, xr[j]);
  mx = gk_smx_reduce(mx, red, 1);
  float sum = 0.0f;
  for (int j = t; j < C; j += SMX_THREADS) sum += expf(xr[j] - mx);
  sum = gk_smx_reduce(sum, red, 0);
  const float inv = 1.0f / sum;
  for (int j = t; j < C; j += SMX_THREADS) yr[j] = expf(xr[j] - mx) * inv;
}

// softmax_bwd
//   grid = (M,), block = (SMX_THREADS,). dy, y (M, C) -> dx (M, C),
//   dx = y * (dy - sum(dy * y)); dx may alias dy.
extern "C" __global__ void softmax_bwd(const float* dy,
                                       const float* __restrict__ y, float* dx,
                                       long long M, int C) {
  __shared__ float red[SMX_THREADS];
  const long long row = blockIdx.x;
  const float* g = dy + row * C;
  const float* yr = y + row * C;
  float* out = dx + row * C;
  const int t = threadIdx.x;
  float acc = 0.0f;
  for (int j = t; j < C; j += SMX_THREADS) acc += g[j] * yr[j];
  acc = gk_smx_reduce(acc, red, 0);
  for (int j = t; j < C; j += SMX_THREADS) out[j] = yr[j] * (g[j] - acc);
}
