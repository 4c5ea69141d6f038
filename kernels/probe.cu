// probe.cu -- the one-launch check that CuPy can compile and run gkeras's
// kernels on this machine (NVRTC present and matching the driver, the
// device usable). Run once when the backend is chosen.

// gk_probe
//   grid = (1,), block = (32,); y[i] = 2 * x[i] + 1 for i < n (n <= 32),
//   float32.
extern "C" __global__ void gk_probe(const float* __restrict__ x,
                                    float* __restrict__ y, int n) {
  const int i = threadIdx.x;
  if (i < n) y[i] = 2.0f * x[i] + 1.0f;
}
