// Hot float32 kernels in C. Swift builds for baseline x86-64 (SSE2, no FMA), and the shapes
// these serve (per-head attention products of 49 × 16, element-wise passes) are too small for
// OpenBLAS's call overhead; C lets one source be compiled twice, once for AVX2 + FMA, chosen
// at run time, and once portably for every other CPU. Double stays in Swift (reference path).
//
// Every entry point takes `portable`: 1 forces the portable variant, 2 the AVX2 + FMA one (no
// AVX-512; tests of each branch); 0 takes the fastest the CPU has — AVX2 + FMA, and AVX-512 for
// GELU (gelu512.c), softmax cross-entropy (loss512.c) and the attention core where the head
// width is a multiple of 16 (attention512.c).
#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The kernel level this process computes at — the CPU's (ck_cpu_level) capped by OVERPARAM_KERNELS: 2 when
/// AVX-512 kernels run (the attention core, GELU, the loss and ck_sgemm use them) besides AVX2 + FMA, 1 with
/// AVX2 + FMA only (the loss and ck_sgemm then run their AVX2 kernels), 0 when only the portable variants run.
int ck_isa_level(void);

/// OVERPARAM_KERNELS as read at the first call: 3 unset, 2 "avx512", 1 "avx2", 0 "portable", -1 any
/// other value. ck_isa_level caps the CPU's level by it (kernelcap.c).
int ck_kernels_setting(void);

/// Whether OVERPARAM_KERNELS lets kernels of `level` (2 AVX-512, 1 AVX2 + FMA) run.
int ck_kernels_allow(int level);

/// The CPU's own level, whatever OVERPARAM_KERNELS says: 2 AVX-512 (F) with AVX2 + FMA, 1 AVX2 + FMA, 0 neither.
int ck_cpu_level(void);

/// Floats of scratch the attention kernels need for `tokens` tokens of width `dim` in `heads` heads.
size_t ck_attention_scratch(int tokens, int dim, int heads);

/// Floats of the probs buffer: [B·H, N, N'] with rows padded to N' = N rounded up to 16 (the
/// AVX2 and portable variants use a stride of N rounded up to 8 within it).
size_t ck_attention_probs(int batch, int tokens, int heads);

/// Multi-head attention core over qkv[B·N, 3D] (heads are column blocks of width D/H):
/// probs[B·H, N, N'] = softmax(Q_h K_hᵀ / √dh) (zero-padded rows), ctx[B·N, D] = P_h V_h. Returns 0 (and does
/// nothing) when the head width is not a multiple of 8; the caller then takes its own path.
int ck_attention_forward(const float *qkv, float *probs, float *ctx, int batch, int tokens,
                         int dim, int heads, float *scratch, int portable);

/// Its backward from dctx[B·N, D]: writes (not adds) dqkv[B·N, 3D]. Same return convention.
int ck_attention_backward(const float *qkv, const float *probs, const float *dctx, float *dqkv,
                          int batch, int tokens, int dim, int heads, float *scratch, int portable);

/// Exact GELU y = x·(1 + erf(x/√2))/2 in one pass; aux keeps its derivative
/// GELU′(x) = (1 + erf(x/√2))/2 + x·φ(x) (φ the standard normal density) for the backward pass.
void ck_gelu_forward(const float *x, float *y, float *aux, size_t n, int portable);
/// dx += dy · aux, aux from ck_gelu_forward on the same path (dx = … when add is 0).
void ck_gelu_backward(const float *aux, const float *dy, float *dx, size_t n, int add, int portable);

/// Softmax cross-entropy of logits z[batch][classes] against labels (each in [0, classes)):
/// *loss = mean over rows of log Σ_c e^(z_c) − z_label; grad (unless NULL) = (softmax − onehot)/batch;
/// a row with a NaN or +∞ logit gets a NaN loss and gradient. Only with classes ≤ 64, on AVX-512
/// (16 rows per vector) or, where the CPU lacks it or `portable` is 2, on AVX2 + FMA (8 rows);
/// returns 0 (doing nothing) otherwise, and for `portable` 1.
int ck_softmax_xent(const float *z, const int *labels, float *grad, int batch, int classes, double *loss, int *correct, int portable);

