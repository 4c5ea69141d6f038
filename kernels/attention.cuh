#ifndef GKERAS_ATTENTION_CUH
#define GKERAS_ATTENTION_CUH

// attention.cuh -- scaled dot-product attention (the templates; the entry
// points are in attention.cu): a flash-style fused path
// (forward + deterministic backward, never materialising the Tq x Tk matrix)
// and the general path's fused scale + mask (+ causal) + softmax + dropout
// row kernel and its backward (used around cuBLAS batched GEMMs).
//
// Layout: q (B, H, Tq, D), k (B, H, Tk, D), v (B, H, Tk, Dv), out
// (B, H, Tq, Dv), C-contiguous float (entry points without a suffix),
// __half (_f16) or __nv_bfloat16 (_bf16), as are scores / probs / their
// gradients on the general path; rows of the lse / delta vectors are
// (B, H, Tq), float32 in all three. Tiles live in shared memory as float32
// and all arithmetic is float32 (half.cuh): 16-bit data is converted when
// loaded and rounded once when stored. The optional boolean mask is read
// in place through element strides (msb, msh, msq, msk) of its broadcast
// view to (B, H, Tq, Tk) (stride 0 on broadcast axes); mask == NULL means none.
//
// Semantics (identical to gkeras/backend/cpu/attention.py):
//   s_ij = valid_ij ? scale * q_i.k_j : GK_NEG_LOGIT       (finite, as Keras)
//   valid_ij = mask_ij && (!causal || j <= i)               (top-left causal)
//   p = softmax_j(s);  zero_fm: rows with no valid key give p = 0
//   dropout: keep_ij = gk_dropout_keep(...) (counter hash of seed,b,h,i,j),
//            pd = keep ? p * drop_scale : 0;  out = pd @ v
// Fully masked rows keep lse = GK_LSE_MASKED, so the backward knows them.
//
// Determinism: every output element is produced by one thread in a fixed
// order; no atomics anywhere.

#include "half.cuh"

#define GK_NEG_LOGIT (-1.0e30f)
#define GK_M_INIT (-3.0e38f)
#define GK_LSE_MASKED (3.0e38f)
#define GK_FULLY_MASKED_M (-1.0e29f)

// flash tile sizes (the Python wrapper mirrors them in
// gkeras/backend/gpu/attention.py: FLASH_BM, FLASH_BN, FLASH_THREADS,
// FLASH_MAX_HEAD_DIM)
#define FA_BM 16
#define FA_BN 16
#define FA_THREADS 128
#define FA_MAXD 128
#define FA_ACC ((FA_BN * FA_MAXD) / FA_THREADS)

#define SM_THREADS 128

// ------------------------------------------------------------ helpers

// lowbias32 integer finaliser; _mix32 in backend/cpu/attention.py.
__device__ __forceinline__ unsigned int gk_mix32(unsigned int x) {
  x ^= x >> 16;
  x *= 0x7FEB352Du;
  x ^= x >> 15;
  x *= 0x846CA68Bu;
  x ^= x >> 16;
  return x;
}

// Per-row part of the dropout hash: k2 = mix(mix(mix(seed^c) ^ bh) ^ i).
__device__ __forceinline__ unsigned int gk_row_key(unsigned int seed,
                                                   unsigned int bh,
                                                   unsigned int i) {
  unsigned int k0 = gk_mix32(seed ^ 0x9E3779B9u);
  unsigned int k1 = gk_mix32(k0 ^ bh);
  return gk_mix32(k1 ^ i);
}

__device__ __forceinline__ bool gk_dropout_keep(unsigned int row_key,
                                                unsigned int j,
                                                unsigned int thr) {
  unsigned int r = gk_mix32(row_key ^ gk_mix32(j ^ 0x632BE5ABu));
  return (r >> 8) >= thr;
}

__device__ __forceinline__ bool gk_valid(const unsigned char* mask,
                                         long long moff, long long msk,
                                         int causal, int i, int j) {
  if (causal && j > i) return false;
  if (mask != 0 && mask[moff + (long long)j * msk] == 0) return false;
  return true;
}

