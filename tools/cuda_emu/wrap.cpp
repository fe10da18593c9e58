#include <cuda_runtime.h>
#include <cstdio>
#include <exception>
#include "kernels/conv.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/image.h"
#include "kernels/index.h"
#include "kernels/loss.h"
#include "kernels/memory.h"
#include "kernels/norm.h"
#include "kernels/optim.h"
#include "kernels/pool.h"
#include "kernels/random.h"
#include "kernels/reduce.h"
using namespace fastnn;
namespace c = fastnn::cuda;
#define W(body) try { body; return 0; } catch (std::exception& e) { std::fprintf(stderr, "EXC: %s\n", e.what()); return -1; }
extern "C" {
int e_launches() { return emu_launches; }
int e_unary_forward(int op, float* y, const float* x, int64_t n, float a, float b) { W(c::unary_forward((UnaryOp)op, y, x, n, a, b)) }
int e_unary_backward(int op, float* dx, const float* dy, const float* x, const float* y, int64_t n, float a, float b) { W(c::unary_backward((UnaryOp)op, dx, dy, x, y, n, a, b)) }
static Broadcast mk(int nd, const int64_t* sh, const int64_t* as, const int64_t* bs) {
  Broadcast bc; bc.ndim = nd; for (int i = 0; i < nd; ++i) { bc.shape[i] = sh[i]; bc.a_stride[i] = as[i]; bc.b_stride[i] = bs[i]; } return bc; }
int e_binary_forward(int op, float* out, const float* a, const float* b, int nd, const int64_t* sh, const int64_t* as, const int64_t* bs) { W(c::binary_forward((BinaryOp)op, out, a, b, mk(nd, sh, as, bs))) }
int e_binary_backward(int op, float* da, float* db, const float* dout, const float* a, const float* b, const float* out, int nd, const int64_t* sh, const int64_t* as, const int64_t* bs) { W(c::binary_backward((BinaryOp)op, da, db, dout, a, b, out, mk(nd, sh, as, bs))) }
int e_where_forward(float* out, const float* cond, const float* a, const float* b, int64_t n) { W(c::where_forward(out, cond, a, b, n)) }
int e_where_backward(float* da, float* db, const float* dout, const float* cond, int64_t n) { W(c::where_backward(da, db, dout, cond, n)) }
int e_reduce_forward(int op, float* y, const float* x, int64_t O, int64_t R, int64_t I) { W(c::reduce_forward((ReduceOp)op, y, x, O, R, I)) }
int e_reduce_backward(int op, float* dx, const float* dy, const float* x, const float* y, int64_t O, int64_t R, int64_t I) { W(c::reduce_backward((ReduceOp)op, dx, dy, x, y, O, R, I)) }
int e_argmax_forward(int64_t* idx, const float* x, int64_t O, int64_t R, int64_t I, bool m) { W(c::argmax_forward(idx, x, O, R, I, m)) }
int e_var_forward(float* v, float* mean, const float* x, int64_t O, int64_t R, int64_t I, int64_t corr) { W(c::var_forward(v, mean, x, O, R, I, corr)) }
int e_var_backward(float* dx, const float* dv, const float* x, const float* mean, int64_t O, int64_t R, int64_t I, int64_t corr) { W(c::var_backward(dx, dv, x, mean, O, R, I, corr)) }
int e_softmax_forward(float* y, const float* x, int64_t O, int64_t R, int64_t I) { W(c::softmax_forward(y, x, O, R, I)) }
int e_softmax_backward(float* dx, const float* dy, const float* y, int64_t O, int64_t R, int64_t I) { W(c::softmax_backward(dx, dy, y, O, R, I)) }
int e_log_softmax_forward(float* y, const float* x, int64_t O, int64_t R, int64_t I) { W(c::log_softmax_forward(y, x, O, R, I)) }
int e_log_softmax_backward(float* dx, const float* dy, const float* y, int64_t O, int64_t R, int64_t I) { W(c::log_softmax_backward(dx, dy, y, O, R, I)) }
int e_masked_softmax_forward(float* y, const float* x, const float* mask, int64_t rows, int64_t n, int64_t rep, int64_t inner, float scale, bool zm) { W(c::masked_softmax_forward(y, x, mask, rows, n, rep, inner, scale, zm)) }
int e_masked_softmax_backward(float* dx, const float* dy, const float* y, int64_t rows, int64_t n, float scale) { W(c::masked_softmax_backward(dx, dy, y, rows, n, scale)) }
int e_sgemm_batched(bool ta, bool tb, int64_t batch, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, int64_t sA, const float* B, int64_t ldb, int64_t sB, float beta, float* C, int64_t ldc, int64_t sC) { W(c::sgemm_batched(ta, tb, batch, M, N, K, alpha, A, lda, sA, B, ldb, sB, beta, C, ldc, sC)) }
int e_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) { W(c::sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)) }
static ConvGeom geom(const int64_t* v, bool cl) {
  ConvGeom g; g.N = v[0]; g.H = v[1]; g.W = v[2]; g.C = v[3]; g.OH = v[4]; g.OW = v[5]; g.OC = v[6]; g.KH = v[7]; g.KW = v[8];
  g.sh = v[9]; g.sw = v[10]; g.pt = v[11]; g.pb = v[12]; g.pl = v[13]; g.pr = v[14]; g.dh = v[15]; g.dw = v[16]; g.groups = v[17];
  g.channels_last = cl; return g; }