/// sums[j] (+)= Σ_r x[r·cols + j] (r < rows, j < cols): a dense layer's bias gradient. Rows in
/// four interleaved chains combined at the end (a fixed order; rounds differently from one
/// running sum); `add` 0 writes the sums, 1 adds them.
void ck_column_sums(const float *x, size_t rows, int cols, float *sums, int add, int portable);

/// One SGD step over n parameters, NeuralNets' sgdKernel operation for operation (no fused
/// multiply-adds: every variant gives the Swift loop's bits). g' = g + decay·p; with momentum
/// (b not NULL) b = mu·b + g' (b = g' when first) and p −= lr·(g' + mu·b) (Nesterov) or lr·b;
/// without, p −= lr·g'.
void ck_sgd(float *p, const float *g, float *b, size_t n, float lr, float mu, int nesterov, float decay, int first,
            int portable);

/// One Adam step (AdamW when decoupled), NeuralNets' Adam loop operation for operation: g' = g
/// (+ decay·p unless decoupled); p −= lr·decay·p when decoupled; m = β1·m + (1 − β1)·g';
/// v = β2·v + (1 − β2)·g'·g'; p −= lr·(m·c1) / (√(v·c2) + eps), c1 and c2 the bias corrections.
void ck_adam(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1, float beta2, float eps,
             float decay, int decoupled, float c1, float c2, int portable);

/// 3×3, stride-1 convolution of one-channel images x[B, H, W] (zero padding `pad`) with
/// weights [Cout, 3, 3] and optional bias into y[B, Ho, Wo, Cout]: any Cout ≥ 1, eight channels
/// per vector and the rest one at a time. Returns 0 (doing nothing) unless the padded image is at
/// least 3×3. Scratch: ck_conv1_scratch floats.
size_t ck_conv1_scratch(int height, int width, int pad, int out_channels);
int ck_conv1_forward(const float *x, const float *w, const float *bias, float *y, int batch, int height, int width,
                     int pad, int out_channels, float *scratch, int portable);
/// Its weight and bias gradients, added into dw[Cout, 9] and db[Cout] (db may be NULL).
int ck_conv1_backward(const float *x, const float *dy, float *dw, float *db, int batch, int height, int width,
                      int pad, int out_channels, float *scratch, int portable);

/// k×k convolutions of x[B, H, W, C] (NHWC; k ≤ 7, stride 1 or 2, zero padding pad < k) read
/// from the padded image in place, on AVX-512 (conv512.c). Each returns 0, doing nothing, unless
/// ck_conv_direct_supports says it takes the shape (which: 0 forward, 1 weight gradient, 2 input
/// gradient) and portable is 0. Forward and weight gradient: C one of 16, 32, 64 (or 3 at stride
/// 1), Cout a multiple of 16 up to 256; input gradient: Cout one of 16, 32, 64, C a multiple of 16
/// up to 256. Scratch: ck_conv_direct_scratch floats (enough for any of the three).
size_t ck_conv_direct_scratch(int height, int width, int channels, int k, int stride, int pad, int out_channels);
int ck_conv_direct_supports(int which, int height, int width, int channels, int k, int stride, int pad,
                            int out_channels);
/// y[B, Ho, Wo, Cout] = conv(x) with weights wt[k·k·C, Cout] (rows in (kh, kw, c) order) and
/// optional bias; added into y when add.
int ck_conv_direct(const float *x, const float *wt, const float *bias, float *y, int batch, int height, int width,
                   int channels, int k, int stride, int pad, int out_channels, int add, float *scratch, int portable);
/// The weight gradient added into dwt[k·k·C, Cout] (wt's layout) — Σ over the batch and output
/// pixels of patch ⊗ dy — and the bias gradient into db (may be NULL).
int ck_conv_direct_wgrad(const float *x, const float *dy, float *dwt, float *db, int batch, int height, int width,
                         int channels, int k, int stride, int pad, int out_channels, float *scratch, int portable);