// Tree reduction over a block of SM_THREADS threads (power of two).
// op 0 = sum, 1 = max. All threads must call it; returns the result to all.
__device__ __forceinline__ float gk_block_reduce(float v, float* red, int op) {
  int t = threadIdx.x;
  red[t] = v;
  __syncthreads();
  for (int s = SM_THREADS / 2; s > 0; s >>= 1) {
    if (t < s) red[t] = op ? fmaxf(red[t], red[t + s]) : red[t] + red[t + s];
    __syncthreads();
  }
  float r = red[0];
  __syncthreads();
  return r;
}

// ------------------------------------------------------- flash forward
// flash_attn_fwd
//   grid  = (B*H, ceil(Tq / FA_BM)), block = (FA_THREADS,)
//   q (B,H,Tq,D), k (B,H,Tk,D), v (B,H,Tk,Dv) -> out (B,H,Tq,Dv),
//   lse (B,H,Tq) (natural log-sum-exp of the scaled, masked scores;
//   GK_LSE_MASKED for fully masked rows).
//   Limits: D <= FA_MAXD (128), Dv <= FA_MAXD; Tq/FA_BM <= 65535 (grid y).
//   drop_thr = 0 means no dropout. Causal tiles past the diagonal are
//   skipped only when mask == NULL (no fully masked row can occur then).
template <typename T>
__device__ __forceinline__ void gk_flash_attn_fwd(
    const T* __restrict__ q, const T* __restrict__ k,
    const T* __restrict__ v, T* __restrict__ out,
    float* __restrict__ lse, const unsigned char* __restrict__ mask,
    long long msb, long long msh, long long msq, long long msk,
    int B, int H, int Tq, int Tk, int D, int Dv, float scale, int causal,
    int zero_fm, unsigned int drop_thr, float drop_scale,
    unsigned int seed) {
  __shared__ float Qs[FA_BM][FA_MAXD];
  __shared__ float Ks[FA_BN][FA_MAXD];
  __shared__ float Vs[FA_BN][FA_MAXD];
  __shared__ float Os[FA_BM][FA_MAXD];
  __shared__ float Ss[FA_BM][FA_BN];
  __shared__ float m_s[FA_BM], l_s[FA_BM], a_s[FA_BM];
  __shared__ unsigned int key_s[FA_BM];

  const int tid = threadIdx.x;
  const int bh = blockIdx.x;
  const int b = bh / H, h = bh % H;
  const int i0 = blockIdx.y * FA_BM;
  const T* qb = q + (long long)bh * Tq * D;
  const T* kb = k + (long long)bh * Tk * D;
  const T* vb = v + (long long)bh * Tk * Dv;
  const long long mbase = (long long)b * msb + (long long)h * msh;

  for (int e = tid; e < FA_BM * D; e += FA_THREADS) {
    int r = e / D, c = e % D;
    Qs[r][c] = (i0 + r < Tq) ? gk_f32(qb[(long long)(i0 + r) * D + c]) : 0.0f;
  }
  for (int e = tid; e < FA_BM * Dv; e += FA_THREADS) Os[e / Dv][e % Dv] = 0.0f;
  if (tid < FA_BM) {
    m_s[tid] = GK_M_INIT;
    l_s[tid] = 0.0f;
    key_s[tid] = drop_thr ? gk_row_key(seed, (unsigned)bh, (unsigned)(i0 + tid))
                          : 0u;
  }
  int kend = Tk;
  if (causal && mask == 0 && i0 + FA_BM < Tk) kend = i0 + FA_BM;
  __syncthreads();

  for (int j0 = 0; j0 < kend; j0 += FA_BN) {
    for (int e = tid; e < FA_BN * D; e += FA_THREADS) {
      int r = e / D, c = e % D;
      Ks[r][c] = (j0 + r < Tk) ? gk_f32(kb[(long long)(j0 + r) * D + c]) : 0.0f;
    }
    for (int e = tid; e < FA_BN * Dv; e += FA_THREADS) {
      int r = e / Dv, c = e % Dv;
      Vs[r][c] = (j0 + r < Tk)
          ? gk_f32(vb[(long long)(j0 + r) * Dv + c])
          : 0.0f;
    }
    __syncthreads();
    for (int e = tid; e < FA_BM * FA_BN; e += FA_THREADS) {
      int r = e / FA_BN, c = e % FA_BN;
      int i = i0 + r, j = j0 + c;
      float s;
      if (j >= Tk) {
        s = GK_M_INIT;  // not a key: contributes exactly 0
      } else if (i >= Tq) {
        s = 0.0f;  // padding query row: computed, never written
      } else {
        float dot = 0.0f;
        for (int d = 0; d < D; ++d) dot += Qs[r][d] * Ks[c][d];
        s = gk_valid(mask, mbase + (long long)i * msq, msk, causal, i, j)
                ? dot * scale : GK_NEG_LOGIT;
      }
      Ss[r][c] = s;
    }
    __syncthreads();
    if (tid < FA_BM) {
      const int r = tid;
      float mold = m_s[r], mx = mold;
      for (int c = 0; c < FA_BN; ++c) mx = fmaxf(mx, Ss[r][c]);
      float alpha = expf(mold - mx);
      float sum = 0.0f;
      for (int c = 0; c < FA_BN; ++c) {
        float p = expf(Ss[r][c] - mx);
        sum += p;
        if (drop_thr) {
          int j = j0 + c;
          p = (j < Tk && gk_dropout_keep(key_s[r], (unsigned)j, drop_thr))
                  ? p * drop_scale : 0.0f;
        }
        Ss[r][c] = p;
      }
      l_s[r] = l_s[r] * alpha + sum;
      m_s[r] = mx;
      a_s[r] = alpha;
    }
    __syncthreads();
    for (int e = tid; e < FA_BM * Dv; e += FA_THREADS) {
      int r = e / Dv, c = e % Dv;
      float acc = Os[r][c] * a_s[r];
      for (int jj = 0; jj < FA_BN; ++jj) acc += Ss[r][jj] * Vs[jj][c];
      Os[r][c] = acc;
    }
    __syncthreads();
  }

  T* ob = out + (long long)bh * Tq * Dv;
  for (int e = tid; e < FA_BM * Dv; e += FA_THREADS) {
    int r = e / Dv, c = e % Dv;
    if (i0 + r >= Tq) continue;
    bool full = m_s[r] < GK_FULLY_MASKED_M;
    ob[(long long)(i0 + r) * Dv + c] =
        gk_cast<T>((full && zero_fm) ? 0.0f : Os[r][c] / l_s[r]);
  }
  if (tid < FA_BM && i0 + tid < Tq) {
    bool full = m_s[tid] < GK_FULLY_MASKED_M;
    lse[(long long)bh * Tq + i0 + tid] =
        full ? GK_LSE_MASKED : m_s[tid] + logf(l_s[tid]);
  }
}