int e_conv2d_forward(float* y, const float* x, const float* w, const float* b, int act, const int64_t* v, bool cl) { W(c::conv2d_forward(y, x, w, b, (Activation)act, geom(v, cl))) }
int e_conv2d_backward_data(float* dx, const float* dy, const float* w, const float* b, const int64_t* v, bool cl) { W(c::conv2d_backward_data(dx, dy, w, b, geom(v, cl))) }
int e_conv2d_backward_weight(float* dw, float* db, const float* dy, const float* x, const int64_t* v, bool cl) { W(c::conv2d_backward_weight(dw, db, dy, x, geom(v, cl))) }
int e_uniform_fill(float* out, int64_t n, uint64_t seed, uint64_t off, float lo, float hi) { W(c::uniform_fill(out, n, seed, off, lo, hi)) }
int e_normal_fill(float* out, int64_t n, uint64_t seed, uint64_t off, float m, float s) { W(c::normal_fill(out, n, seed, off, m, s)) }
int e_dropout_forward(float* y, const float* x, int64_t n, float rate, uint64_t seed, uint64_t off) { W(c::dropout_forward(y, x, n, rate, seed, off)) }
int e_dropout_backward(float* dx, const float* dy, int64_t n, float rate, uint64_t seed, uint64_t off) { W(c::dropout_backward(dx, dy, n, rate, seed, off)) }
int e_index_select_forward(float* out, const float* x, const int64_t* idx, int64_t O, int64_t V, int64_t I, int64_t N) { W(c::index_select_forward(out, x, idx, O, V, I, N)) }
int e_index_select_backward(float* dx, const float* dout, const int64_t* idx, int64_t O, int64_t V, int64_t I, int64_t N) { W(c::index_select_backward(dx, dout, idx, O, V, I, N)) }
int e_strided_copy(void* dst, const void* src, int nd, const int64_t* sh, const int64_t* ds, const int64_t* ss, int64_t es) {
  StridedCopy sc; sc.ndim = nd; for (int i = 0; i < nd; ++i) { sc.shape[i] = sh[i]; sc.dst_stride[i] = ds[i]; sc.src_stride[i] = ss[i]; }
  W(c::strided_copy(dst, src, sc, es)) }