/// The input gradient added into dx[B, H, W, C] (written, when add is 0: then k ≥ stride, so
/// that every pixel is reached), from dy[B, Ho, Wo, Cout] and the weights in the layer's own
/// layout w[Cout, k·k·C].
int ck_conv_direct_dgrad(const float *dy, const float *w, float *dx, int batch, int height, int width, int channels,
                         int k, int stride, int pad, int out_channels, int add, float *scratch, int portable);

/// Batch normalization's passes over n entries viewed as rows of `lanes` = lcm(F, 16) lanes
/// (lane t is feature t mod F; ≤ 1024 lanes), bit for bit as NeuralNets' BatchNorm.swift.
/// Column sums into out[F] (Double): term 0, Σ a; 1, Σ (a − shift)²; 2, Σ b into out and
/// Σ b·((a − shift)·scale) into out2 — shift and scale tiled to `lanes`.
int ck_batchnorm_sums(int term, const float *a, const float *b, const float *shift, const float *scale, size_t n,
                      int features, int lanes, double *out, double *out2, int portable);
/// Per-lane affine maps: mode 0, y = x·p + q; 3, y = max(x·p + q, 0) (a ReLU after it, NaN and
/// −0 giving +0); 1, y = (p·dy + q·x) + r; 2, y += (p·dy + q·x) + r.
int ck_batchnorm_affine(int mode, const float *x, const float *dy, const float *p, const float *q, const float *r,
                        float *y, size_t n, int lanes, int portable);

/// OpGD's error curve for depth ≥ 1 (Adaptivity's LaneSolver, bit for bit, on AVX2): curve[k] =
/// Σ_j (θ_j(times[k]) − truth[j])². Returns 1 when done, 0 (doing nothing) without AVX2, −1 when
/// a coordinate made no progress in 10⁷ steps.
int ck_opgd_error_curve(const double *z, const double *truth, const double *eigenvalues, long count, double b0, int depth,
                        const double *times, long T, double tolerance, double *curve);

/// y[i] = tanh(x[i]) in Double on AVX-512, else AVX2, the bits of Linalg's fastTanh (y may be x).
/// Returns 0, doing nothing, without either.
int ck_tanh_f64(const double *x, double *y, size_t n);
/// The AVX2 path alone (the tests check it on AVX-512 machines too); 0 without AVX2.
int ck_tanh_f64_avx2(const double *x, double *y, size_t n);

/// Layer norm over rows[rows, features]: y = (x − μ)·rstd·γ + β, stats[2·rows] = (μ, rstd) per
/// row. Returns 0 (doing nothing) unless features is a multiple of 8.
int ck_layernorm_forward(const float *x, const float *gamma, const float *beta, float *y, float *stats, size_t rows,
                         int features, float eps, int portable);
/// Its backward: dγ, dβ added into; dx (may be NULL) added into when add, else written — as
/// base + the gradient where `base` (dx's shape, not dx) is not NULL. Scratch: 2·features floats.
int ck_layernorm_backward(const float *x, const float *gamma, const float *stats, const float *dy, float *dx,
                          float *dgamma, float *dbeta, size_t rows, int features, int add, const float *base,
                          float *scratch, int portable);

/// ReLU then 2×2 max pool with stride 2, fused, over x[B, H, W, C] (NHWC): y = max(0, window
/// max). Backward from the pool's gradient to the ReLU's input's (added when add, else written).
/// Return 0 (doing nothing) unless C is a multiple of 8 and H, W are even.
int ck_relu_maxpool2_forward(const float *x, float *y, int batch, int height, int width, int channels, int portable);
int ck_relu_maxpool2_backward(const float *x, const float *y, const float *dy, float *dx, int batch, int height, int width,
                              int channels, int add, int portable);