// ------------------------------------------------------ flash backward
// flash_attn_bwd_preprocess
//   grid = (ceil(rows / FA_THREADS),), block = (FA_THREADS,),
//   rows = B*H*Tq.  delta[row] = sum_c dout[row, c] * out[row, c]
//   (= sum_j p_ij dp_ij, also with dropout).
template <typename T>
__device__ __forceinline__ void gk_flash_attn_bwd_preprocess(
    const T* __restrict__ dout, const T* __restrict__ out,
    float* __restrict__ delta, long long rows, int Dv) {
  long long row = (long long)blockIdx.x * FA_THREADS + threadIdx.x;
  if (row >= rows) return;
  const T* a = dout + row * Dv;
  const T* o = out + row * Dv;
  float s = 0.0f;
  for (int c = 0; c < Dv; ++c) s += gk_f32(a[c]) * gk_f32(o[c]);
  delta[row] = s;
}

// Recomputes p_ij, and dS_ij = p_ij (dp_ij - delta_i) (0 where masked), for
// one (query row, key) pair of the backward kernels. Also returns pd_ij.
__device__ __forceinline__ void gk_flash_bwd_entry(
    float dot_qk, float dot_dov, bool valid, float lse_i, float delta_i,
    float scale, int zero_fm, float inv_tk, bool drop, bool keep,
    float drop_scale, float* pd_out, float* ds_out) {
  bool full = lse_i > 1.0e38f;
  float p;
  if (valid) p = expf(dot_qk * scale - lse_i);
  else p = (full && !zero_fm) ? inv_tk : 0.0f;
  float dp = dot_dov;
  float pd = p;
  if (drop) {
    dp = keep ? dp * drop_scale : 0.0f;
    pd = keep ? p * drop_scale : 0.0f;
  }
  *pd_out = pd;
  *ds_out = valid ? p * (dp - delta_i) : 0.0f;
}