#define L2(name) int e_##name(float* l, const float* p, const float* t, int64_t N, int64_t D) { W(c::name(l, p, t, N, D)) }
L2(mse_forward) L2(mae_forward) L2(bce_logits_forward)
#define L2B(name) int e_##name(float* dp, const float* dl, const float* p, const float* t, int64_t N, int64_t D) { W(c::name(dp, dl, p, t, N, D)) }
L2B(mse_backward) L2B(mae_backward) L2B(bce_logits_backward)
int e_bce_forward(float* l, const float* p, const float* t, int64_t N, int64_t D, float eps) { W(c::bce_forward(l, p, t, N, D, eps)) }
int e_bce_backward(float* dp, const float* dl, const float* p, const float* t, int64_t N, int64_t D, float eps) { W(c::bce_backward(dp, dl, p, t, N, D, eps)) }
int e_cce_forward(float* l, const float* p, const float* t, int64_t N, int64_t C, float ls, float eps) { W(c::cce_forward(l, p, t, N, C, ls, eps)) }
int e_cce_backward(float* dp, const float* dl, const float* p, const float* t, int64_t N, int64_t C, float ls, float eps) { W(c::cce_backward(dp, dl, p, t, N, C, ls, eps)) }
int e_cce_logits_forward(float* l, const float* p, const float* t, int64_t N, int64_t C, float ls) { W(c::cce_logits_forward(l, p, t, N, C, ls)) }
int e_cce_logits_backward(float* dp, const float* dl, const float* p, const float* t, int64_t N, int64_t C, float ls) { W(c::cce_logits_backward(dp, dl, p, t, N, C, ls)) }
int e_sparse_cce_forward(float* l, const float* p, const int64_t* t, int64_t N, int64_t C, float ls, float eps) { W(c::sparse_cce_forward(l, p, t, N, C, ls, eps)) }
int e_sparse_cce_backward(float* dp, const float* dl, const float* p, const int64_t* t, int64_t N, int64_t C, float ls, float eps) { W(c::sparse_cce_backward(dp, dl, p, t, N, C, ls, eps)) }
int e_sparse_cce_logits_forward(float* l, const float* p, const int64_t* t, int64_t N, int64_t C, float ls) { W(c::sparse_cce_logits_forward(l, p, t, N, C, ls)) }
#define LE(name) int e_##name(float* l, const float* p, const float* t, int64_t N, int64_t D, float a) { W(c::name(l, p, t, N, D, a)) }
LE(mape_forward) LE(msle_forward) LE(huber_forward) LE(poisson_forward) LE(kld_forward) LE(cosine_forward)
#define LEB(name) int e_##name(float* dp, const float* dl, const float* p, const float* t, int64_t N, int64_t D, float a) { W(c::name(dp, dl, p, t, N, D, a)) }
LEB(mape_backward) LEB(msle_backward) LEB(huber_backward) LEB(poisson_backward) LEB(kld_backward) LEB(cosine_backward)
L2(log_cosh_forward) L2(hinge_forward) L2(squared_hinge_forward) L2(categorical_hinge_forward)
L2B(log_cosh_backward) L2B(hinge_backward) L2B(squared_hinge_backward) L2B(categorical_hinge_backward)
int e_focal_forward(float* l, const float* p, const float* t, int64_t N, int64_t D, float g, float a, bool bal, float eps) { W(c::focal_forward(l, p, t, N, D, g, a, bal, eps)) }
int e_focal_backward(float* dp, const float* dl, const float* p, const float* t, int64_t N, int64_t D, float g, float a, bool bal, float eps) { W(c::focal_backward(dp, dl, p, t, N, D, g, a, bal, eps)) }
int e_focal_logits_forward(float* l, const float* p, const float* t, int64_t N, int64_t D, float g, float a, bool bal) { W(c::focal_logits_forward(l, p, t, N, D, g, a, bal)) }
int e_focal_logits_backward(float* dp, const float* dl, const float* p, const float* t, int64_t N, int64_t D, float g, float a, bool bal) { W(c::focal_logits_backward(dp, dl, p, t, N, D, g, a, bal)) }
int e_sparse_cce_logits_backward(float* dp, const float* dl, const float* p, const int64_t* t, int64_t N, int64_t C, float ls) { W(c::sparse_cce_logits_backward(dp, dl, p, t, N, C, ls)) }
static UpdatePrep prep(float s, float c, float d) { UpdatePrep p; p.grad_scale = s; p.clip_value = c; p.decay = d; return p; }
int e_sgd_update(float* w, float* v, const float* g, int64_t n, float lr, float mu, bool nest, float s, float c, float d) { W(c::sgd_update(w, v, g, n, lr, mu, nest, prep(s, c, d))) }
int e_adagrad_update(float* w, float* a, const float* g, int64_t n, float lr, float eps, float s, float c, float d) { W(c::adagrad_update(w, a, g, n, lr, eps, prep(s, c, d))) }
int e_rmsprop_update(float* w, float* v, float* m, float* ga, const float* g, int64_t n, float lr, float rho, float mu, float eps, float s, float c, float d) { W(c::rmsprop_update(w, v, m, ga, g, n, lr, rho, mu, eps, prep(s, c, d))) }
int e_adam_update(float* w, float* m, float* v, float* vh, const float* g, int64_t n, float al, float b1, float b2, float eps, float s, float c, float d) { W(c::adam_update(w, m, v, vh, g, n, al, b1, b2, eps, prep(s, c, d))) }
int e_adamax_update(float* w, float* m, float* u, const float* g, int64_t n, float lr, float b1, float b2, float eps, float s, float c, float d) { W(c::adamax_update(w, m, u, g, n, lr, b1, b2, eps, prep(s, c, d))) }
int e_nadam_update(float* w, float* m, float* v, const float* g, int64_t n, float lr, float b1, float b2, float eps, float cm, float cg, float cv, float s, float c, float d) { W(c::nadam_update(w, m, v, g, n, lr, b1, b2, eps, cm, cg, cv, prep(s, c, d))) }
int e_adadelta_update(float* w, float* ag, float* ad, const float* g, int64_t n, float lr, float rho, float eps, float s, float c, float d) { W(c::adadelta_update(w, ag, ad, g, n, lr, rho, eps, prep(s, c, d))) }
static RowSparse rs(const int64_t* idx, const float* vals, int64_t nnz, int64_t rows, int64_t cols) { RowSparse g; g.idx = idx; g.vals = vals; g.nnz = nnz; g.rows = rows; g.cols = cols; return g; }
#define RS const int64_t* idx, const float* vals, int64_t nnz, int64_t rows, int64_t cols
#define RSA rs(idx, vals, nnz, rows, cols)
int e_sgd_update_sparse(float* w, float* v, RS, float lr, float mu, bool nest, float s, float c, float d) { W(c::sgd_update_sparse(w, v, RSA, lr, mu, nest, prep(s, c, d))) }
int e_adagrad_update_sparse(float* w, float* a, RS, float lr, float eps, float s, float c, float d) { W(c::adagrad_update_sparse(w, a, RSA, lr, eps, prep(s, c, d))) }
int e_rmsprop_update_sparse(float* w, float* v, float* m, float* ga, RS, float lr, float rho, float mu, float eps, float s, float c, float d) { W(c::rmsprop_update_sparse(w, v, m, ga, RSA, lr, rho, mu, eps, prep(s, c, d))) }
int e_adam_update_sparse(float* w, float* m, float* v, float* vh, RS, float al, float b1, float b2, float eps, float s, float c, float d) { W(c::adam_update_sparse(w, m, v, vh, RSA, al, b1, b2, eps, prep(s, c, d))) }
int e_adamax_update_sparse(float* w, float* m, float* u, RS, float lr, float b1, float b2, float eps, float s, float c, float d) { W(c::adamax_update_sparse(w, m, u, RSA, lr, b1, b2, eps, prep(s, c, d))) }
int e_nadam_update_sparse(float* w, float* m, float* v, RS, float lr, float b1, float b2, float eps, float cm, float cg, float cv, float s, float c, float d) { W(c::nadam_update_sparse(w, m, v, RSA, lr, b1, b2, eps, cm, cg, cv, prep(s, c, d))) }
int e_adadelta_update_sparse(float* w, float* ag, float* ad, RS, float lr, float rho, float eps, float s, float c, float d) { W(c::adadelta_update_sparse(w, ag, ad, RSA, lr, rho, eps, prep(s, c, d))) }
int e_row_coalesce(int64_t* oi, float* o, const int64_t* idx, const float* rows, int64_t N, int64_t V, int64_t D, int64_t* U) { W(*U = c::row_coalesce(oi, o, idx, rows, N, V, D)) }
int e_affine(bool cf, float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t OH, int64_t OW, const double* t, int64_t ts, int interp, int mode, float fv) {
  W((cf ? c::affine_nchw : c::affine_nhwc)(out, in, B, H, W, C, OH, OW, t, ts, (Interpolation)interp, (FillMode)mode, fv)) }