/// im2col over x[B, H, W, C] (NHWC) for a k×k window, stride and zero padding, into
/// col[B·Ho·Wo, k·k·C]; ck_col2im_add adds its adjoint's result into dx. Pure data movement:
/// the same values as the Swift loops.
void ck_im2col(const float *x, float *col, int batch, int height, int width, int channels, int k, int stride, int pad,
               int out_height, int out_width);
void ck_col2im_add(const float *dcol, float *dx, int batch, int height, int width, int channels, int k, int stride,
                   int pad, int out_height, int out_width);
/// The same with the copy chosen: `allow` 0 the border-testing loops, 1 also a zero-padded copy of
/// each small sample (padded image ≤ 8,192 floats), 2 also its AVX-512 form for im2col (what the
/// two above run). Every variant gives the same bits; tests compare them.
void ck_im2col_variant(const float *x, float *col, int batch, int height, int width, int channels, int k, int stride,
                       int pad, int out_height, int out_width, int allow);
void ck_col2im_add_variant(const float *dcol, float *dx, int batch, int height, int width, int channels, int k,
                           int stride, int pad, int out_height, int out_width, int allow);
/// 1 when an image of this size takes the padded copy (allow ≥ 1).
int ck_im2col_padded(int height, int width, int channels, int pad);

/// 1 when the CPU has AVX-512 (F) and FMA, or AVX2 and FMA, so that ck_sgemm can run.
int ck_sgemm_available(void);
/// Process-wide switch (on by default); ck_sgemm_enabled: switched on and available.
void ck_sgemm_enable(int on);
int ck_sgemm_enabled(void);
/// Row-major C[m, n] = alpha·op(A)·op(B) + beta·C + bias (op(A) m × k, op(B) k × n; C not read
/// when beta is 0; bias, when not NULL, a row of n added to every row), as cblas_sgemm. Returns 1
/// when done, 0 (nothing done) when the CPU lacks both AVX-512 and AVX2 (with FMA), alpha is 0, or
/// — unless `always` — it is switched off (ck_sgemm_enable(0)) or the shape is one where OpenBLAS
/// is faster (see sgemm.c). `always` 2: as 1, on the AVX2 kernel even where AVX-512 is available
/// (0, nothing done, without AVX2), so that tests can compare the two. Packing space is per thread.
int ck_sgemm(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
             int ldb, float beta, float *c, int ldc, const float *bias, int always);
/// What ck_sgemm_epilogue does to C's final values in registers before they are stored, with
/// `operand` (C's shape, at ldc; not C itself) where it takes one.
enum {
    CK_EPILOGUE_NONE = 0,
    /// C = max(C, 0) (`v > 0 ? v : 0`): a ReLU after the product.
    CK_EPILOGUE_RELU = 1,
    /// C = operand > 0 ? C : 0: a ReLU's backward pass through its output, written with the
    /// product that makes its gradient.
    CK_EPILOGUE_MASK = 2,
    /// C = operand + C, last: a residual connection's sum, made by the product of its branch.
    CK_EPILOGUE_ADD = 3,
    /// C = operand · C: an activation's backward pass through its stored derivative (GELU′).
    CK_EPILOGUE_MULTIPLY = 4,
};
/// ck_sgemm with epilogue `op` (a CK_EPILOGUE_*) on C's final values: the bits of the product and
/// then the separate pass. Returns 0, doing nothing, where ck_sgemm would, and for an unknown op
/// or a missing operand.
int ck_sgemm_epilogue(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda,
                      const float *b, int ldb, float beta, float *c, int ldc, const float *bias, int op,
                      const float *operand, int always);

/// OpenBLAS's kernel set ("Haswell", "SkylakeX", ...), or NULL when the BLAS is not OpenBLAS.
const char *ck_blas_core_name(void);
/// Where OpenBLAS chose kernels without AVX2 on a CPU that has AVX2 + FMA (a CPU newer than
/// the OpenBLAS release), re-selects them by the CPU's features and returns the new name;
/// NULL when nothing changed (also when OPENBLAS_CORETYPE is set). Call before any BLAS use.
const char *ck_blas_select_core(void);

#ifdef __cplusplus
}
#endif
#endif