// flash_attn_bwd_dq
//   grid = (B*H, ceil(Tq / FA_BM)), block = (FA_THREADS,)
//   dq (B,H,Tq,D) from q, k, v, dout (B,H,Tq,Dv), lse and delta (B,H,Tq).
//   Same limits and options as flash_attn_fwd. Each block owns FA_BM query
//   rows and loops over all key tiles (no atomics: deterministic).
template <typename T>
__device__ __forceinline__ void gk_flash_attn_bwd_dq(
    const T* __restrict__ q, const T* __restrict__ k,
    const T* __restrict__ v, const T* __restrict__ dout,
    const float* __restrict__ lse, const float* __restrict__ delta,
    T* __restrict__ dq, const unsigned char* __restrict__ mask,
    long long msb, long long msh, long long msq, long long msk,
    int B, int H, int Tq, int Tk, int D, int Dv, float scale, int causal,
    int zero_fm, unsigned int drop_thr, float drop_scale,
    unsigned int seed) {
  __shared__ float Qs[FA_BM][FA_MAXD];
  __shared__ float dOs[FA_BM][FA_MAXD];
  __shared__ float Ks[FA_BN][FA_MAXD];
  __shared__ float Vs[FA_BN][FA_MAXD];
  __shared__ float dQs[FA_BM][FA_MAXD];
  __shared__ float dSs[FA_BM][FA_BN];
  __shared__ float lse_s[FA_BM], del_s[FA_BM];
  __shared__ unsigned int key_s[FA_BM];

  const int tid = threadIdx.x;
  const int bh = blockIdx.x;
  const int b = bh / H, h = bh % H;
  const int i0 = blockIdx.y * FA_BM;
  const T* kb = k + (long long)bh * Tk * D;
  const T* vb = v + (long long)bh * Tk * Dv;
  const long long mbase = (long long)b * msb + (long long)h * msh;
  const float inv_tk = 1.0f / (float)Tk;

  for (int e = tid; e < FA_BM * D; e += FA_THREADS) {
    int r = e / D, c = e % D;
    bool in = i0 + r < Tq;
    Qs[r][c] = in ? gk_f32(q[((long long)bh * Tq + i0 + r) * D + c]) : 0.0f;
    dQs[r][c] = 0.0f;
  }
  for (int e = tid; e < FA_BM * Dv; e += FA_THREADS) {
    int r = e / Dv, c = e % Dv;
    dOs[r][c] = (i0 + r < Tq)
        ? gk_f32(dout[((long long)bh * Tq + i0 + r) * Dv + c])
                              : 0.0f;
  }
  if (tid < FA_BM) {
    bool in = i0 + tid < Tq;
    lse_s[tid] = in ? lse[(long long)bh * Tq + i0 + tid] : GK_LSE_MASKED;
    del_s[tid] = in ? delta[(long long)bh * Tq + i0 + tid] : 0.0f;
    key_s[tid] = drop_thr ? gk_row_key(seed, (unsigned)bh, (unsigned)(i0 + tid))
                          : 0u;
  }
  int kend = Tk;
  if (causal && mask == 0 && i0 + FA_BM < Tk) kend = i0 + FA_BM;
  __syncthreads();

  for (int j0 = 0; j0 < kend; j0 += FA_BN) {
    for (int e = tid; e < FA_BN * D; e += FA_THREADS) {
      int r = e / D, c = e % D;
      Ks[r][c] = (j0 + r < Tk) ? gk_f32(kb[(long long)(j0 + r) * D + c]) : 0.0f;
    }
    for (int e = tid; e < FA_BN * Dv; e += FA_THREADS) {
      int r = e / Dv, c = e % Dv;
      Vs[r][c] = (j0 + r < Tk)
          ? gk_f32(vb[(long long)(j0 + r) * Dv + c])
          : 0.0f;
    }
    __syncthreads();
    for (int e = tid; e < FA_BM * FA_BN; e += FA_THREADS) {
      int r = e / FA_BN, c = e % FA_BN;
      int i = i0 + r, j = j0 + c;
      float ds = 0.0f;
      if (i < Tq && j < Tk) {
        float dqk = 0.0f, ddv = 0.0f;
        for (int d = 0; d < D; ++d) dqk += Qs[r][d] * Ks[c][d];
        for (int d = 0; d < Dv; ++d) ddv += dOs[r][d] * Vs[c][d];
        bool valid = gk_valid(mask, mbase + (long long)i * msq, msk, causal,
                              i, j);
        bool keep = drop_thr
            ? gk_dropout_keep(key_s[r], (unsigned)j, drop_thr) : true;
        float pd;
        gk_flash_bwd_entry(dqk, ddv, valid, lse_s[r], del_s[r], scale,
                           zero_fm, inv_tk, drop_thr != 0u, keep, drop_scale,
                           &pd, &ds);
      }
      dSs[r][c] = ds;
    }
    __syncthreads();
    for (int e = tid; e < FA_BM * D; e += FA_THREADS) {
      int r = e / D, c = e % D;
      float acc = dQs[r][c];
      for (int jj = 0; jj < FA_BN; ++jj) acc += dSs[r][jj] * Ks[jj][c];
      dQs[r][c] = acc;
    }
    __syncthreads();
  }
  for (int e = tid; e < FA_BM * D; e += FA_THREADS) {
    int r = e / D, c = e % D;
    if (i0 + r < Tq) dq[((long long)bh * Tq + i0 + r) * D + c] =
        gk_cast<T>(dQs[r][c] * scale);
  }
}