int e_resize(bool cf, float* out, const float* in, int64_t B, int64_t H, int64_t W, int64_t C, int64_t top, int64_t left, int64_t CH, int64_t CW, int64_t OH, int64_t OW, int interp) {
  W((cf ? c::resize_nchw : c::resize_nhwc)(out, in, B, H, W, C, top, left, CH, CW, OH, OW, (Interpolation)interp)) }
int e_sum_squares(const float* x, int64_t n, double* out) { W(*out = c::sum_squares(x, n)) }
static PoolGeom pg(const int64_t* v, bool cl) {
  PoolGeom g; g.N = v[0]; g.C = v[1]; g.H = v[2]; g.W = v[3]; g.OH = v[4]; g.OW = v[5]; g.KH = v[6]; g.KW = v[7];
  g.SH = v[8]; g.SW = v[9]; g.PT = v[10]; g.PL = v[11]; g.channels_last = cl; return g; }
int e_max_pool2d_forward(float* y, int64_t* am, const float* x, const int64_t* v, bool cl) { W(c::max_pool2d_forward(y, am, x, pg(v, cl))) }
int e_max_pool2d_backward(float* dx, const float* dy, const int64_t* am, const int64_t* v, bool cl) { W(c::max_pool2d_backward(dx, dy, am, pg(v, cl))) }
int e_avg_pool2d_forward(float* y, const float* x, const int64_t* v, bool cl) { W(c::avg_pool2d_forward(y, x, pg(v, cl))) }
int e_avg_pool2d_backward(float* dx, const float* dy, const int64_t* v, bool cl) { W(c::avg_pool2d_backward(dx, dy, pg(v, cl))) }
int e_resize_bilinear_forward(float* y, const float* x, const int64_t* v, bool cl) { W(c::resize_bilinear_forward(y, x, pg(v, cl))) }
int e_resize_bilinear_backward(float* dx, const float* dy, const int64_t* v, bool cl) { W(c::resize_bilinear_backward(dx, dy, pg(v, cl))) }
int e_batch_norm_stats(float* m, float* v, const float* x, int64_t O, int64_t C, int64_t I) { W(c::batch_norm_stats(m, v, x, O, C, I)) }
int e_batch_norm_forward(float* y, const float* x, const float* m, const float* v, const float* g, const float* b, int64_t O, int64_t C, int64_t I, float eps) { W(c::batch_norm_forward(y, x, m, v, g, b, O, C, I, eps)) }
int e_batch_norm_backward(float* dx, float* dg, float* db, const float* dy, const float* x, const float* m, const float* v, const float* g, int64_t O, int64_t C, int64_t I, float eps, bool tr) { W(c::batch_norm_backward(dx, dg, db, dy, x, m, v, g, O, C, I, eps, tr)) }
int e_layer_norm_forward(float* y, float* m, float* r, const float* x, const float* g, const float* b, int64_t R, int64_t D, float eps) { W(c::layer_norm_forward(y, m, r, x, g, b, R, D, eps)) }
int e_layer_norm_backward(float* dx, float* dg, float* db, const float* dy, const float* x, const float* m, const float* r, const float* g, int64_t R, int64_t D) { W(c::layer_norm_backward(dx, dg, db, dy, x, m, r, g, R, D)) }
// NULL when the allocation is refused (the out-of-memory check expects exactly that, silently).
void* e_alloc(int64_t n) { try { return c::alloc(n); } catch (std::exception&) { return nullptr; } }
void e_free(void* p) { c::free(p); }
void e_empty_cache() { c::empty_cache(); }
void e_set_limit(long l) { emu_malloc_limit = l; }
int e_fill_f32(float* d, float v, int64_t n) { W(c::fill_f32(d, v, n)) }
int e_fill_i64(int64_t* d, int64_t v, int64_t n) { W(c::fill_i64(d, v, n)) }
}
// Recurrent layers: the loops of ops/rnn_loop.h on the emulated CUDA kernels.
#include "ops/rnn_loop.h"
namespace {
struct EmuRnn {
  void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) const {
    if (M && N) c::sgemm(ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc); }
  void gemm_bias(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* B, int64_t ldb, float* C, int64_t ldc, const float* bias) const {
    Epilogue ep; ep.bias = bias; if (M && N) c::sgemm_ex(false, false, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, ldc, ep); }
  template <class F> void batch_rows(int64_t B, F&& f) const { f(int64_t(0), B); }
  struct RecB { bool trans; int64_t K, N; const float* B; int64_t ldb; };
  RecB pack_b(bool tb, int64_t K, int64_t N, const float* B, int64_t ldb) const { return {tb, K, N, B, ldb}; }
  void gemm_packed(const RecB& r, int64_t M, const float* A, int64_t lda, float beta, float* C, int64_t ldc, const float* bias = nullptr) const {
    Epilogue ep; ep.bias = bias; if (M && r.N) c::sgemm_ex(false, r.trans, M, r.N, r.K, 1.0f, A, lda, r.B, r.ldb, beta, C, ldc, ep); }
  void copy_rows(float* d, int64_t ldd, const float* s, int64_t lds, int64_t r, int64_t n) const { c::rnn_copy_rows(d, ldd, s, lds, r, n); }
  void bias_grad(float* db, const float* dg, int64_t ld, int64_t r, int64_t n) const { c::rnn_bias_grad(db, dg, ld, r, n, false); }
  void simple_rnn_step_forward(const RnnStep& s) const { c::simple_rnn_step_forward(s); }
  void lstm_step_forward(const RnnStep& s) const { c::lstm_step_forward(s); }
  void gru_step_forward(const RnnStep& s) const { c::gru_step_forward(s); }
  void gru_v1_step_forward_a(const RnnStep& s) const { c::gru_v1_step_forward_a(s); }
  void gru_v1_step_forward_b(const RnnStep& s) const { c::gru_v1_step_forward_b(s); }
  void simple_rnn_step_backward(const RnnStepGrad& s) const { c::simple_rnn_step_backward(s); }
  void lstm_step_backward(const RnnStepGrad& s) const { c::lstm_step_backward(s); }
  void gru_step_backward(const RnnStepGrad& s) const { c::gru_step_backward(s); }
  void gru_v1_step_backward_a(const RnnStepGrad& s) const { c::gru_v1_step_backward_a(s); }
  void gru_v1_step_backward_b(const RnnStepGrad& s) const { c::gru_v1_step_backward_b(s); }
};
ops::RnnOptions rnn_opts(int cell, int act, int ract, bool gb, bool zo, bool rs) {
  ops::RnnOptions o; o.cell = (ops::RnnCell)cell; o.act = (RnnAct)act; o.ract = (RnnAct)ract; o.go_backwards = gb; o.zero_output = zo; o.return_sequences = rs; return o; }
}  // namespace
extern "C" {
int64_t e_rnn_workspace_size(int cell, int64_t B, int64_t T, int64_t U) { return ops::rnn_workspace_size((ops::RnnCell)cell, B, T, U); }
int64_t e_rnn_scratch_size(int cell, int64_t B, int64_t T, int64_t U) { return ops::rnn_scratch_size((ops::RnnCell)cell, B, T, U); }
int e_rnn_forward(int cell, int act, int ract, bool gb, bool zo, bool rs, int64_t B, int64_t T, int64_t I, int64_t U, const float* x, const float* W, const float* Ur, const float* bias, const float* h0, const float* c0, const float* mask, float* y, float* hT, float* cT, float* ws) {
  W(ops::rnn_forward_loop(EmuRnn{}, rnn_opts(cell, act, ract, gb, zo, rs), B, T, I, U, x, W, Ur, bias, h0, c0, mask, y, hT, cT, ws)) }
int e_rnn_backward(int cell, int act, int ract, bool gb, bool zo, bool rs, int64_t B, int64_t T, int64_t I, int64_t U, const float* x, const float* W, const float* Ur, const float* mask, const float* ws, const float* dy, const float* dhT, const float* dcT, float* dx, float* dW, float* dU, float* db, float* dh0, float* dc0, float* scratch) {
  W(ops::rnn_backward_loop(EmuRnn{}, rnn_opts(cell, act, ract, gb, zo, rs), B, T, I, U, x, W, Ur, mask, ws, dy, dhT, dcT, dx, dW, dU, db, dh0, dc0, scratch)) }
}
