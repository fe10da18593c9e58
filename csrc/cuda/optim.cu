// Fused optimizer updates on CUDA (formulas in kernels/optim.h; the CPU kernels of
// csrc/cpu/optim.cpp compute the same per-element expressions). Each update is one grid-stride
// kernel that reads g once and reads and writes w and its slots once. Each kernel takes its
// gradient from a source (DenseG, WalkG, ListedG below), so the dense and the row-sparse
// updates share one body. Options are uniform
// branches (the same for every thread), null slots are never touched.
// sum_squares: a fixed grid (a function of n only) of per-block partial sums, then one thread
// adds them in order in double, so a run repeats bit for bit.
#include "kernels/optim.h"

#include "cuda/common.cuh"

namespace fastnn::cuda {

namespace {

constexpr int kSumBlocks = 1024;  // most partial sums of sum_squares

__device__ __forceinline__ float prep_grad(float g, const UpdatePrep& p) {
  float x = g * p.grad_scale;
  x = x < -p.clip_value ? -p.clip_value : x;
  return x > p.clip_value ? p.clip_value : x;
}

// Gradient sources: a kernel loops t over gs.count() items, updating element i = gs.index(t)
// with the prepared gradient gs.grad(t). Dense: every element, from g. Walk (row-sparse, every
// element): the row's place in the sorted indices by binary search, the prepared zero gz for
// rows not listed. Listed (row-sparse where g = 0 is the identity): the listed rows only.
struct DenseG {
  const float* g;
  int64_t n;
  UpdatePrep p;
  __device__ int64_t count() const { return n; }
  __device__ int64_t index(int64_t t) const { return t; }
  __device__ float grad(int64_t t) const { return prep_grad(g[t], p); }
};

struct WalkG {
  RowSparse s;
  UpdatePrep p;
  float gz;
  __device__ int64_t count() const { return s.rows * s.cols; }
  __device__ int64_t index(int64_t t) const { return t; }
  __device__ float grad(int64_t t) const {
    const int64_t r = t / s.cols;
    int64_t lo = 0, hi = s.nnz;  // first k with idx[k] >= r
    while (lo < hi) {
      const int64_t mid = (lo + hi) / 2;
      if (s.idx[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    return lo < s.nnz && s.idx[lo] == r ? prep_grad(s.vals[lo * s.cols + t % s.cols], p) : gz;
  }
};

struct ListedG {
  RowSparse s;
  UpdatePrep p;
  __device__ int64_t count() const { return s.nnz * s.cols; }
  __device__ int64_t index(int64_t t) const { return s.idx[t / s.cols] * s.cols + t % s.cols; }
  __device__ float grad(int64_t t) const { return prep_grad(s.vals[t], p); }
};

// ---- SGD
template <class G>
__global__ void sgd_kernel(float* w, float* v, G gs, float lr, float mu, bool nesterov,
                           UpdatePrep p) {
  FASTNN_KERNEL_LOOP(t, gs.count()) {
    const int64_t i = gs.index(t);
    const float gi = gs.grad(t);
    float wi = w[i];
    if (p.decay != 0.f) wi -= wi * p.decay;
    if (v) {
      const float vi = v[i] * mu - gi * lr;
      v[i] = vi;
      wi += nesterov ? vi * mu - gi * lr : vi;
    } else {
      wi -= gi * lr;
    }
    w[i] = wi;
  }
}

// ---- Adagrad
template <class G>
__global__ void adagrad_kernel(float* w, float* a, G gs, float lr, float eps, UpdatePrep p) {
  FASTNN_KERNEL_LOOP(t, gs.count()) {
    const int64_t i = gs.index(t);
    const float gi = gs.grad(t);
    float wi = w[i];
    if (p.decay != 0.f) wi -= wi * p.decay;
    const float ai = a[i] + gi * gi;
    a[i] = ai;
    w[i] = wi - (lr * gi) / sqrtf(ai + eps);
  }
}

// ---- RMSprop
template <class G>
__global__ void rmsprop_kernel(float* w, float* v, float* mom, float* ga, G gs, float lr,
                               float rho, float mu, float eps, UpdatePrep p) {
  const float one_rho = 1.f - rho;
  FASTNN_KERNEL_LOOP(t, gs.count()) {
    const int64_t i = gs.index(t);
    const float gi = gs.grad(t);
    float wi = w[i];
    if (p.decay != 0.f) wi -= wi * p.decay;
    const float vi = rho * v[i] + one_rho * (gi * gi);
    v[i] = vi;
    float den;
    if (ga) {
      const float gai = rho * ga[i] + one_rho * gi;
      ga[i] = gai;
      den = vi - gai * gai + eps;
    } else {
      den = vi + eps;
    }
    const float inc = (lr * gi) / sqrtf(den);
    if (mom) {
      const float mi = mu * mom[i] + inc;
      mom[i] = mi;
      wi -= mi;
    } else {
      wi -= inc;
    }
    w[i] = wi;
  }
}

// ---- Adam / AdamW (alpha carries the bias correction)
template <class G>
__global__ void adam_kernel(float* w, float* m, float* v, float* vh, G gs, float alpha,
                            float one_b1, float one_b2, float eps, UpdatePrep p) {
  FASTNN_KERNEL_LOOP(t, gs.count()) {
    const int64_t i = gs.index(t);
    const float gi = gs.grad(t);
    float wi = w[i];
    if (p.decay != 0.f) wi -= wi * p.decay;
    const float mi = m[i] + (gi - m[i]) * one_b1;
    float vi = v[i] + (gi * gi - v[i]) * one_b2;
    m[i] = mi;
    v[i] = vi;
    if (vh) {
      const float h = vh[i];
      vi = (vi > h || vi != vi) ? vi : h;
      vh[i] = vi;
    }
    w[i] = wi - (mi * alpha) / (sqrtf(vi) + eps);
  }
}

// ---- Adamax (lr_t = lr / (1 - beta1^t))
template <class G>
__global__ void adamax_kernel(float* w, float* m, float* u, G gs, float lr_t, float one_b1,
                              float beta2, float eps, UpdatePrep p) {
  FASTNN_KERNEL_LOOP(t, gs.count()) {
    const int64_t i = gs.index(t);
    const float gi = gs.grad(t);
    float wi = w[i];
    if (p.decay != 0.f) wi -= wi * p.decay;
    const float mi = m[i] + (gi - m[i]) * one_b1;
    const float bu = beta2 * u[i], ag = fabsf(gi);
    const float ui = (bu > ag || bu != bu) ? bu : ag;
    m[i] = mi;
    u[i] = ui;
    w[i] = wi - (lr_t * mi) / (ui + eps);
  }
}

// ---- Nadam (cm, cg, cv: the per-step scalars of kernels/optim.h)
template <class G>
__global__ void nadam_kernel(float* w, float* m, float* v, G gs, float lr, float one_b1,
                             float one_b2, float eps, float cm, float cg, float cv, UpdatePrep p) {
  FASTNN_KERNEL_LOOP(t, gs.count()) {
    const int64_t i = gs.index(t);
    const float gi = gs.grad(t);
    float wi = w[i];
    if (p.decay != 0.f) wi -= wi * p.decay;
    const float mi = m[i] + (gi - m[i]) * one_b1;
    const float vi = v[i] + (gi * gi - v[i]) * one_b2;
    m[i] = mi;
    v[i] = vi;
    const float m_hat = cm * mi + cg * gi;
    w[i] = wi - (m_hat * lr) / (sqrtf(vi * cv) + eps);
  }
}

// ---- Adadelta
template <class G>
__global__ void adadelta_kernel(float* w, float* ag, float* ad, G gs, float lr, float rho,
                                float eps, UpdatePrep p) {
  const float one_rho = 1.f - rho;
  FASTNN_KERNEL_LOOP(t, gs.count()) {
    const int64_t i = gs.index(t);
    const float gi = gs.grad(t);
    float wi = w[i];
    if (p.decay != 0.f) wi -= wi * p.decay;
    const float agi = rho * ag[i] + one_rho * (gi * gi);
    ag[i] = agi;
    const float d = -(sqrtf(ad[i] + eps) * gi) / sqrtf(agi + eps);
    ad[i] = rho * ad[i] + one_rho * (d * d);
    w[i] = wi + lr * d;
  }
}

// ---- sum of squares
__global__ void sum_squares_part_kernel(float* part, const float* x, int64_t n) {
  float acc = 0.f;
  FASTNN_KERNEL_LOOP(i, n) acc += x[i] * x[i];
  acc = block_sum(acc);
  if (threadIdx.x == 0) part[blockIdx.x] = acc;
}

__global__ void sum_parts_kernel(double* out, const float* part, int nparts) {
  double acc = 0.0;
  for (int b = 0; b < nparts; ++b) acc += (double)part[b];
  *out = acc;
}

}  // namespace

namespace {

// prep_grad of g = 0 on the host (the value of the rows a row-sparse gradient does not list).
float prep_zero(const UpdatePrep& p) {
  float x = 0.f * p.grad_scale;
  x = x < -p.clip_value ? -p.clip_value : x;
  return x > p.clip_value ? p.clip_value : x;
}

// w - lr * gz is w itself: gz * lr == +0.
bool zero_step(float gz, float lr) {
  const float s = gz * lr;
  return s == 0.f && !std::signbit(s);
}

WalkG walk(const RowSparse& g, const UpdatePrep& p) { return WalkG{g, p, prep_zero(p)}; }

template <class G>
void sgd_run(float* w, float* v, const G& gs, int64_t n, float lr, float momentum, bool nesterov, UpdatePrep p) {
  if (n <= 0) return;
  sgd_kernel<G><<<grid_for(n), kThreads>>>(w, momentum != 0.f ? v : nullptr, gs, lr, momentum, nesterov, p);
  FASTNN_CUDA_CHECK_LAUNCH();
}

template <class G>
void adagrad_run(float* w, float* a, const G& gs, int64_t n, float lr, float eps, UpdatePrep p) {
  if (n <= 0) return;
  adagrad_kernel<G><<<grid_for(n), kThreads>>>(w, a, gs, lr, eps, p);
  FASTNN_CUDA_CHECK_LAUNCH();
}

template <class G>
void rmsprop_run(float* w, float* v, float* mom, float* ga, const G& gs, int64_t n, float lr, float rho,
                 float momentum, float eps, UpdatePrep p) {
  if (n <= 0) return;
  rmsprop_kernel<G><<<grid_for(n), kThreads>>>(w, v, momentum > 0.f ? mom : nullptr, ga, gs, lr, rho, momentum, eps, p);
  FASTNN_CUDA_CHECK_LAUNCH();
}

template <class G>
void adam_run(float* w, float* m, float* v, float* vh, const G& gs, int64_t n, float alpha, float beta1, float beta2,
              float eps, UpdatePrep p) {
  if (n <= 0) return;
  adam_kernel<G><<<grid_for(n), kThreads>>>(w, m, v, vh, gs, alpha, 1.f - beta1, 1.f - beta2, eps, p);
  FASTNN_CUDA_CHECK_LAUNCH();
}

template <class G>
void adamax_run(float* w, float* m, float* u, const G& gs, int64_t n, float lr_t, float beta1, float beta2, float eps,
                UpdatePrep p) {
  if (n <= 0) return;
  adamax_kernel<G><<<grid_for(n), kThreads>>>(w, m, u, gs, lr_t, 1.f - beta1, beta2, eps, p);
  FASTNN_CUDA_CHECK_LAUNCH();
}

template <class G>
void nadam_run(float* w, float* m, float* v, const G& gs, int64_t n, float lr, float beta1, float beta2, float eps,
               float cm, float cg, float cv, UpdatePrep p) {
  if (n <= 0) return;
  nadam_kernel<G><<<grid_for(n), kThreads>>>(w, m, v, gs, lr, 1.f - beta1, 1.f - beta2, eps, cm, cg, cv, p);
  FASTNN_CUDA_CHECK_LAUNCH();
}

template <class G>
void adadelta_run(float* w, float* ag, float* ad, const G& gs, int64_t n, float lr, float rho, float eps,
                  UpdatePrep p) {
  if (n <= 0) return;
  adadelta_kernel<G><<<grid_for(n), kThreads>>>(w, ag, ad, gs, lr, rho, eps, p);
  FASTNN_CUDA_CHECK_LAUNCH();
}

}  // namespace

void sgd_update(float* w, float* v, const float* g, int64_t n, float lr, float momentum, bool nesterov,
                UpdatePrep p) {
  sgd_run(w, v, DenseG{g, n, p}, n, lr, momentum, nesterov, p);
}

void sgd_update_sparse(float* w, float* v, const RowSparse& g, float lr, float momentum, bool nesterov,
                       UpdatePrep p) {
  if (momentum == 0.f && p.decay == 0.f && zero_step(prep_zero(p), lr))
    sgd_run(w, v, ListedG{g, p}, g.nnz * g.cols, lr, momentum, nesterov, p);
  else
    sgd_run(w, v, walk(g, p), g.rows * g.cols, lr, momentum, nesterov, p);
}

void adagrad_update(float* w, float* a, const float* g, int64_t n, float lr, float eps, UpdatePrep p) {
  adagrad_run(w, a, DenseG{g, n, p}, n, lr, eps, p);
}

void adagrad_update_sparse(float* w, float* a, const RowSparse& g, float lr, float eps, UpdatePrep p) {
  const float gz = prep_zero(p);
  if (p.decay == 0.f && eps > 0.f && zero_step(gz, lr) && gz * gz == 0.f)
    adagrad_run(w, a, ListedG{g, p}, g.nnz * g.cols, lr, eps, p);
  else
    adagrad_run(w, a, walk(g, p), g.rows * g.cols, lr, eps, p);
}

void rmsprop_update(float* w, float* v, float* mom, float* ga, const float* g, int64_t n, float lr, float rho,
                    float momentum, float eps, UpdatePrep p) {
  rmsprop_run(w, v, mom, ga, DenseG{g, n, p}, n, lr, rho, momentum, eps, p);
}

void rmsprop_update_sparse(float* w, float* v, float* mom, float* ga, const RowSparse& g, float lr, float rho,
                           float momentum, float eps, UpdatePrep p) {
  rmsprop_run(w, v, mom, ga, walk(g, p), g.rows * g.cols, lr, rho, momentum, eps, p);
}

void adam_update(float* w, float* m, float* v, float* vh, const float* g, int64_t n, float alpha, float beta1,
                 float beta2, float eps, UpdatePrep p) {
  adam_run(w, m, v, vh, DenseG{g, n, p}, n, alpha, beta1, beta2, eps, p);
}

void adam_update_sparse(float* w, float* m, float* v, float* vh, const RowSparse& g, float alpha, float beta1,
                        float beta2, float eps, UpdatePrep p) {
  adam_run(w, m, v, vh, walk(g, p), g.rows * g.cols, alpha, beta1, beta2, eps, p);
}

void adamax_update(float* w, float* m, float* u, const float* g, int64_t n, float lr_t, float beta1, float beta2,
                   float eps, UpdatePrep p) {
  adamax_run(w, m, u, DenseG{g, n, p}, n, lr_t, beta1, beta2, eps, p);
}

void adamax_update_sparse(float* w, float* m, float* u, const RowSparse& g, float lr_t, float beta1, float beta2,
                          float eps, UpdatePrep p) {
  adamax_run(w, m, u, walk(g, p), g.rows * g.cols, lr_t, beta1, beta2, eps, p);
}

void nadam_update(float* w, float* m, float* v, const float* g, int64_t n, float lr, float beta1, float beta2,
                  float eps, float cm, float cg, float cv, UpdatePrep p) {
  nadam_run(w, m, v, DenseG{g, n, p}, n, lr, beta1, beta2, eps, cm, cg, cv, p);
}

void nadam_update_sparse(float* w, float* m, float* v, const RowSparse& g, float lr, float beta1, float beta2,
                         float eps, float cm, float cg, float cv, UpdatePrep p) {
  nadam_run(w, m, v, walk(g, p), g.rows * g.cols, lr, beta1, beta2, eps, cm, cg, cv, p);
}

void adadelta_update(float* w, float* ag, float* ad, const float* g, int64_t n, float lr, float rho, float eps,
                     UpdatePrep p) {
  adadelta_run(w, ag, ad, DenseG{g, n, p}, n, lr, rho, eps, p);
}

void adadelta_update_sparse(float* w, float* ag, float* ad, const RowSparse& g, float lr, float rho, float eps,
                            UpdatePrep p) {
  adadelta_run(w, ag, ad, walk(g, p), g.rows * g.cols, lr, rho, eps, p);
}

double sum_squares(const float* x, int64_t n) {
  if (n <= 0) return 0.0;
  const int nparts = (int)std::min<int64_t>(ceil_div(n, kThreads), kSumBlocks);
  Scratch part(nparts * (int64_t)sizeof(float));
  Scratch out(sizeof(double));
  sum_squares_part_kernel<<<nparts, kThreads>>>(part.f32(), x, n);
  FASTNN_CUDA_CHECK_LAUNCH();
  sum_parts_kernel<<<1, 1>>>(static_cast<double*>(out.ptr), part.f32(), nparts);
  FASTNN_CUDA_CHECK_LAUNCH();
  double result = 0.0;
  copy_d2h(&result, out.ptr, sizeof(double));
  return result;
}

}  // namespace fastnn::cuda