// flash_attn_bwd_dkdv
//   grid = (B*H, ceil(Tk / FA_BN)), block = (FA_THREADS,)
//   dk (B,H,Tk,D), dv (B,H,Tk,Dv). Each block owns FA_BN keys and loops
//   over all query tiles, accumulating in registers (deterministic).
//   Same limits and options as flash_attn_fwd.
template <typename T>
__device__ __forceinline__ void gk_flash_attn_bwd_dkdv(
    const T* __restrict__ q, const T* __restrict__ k,
    const T* __restrict__ v, const T* __restrict__ dout,
    const float* __restrict__ lse, const float* __restrict__ delta,
    T* __restrict__ dk, T* __restrict__ dv,
    const unsigned char* __restrict__ mask,
    long long msb, long long msh, long long msq, long long msk,
    int B, int H, int Tq, int Tk, int D, int Dv, float scale, int causal,
    int zero_fm, unsigned int drop_thr, float drop_scale,
    unsigned int seed) {
  __shared__ float Ks[FA_BN][FA_MAXD];
  __shared__ float Vs[FA_BN][FA_MAXD];
  __shared__ float Qs[FA_BM][FA_MAXD];
  __shared__ float dOs[FA_BM][FA_MAXD];
  __shared__ float Pds[FA_BM][FA_BN];
  __shared__ float dSs[FA_BM][FA_BN];
  __shared__ float lse_s[FA_BM], del_s[FA_BM];
  __shared__ unsigned int key_s[FA_BM];

  const int tid = threadIdx.x;
  const int bh = blockIdx.x;
  const int b = bh / H, h = bh % H;
  const int j0 = blockIdx.y * FA_BN;
  const T* qb = q + (long long)bh * Tq * D;
  const T* ob = dout + (long long)bh * Tq * Dv;
  const long long mbase = (long long)b * msb + (long long)h * msh;
  const float inv_tk = 1.0f / (float)Tk;

  float dk_acc[FA_ACC];
  float dv_acc[FA_ACC];
#pragma unroll
  for (int u = 0; u < FA_ACC; ++u) { dk_acc[u] = 0.0f; dv_acc[u] = 0.0f; }

  for (int e = tid; e < FA_BN * D; e += FA_THREADS) {
    int r = e / D, c = e % D;
    Ks[r][c] = (j0 + r < Tk)
        ? gk_f32(k[((long long)bh * Tk + j0 + r) * D + c])
        : 0.0f;
  }
  for (int e = tid; e < FA_BN * Dv; e += FA_THREADS) {
    int r = e / Dv, c = e % Dv;
    Vs[r][c] = (j0 + r < Tk) ? gk_f32(v[((long long)bh * Tk + j0 + r) * Dv + c])
                             : 0.0f;
  }
  int istart = 0;
  if (causal && mask == 0) istart = (j0 / FA_BM) * FA_BM;

  for (int i0 = istart; i0 < Tq; i0 += FA_BM) {
    for (int e = tid; e < FA_BM * D; e += FA_THREADS) {
      int r = e / D, c = e % D;
      Qs[r][c] = (i0 + r < Tq) ? gk_f32(qb[(long long)(i0 + r) * D + c]) : 0.0f;
    }
    for (int e = tid; e < FA_BM * Dv; e += FA_THREADS) {
      int r = e / Dv, c = e % Dv;
      dOs[r][c] = (i0 + r < Tq)
          ? gk_f32(ob[(long long)(i0 + r) * Dv + c])
          : 0.0f;
    }
    if (tid < FA_BM) {
      bool in = i0 + tid < Tq;
      lse_s[tid] = in ? lse[(long long)bh * Tq + i0 + tid] : GK_LSE_MASKED;
      del_s[tid] = in ? delta[(long long)bh * Tq + i0 + tid] : 0.0f;
      key_s[tid] = drop_thr
          ? gk_row_key(seed, (unsigned)bh, (unsigned)(i0 + tid)) : 0u;
    }
    __syncthreads();
    for (int e = tid; e < FA_BM * FA_BN; e += FA_THREADS) {
      int r = e / FA_BN, c = e % FA_BN;
      int i = i0 + r, j = j0 + c;
      float pd = 0.0f, ds = 0.0f;
      if (i < Tq && j < Tk) {
        float dqk = 0.0f, ddv = 0.0f;
        for (int d = 0; d < D; ++d) dqk += Qs[r][d] * Ks[c][d];
        for (int d = 0; d < Dv; ++d) ddv += dOs[r][d] * Vs[c][d];
        bool valid = gk_valid(mask, mbase + (long long)i * msq, msk, causal,
                              i, j);
        bool keep = drop_thr
            ? gk_dropout_keep(key_s[r], (unsigned)j, drop_thr) : true;
        gk_flash_bwd_entry(dqk, ddv, valid, lse_s[r], del_s[r], scale,
                           zero_fm, inv_tk, drop_thr != 0u, keep, drop_scale,
                           &pd, &ds);
      }
      Pds[r][c] = pd;
      dSs[r][c] = ds;
    }
    __syncthreads();
#pragma unroll
    for (int u = 0; u < FA_ACC; ++u) {
      int e = tid + u * FA_THREADS;
      if (e < FA_BN * Dv) {
        int jr = e / Dv, c = e % Dv;
        float acc = dv_acc[u];
        for (int r = 0; r < FA_BM; ++r) acc += Pds[r][jr] * dOs[r][c];
        dv_acc[u] = acc;
      }
      if (e < FA_BN * D) {
        int jr = e / D, c = e % D;
        float acc = dk_acc[u];
        for (int r = 0; r < FA_BM; ++r) acc += dSs[r][jr] * Qs[r][c];
        dk_acc[u] = acc;
      }
    }
    __syncthreads();
  }
#pragma unroll
  for (int u = 0; u < FA_ACC; ++u) {
    int e = tid + u * FA_THREADS;
    if (e < FA_BN * Dv) {
      int jr = e / Dv, c = e % Dv;
      if (j0 + jr < Tk) dv[((long long)bh * Tk + j0 + jr) * Dv + c] =
          gk_cast<T>(dv_acc[u]);
    }
    if (e < FA_BN * D) {
      int jr = e / D, c = e % D;
      if (j0 + jr < Tk)
        dk[((long long)bh * Tk + j0 + jr) * D + c] =
            gk_cast<T>(dk_acc[u] * scale);
    }
  }
}

// ------------------------------------------ general path: row softmax
// attn_softmax_fwd
//   grid = (B*H*Tq,), block = (SM_THREADS,): one block per score row.
//   scores (B,H,Tq,Tk) -> probs (may alias scores) and, when drop_thr != 0,
//   probs_dropped (a separate buffer). Any Tk.
template <typename T>
__device__ __forceinline__ void gk_attn_softmax_fwd(
    const T* scores, T* probs, T* probs_dropped,
    const unsigned char* __restrict__ mask,
    long long msb, long long msh, long long msq, long long msk,
    int B, int H, int Tq, int Tk, float scale, int causal, int zero_fm,
    unsigned int drop_thr, float drop_scale, unsigned int seed) {
  __shared__ float red[SM_THREADS];
  const long long row = blockIdx.x;
  const int i = (int)(row % Tq);
  const int bh = (int)(row / Tq);
  const int b = bh / H, h = bh % H;
  const long long moff = (long long)b * msb + (long long)h * msh +
                         (long long)i * msq;
  const T* x = scores + row * Tk;
  const int t = threadIdx.x;

  float mx = GK_M_INIT;
  for (int j = t; j < Tk; j += SM_THREADS) {
    float s = gk_valid(mask, moff, msk, causal, i, j) ? gk_f32(x[j]) * scale
                                                      : GK_NEG_LOGIT;
    mx = fmaxf(mx, s);
  }
  mx = gk_block_reduce(mx, red, 1);
  float sum = 0.0f;
  for (int j = t; j < Tk; j += SM_THREADS) {
    float s = gk_valid(mask, moff, msk, causal, i, j) ? gk_f32(x[j]) * scale
                                                      : GK_NEG_LOGIT;
    sum += expf(s - mx);
  }
  sum = gk_block_reduce(sum, red, 0);
  const float inv = 1.0f / sum;
  const unsigned int key = drop_thr ? gk_row_key(seed, (unsigned)bh,
                                                 (unsigned)i) : 0u;
  T* y = probs + row * Tk;
  for (int j = t; j < Tk; j += SM_THREADS) {
    bool valid = gk_valid(mask, moff, msk, causal, i, j);
    float s = valid ? gk_f32(x[j]) * scale : GK_NEG_LOGIT;
    float p = expf(s - mx) * inv;
    if (zero_fm && !valid) p = 0.0f;
    y[j] = gk_cast<T>(p);
    if (drop_thr)
      probs_dropped[row * Tk + j] =
          gk_cast<T>(gk_dropout_keep(key, (unsigned)j, drop_thr)
                         ? p * drop_scale : 0.0f);
  }
}

// attn_softmax_bwd
//   grid = (B*H*Tq,), block = (SM_THREADS,).
//   dprobs = gradient w.r.t. probs_dropped, probs (B,H,Tq,Tk) ->
//   dscores = scale * valid * p * (dp - sum_j p dp), dp = dropout(dprobs).
//   dscores may alias dprobs.
template <typename T>
__device__ __forceinline__ void gk_attn_softmax_bwd(
    const T* dprobs, const T* __restrict__ probs, T* dscores,
    const unsigned char* __restrict__ mask,
    long long msb, long long msh, long long msq, long long msk,
    int B, int H, int Tq, int Tk, float scale, int causal,
    unsigned int drop_thr, float drop_scale, unsigned int seed) {
  __shared__ float red[SM_THREADS];
  const long long row = blockIdx.x;
  const int i = (int)(row % Tq);
  const int bh = (int)(row / Tq);
  const int b = bh / H, h = bh % H;
  const long long moff = (long long)b * msb + (long long)h * msh +
                         (long long)i * msq;
  const T* g = dprobs + row * Tk;
  const T* p = probs + row * Tk;
  const int t = threadIdx.x;
  const unsigned int key = drop_thr ? gk_row_key(seed, (unsigned)bh,
                                                 (unsigned)i) : 0u;
  float acc = 0.0f;
  for (int j = t; j < Tk; j += SM_THREADS) {
    float dp = gk_f32(g[j]);
    if (drop_thr)
      dp = gk_dropout_keep(key, (unsigned)j, drop_thr) ? dp * drop_scale : 0.0f;
    acc += dp * gk_f32(p[j]);
  }
  acc = gk_block_reduce(acc, red, 0);
  T* out = dscores + row * Tk;
  for (int j = t; j < Tk; j += SM_THREADS) {
    float dp = gk_f32(g[j]);
    if (drop_thr)
      dp = gk_dropout_keep(key, (unsigned)j, drop_thr) ? dp * drop_scale : 0.0f;
    bool valid = gk_valid(mask, moff, msk, causal, i, j);
    out[j] = gk_cast<T>(valid ? gk_f32(p[j]) * (dp - acc) * scale : 0.0f);
  }
}

#endif  // GKERAS_ATTENTION_CUH
