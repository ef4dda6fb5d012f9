#include "ckernels.h"
#include "avx512.h"
#include <math.h>

// The attention core on AVX-512 for head widths that are multiples of 16 (a ViT's 64 wide over
// 4 heads is one vector per token). Per image and head it is three small products (49 × 49 × 16
// for a 28 × 28 image in 4 × 4 patches) and a softmax; the AVX2 kernels in kernels.c ran them at
// ~25 GFLOP/s. Here scores are kept keys by queries (Sᵀ: a vector holds 16 queries), so the
// softmax over the keys and the backward pass's sums over them are element-wise across rows,
// never a horizontal reduction; the products broadcast their left operand from memory and keep
// RB rows of accumulators, so their loops are almost all FMAs. Summation orders are fixed by the
// shape: results are identical run to run.

#if defined(__x86_64__)

// Rows per block: 7 × 4 score vectors plus 4 key vectors fill the 32 registers, and 49 tokens
// (28 × 28 in 4 × 4 patches) are 7 blocks with no rows wasted.
enum { RB = 7 };

AI int round16(int n) { return (n + 15) & ~15; }
AI int min_int(int a, int b) { return a < b ? a : b; }

// yt[c][j] = s·y[j][c] for c < dh (a multiple of 16), j < n; zero for n ≤ j < np. With dh = np
// and s = 1, the transpose of a whole n × np block (the narrow heads' P and dS).
AI T512 void transpose_scaled(const float *y, long ldy, int n, int np, int dh, float s, float *yt) {
    const __m512 vs = _mm512_set1_ps(s);
    for (int j0 = 0; j0 < np; j0 += 16)
        for (int c0 = 0; c0 < dh; c0 += 16) {
            __m512 r[16];
            _Pragma("unroll")
            for (int i = 0; i < 16; i++)
                r[i] = _mm512_maskz_loadu_ps(j0 + i < n ? 0xFFFF : 0, y + (long)min_int(j0 + i, n - 1) * ldy + c0);
            transpose16(r);
            _Pragma("unroll")
            for (int c = 0; c < 16; c++) _mm512_storeu_ps(yt + (long)(c0 + c) * np + j0, _mm512_mul_ps(r[c], vs));
        }
}

// c[r][0, 16·NV) = Σ_t a_r[t·ats] · b[t][0, 16·NV) over t < kdim, for r < m; R rows are computed
// (R ≤ RB, a constant; a_r past m repeat a_{m−1}, computed and not stored). Every product here
// is one: scores (a_r a key's row, b the transposed queries) and the products with P and dS (a_r
// a row or column of them).
AI T512 void tile(int R, int NV, const float *const ar[RB], long ats, int kdim, const float *b, long ldb, float *c, long ldc,
                  int m) {
    __m512 acc[RB][4];
    _Pragma("unroll")
    for (int r = 0; r < R; r++)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();
    for (int t = 0; t < kdim; t++) {
        __m512 bv[4];
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) bv[v] = _mm512_loadu_ps(b + (long)t * ldb + 16 * v);
        _Pragma("unroll")
        for (int r = 0; r < R; r++) {
            const __m512 x = _mm512_set1_ps(ar[r][t * ats]);
            _Pragma("unroll")
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_fmadd_ps(x, bv[v], acc[r][v]);
        }
    }
    _Pragma("unroll")
    for (int r = 0; r < R; r++) {
        if (r >= m) continue;
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) _mm512_storeu_ps(c + r * ldc + 16 * v, acc[r][v]);
    }
}

// `call` once per block of up to 64 columns of [0, np) (i0 its first, NV its vectors): the
// products' column blocks and the softmax passes' slabs of queries.
#define SLABS(np, call)                                    \
    for (int i0 = 0; i0 < (np); i0 += 64) {                \
        const int nv = min_int(4, ((np) - i0) / 16);       \
        if (nv == 4) { enum { NV = 4 }; call; }            \
        else if (nv == 3) { enum { NV = 3 }; call; }       \
        else if (nv == 2) { enum { NV = 2 }; call; }       \
        else { enum { NV = 1 }; call; }                    \
    }

// c[r][0, w) = Σ_t A(r, t) · b[t][0, w) for r < m ≤ RB, A(r, t) = a[r·ars + t·ats], w a multiple
// of 16, in column blocks of up to 64.
AI T512 void product_rows(int R, const float *a, long ars, long ats, int m, int kdim, const float *b, long ldb, int w,
                          float *c, long ldc) {
    const float *ar[RB];
    for (int r = 0; r < RB; r++) ar[r] = a + (long)min_int(r, m - 1) * ars;
    SLABS(w, tile(R, NV, ar, ats, kdim, b + i0, ldb, c + i0, ldc, m))
}

AI T512 void product(const float *a, long ars, long ats, int m, int kdim, const float *b, long ldb, int w, float *c,
                     long ldc) {
    product_rows(RB, a, ars, ats, m, kdim, b, ldb, w, c, ldc);
}

// Softmax down the columns [i0, i0 + 16·NV) of p[n][·] (stride ldp) in place: each column is one
// query's scores over the n keys. Two partial maxima and sums per vector (even and odd keys) keep
// eight chains going; they are separate variables, not an array indexed by j & 1, which the
// compiler kept on the stack (a store-to-load round trip in every chain).
AI T512 void softmax_columns(int NV, float *p, long ldp, int n, int i0) {
    __m512 mx0[4], mx1[4], s0[4], s1[4];
    _Pragma("unroll")
    for (int v = 0; v < NV; v++) {
        mx0[v] = mx1[v] = _mm512_set1_ps(-INFINITY);
        s0[v] = s1[v] = _mm512_setzero_ps();
    }
#define AT(j, v) (p + (long)(j) * ldp + i0 + 16 * (v))
    int j = 0;
    for (; j + 1 < n; j += 2)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) {
            mx0[v] = _mm512_max_ps(mx0[v], _mm512_loadu_ps(AT(j, v)));
            mx1[v] = _mm512_max_ps(mx1[v], _mm512_loadu_ps(AT(j + 1, v)));
        }
    if (j < n)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) mx0[v] = _mm512_max_ps(mx0[v], _mm512_loadu_ps(AT(j, v)));
    _Pragma("unroll")
    for (int v = 0; v < NV; v++) mx0[v] = _mm512_max_ps(mx0[v], mx1[v]);
    for (j = 0; j + 1 < n; j += 2)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) {
            const __m512 e0 = exp16(_mm512_sub_ps(_mm512_loadu_ps(AT(j, v)), mx0[v]));
            const __m512 e1 = exp16(_mm512_sub_ps(_mm512_loadu_ps(AT(j + 1, v)), mx0[v]));
            _mm512_storeu_ps(AT(j, v), e0);
            _mm512_storeu_ps(AT(j + 1, v), e1);
            s0[v] = _mm512_add_ps(s0[v], e0);
            s1[v] = _mm512_add_ps(s1[v], e1);
        }
    if (j < n)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) {
            const __m512 e = exp16(_mm512_sub_ps(_mm512_loadu_ps(AT(j, v)), mx0[v]));
            _mm512_storeu_ps(AT(j, v), e);
            s0[v] = _mm512_add_ps(s0[v], e);
        }
    __m512 inv[4];
    _Pragma("unroll")
    for (int v = 0; v < NV; v++) inv[v] = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(s0[v], s1[v]));
    for (j = 0; j < n; j++)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) _mm512_storeu_ps(AT(j, v), _mm512_mul_ps(_mm512_loadu_ps(AT(j, v)), inv[v]));
#undef AT
}

// dS = P ⊙ (dP − Σ_keys P ⊙ dP) · scale down the columns [i0, i0 + 16·NV) of ds (holding dP) in
// place; the sums in two chains (even and odd keys), as the forward pass's.
AI T512 void softmax_backward_columns(int NV, const float *p, float *ds, long ld, int n, int i0, float scale) {
    __m512 d0[4], d1[4];
    _Pragma("unroll")
    for (int v = 0; v < NV; v++) d0[v] = d1[v] = _mm512_setzero_ps();
#define AT(q, j, v) ((q) + (long)(j) * ld + i0 + 16 * (v))
    int j = 0;
    for (; j + 1 < n; j += 2)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) {
            d0[v] = _mm512_fmadd_ps(_mm512_loadu_ps(AT(p, j, v)), _mm512_loadu_ps(AT(ds, j, v)), d0[v]);
            d1[v] = _mm512_fmadd_ps(_mm512_loadu_ps(AT(p, j + 1, v)), _mm512_loadu_ps(AT(ds, j + 1, v)), d1[v]);
        }
    if (j < n)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) d0[v] = _mm512_fmadd_ps(_mm512_loadu_ps(AT(p, j, v)), _mm512_loadu_ps(AT(ds, j, v)), d0[v]);
    _Pragma("unroll")
    for (int v = 0; v < NV; v++) d0[v] = _mm512_add_ps(d0[v], d1[v]);
    const __m512 vs = _mm512_set1_ps(scale);
    for (j = 0; j < n; j++)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) {
            const __m512 g = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(AT(ds, j, v)), d0[v]), vs);
            _mm512_storeu_ps(AT(ds, j, v), _mm512_mul_ps(_mm512_loadu_ps(AT(p, j, v)), g));
        }
#undef AT
}

// One head's Sᵀ = K · (Q/√dh)ᵀ into pt[N][np], then the softmax down its columns (each query's
// scores over the keys); qt is scratch for the transposed, scaled Q head.
AI T512 void head_probs(const float *q, const float *k, long ld, int N, int np, int dh, float *qt, float *pt,
                        void (*transpose)(const float *, long, int, int, int, float, float *)) {
    transpose(q, ld, N, np, dh, 1.0f / sqrtf((float)dh), qt);
    for (int j0 = 0; j0 < N; j0 += RB)
        product(k + j0 * ld, ld, 1, min_int(RB, N - j0), dh, qt, np, np, pt + (long)j0 * np, np);
    SLABS(np, softmax_columns(NV, pt, np, N, i0))
}

// One head's dSᵀ into dst[N][np]: dPᵀ = V · dctxᵀ (dct scratch for dctx transposed), then the
// softmax's backward down the columns, scaled as S was.
AI T512 void head_dscores(const float *v, long ld, const float *dc, long ldc, const float *pt, int N, int np, int dh,
                          float *dct, float *dst, void (*transpose)(const float *, long, int, int, int, float, float *)) {
    transpose(dc, ldc, N, np, dh, 1.0f, dct);
    for (int j0 = 0; j0 < N; j0 += RB)
        product(v + j0 * ld, ld, 1, min_int(RB, N - j0), dh, dct, np, np, dst + (long)j0 * np, np);
    SLABS(np, softmax_backward_columns(NV, pt, dst, np, N, i0, 1.0f / sqrtf((float)dh)))
}

size_t ck_attention512_scratch(int tokens, int dim, int heads) {
    const size_t np = (size_t)round16(tokens), n = (size_t)tokens, dh = (size_t)(dim / heads);
    // Whole-vector heads: a transposed Q (or dctx) head, and dSᵀ. Narrow heads add an output
    // head transposed and one square transpose of P or dSᵀ.
    return 2 * dh * np + n * np + np * np;
}

// Q, K, V and ctx (and their gradients) are read and written in place, a head's rows 3·D (D)
// floats apart: with the batch in chunks an image's rows are in L2 by now, and copying each
// image's heads out contiguous and back, as this core once did for rows coming from L3, made it
// 1.13× (128 images at once) to 1.2× (chunks of 8) slower, measured call by call in one process.

// ---- narrow heads ---------------------------------------------------------------------------
// Heads 2–15 floats wide over many tokens (a ViT of width 4–24 in two heads over 49 patches):
// products with a head's width in the vector lanes would waste most of each vector, and the Swift path
// runs a BLAS call per image and head on a 49 × 49 × dh product (3–9 GFLOP/s measured). Here
// every product keeps tokens in the vector lanes: outputs with a head's width are computed
// transposed ([dh][np], a head column per row, RB of them per tile) and written back column by
// column, and the two products that sum over queries read P and dS transposed to queries × keys.

// yt[c][j] = s·y[j][c] for c < dh, j < n; zero for n ≤ j < np.
AI void transpose_narrow(const float *y, long ldy, int n, int np, int dh, float s, float *yt) {
    for (int c = 0; c < dh; c++) {
        for (int j = 0; j < n; j++) yt[(long)c * np + j] = y[(long)j * ldy + c] * s;
        for (int j = n; j < np; j++) yt[(long)c * np + j] = 0;
    }
}

// y[j][c] = yt[c][j] for j < n, c < dh.
AI void untranspose_narrow(const float *yt, int np, int n, int dh, float *y, long ldy) {
    for (int j = 0; j < n; j++)
        for (int c = 0; c < dh; c++) y[(long)j * ldy + c] = yt[(long)c * np + j];
}

// ot[c][0, np) = Σ_t a[c·1 + t·ats] · b[t][0, np) for c < dh: a head's columns (stride 1, rows
// ats apart) against b[kdim][np].
// A last block of m < RB columns computes only those m rows of the tile: a head two columns wide
// would otherwise pay for seven.
AI T512 void head_product(const float *a, long ats, int dh, int kdim, const float *b, int np, float *ot) {
    for (int c0 = 0; c0 < dh; c0 += RB) {
        const int m = min_int(RB, dh - c0);
#define AT_ROWS(R) product_rows(R, a + c0, 1, ats, m, kdim, b, np, np, ot + (long)c0 * np, np)
        switch (m) {
        case 1: AT_ROWS(1); break;
        case 2: AT_ROWS(2); break;
        case 3: AT_ROWS(3); break;
        case 4: AT_ROWS(4); break;
        case 5: AT_ROWS(5); break;
        case 6: AT_ROWS(6); break;
        default: AT_ROWS(RB); break;
        }
#undef AT_ROWS
    }
}

// probs[B·H] as Pᵀ, [N keys][np queries] (np = N rounded up to 16; the pad columns hold finite
// values nothing reads); the backward pass reads it in place. Heads of whole vectors take their
// products with a head's width directly; narrow ones (any other width) transposed.
T512 void ck_attention512_forward(const float *qkv, float *probs, float *ctx, int B, int N, int D, int H,
                                  float *scratch) {
    const int dh = D / H, np = round16(N), narrow = dh % 16 != 0;
    const long ld = 3L * D;
    float *qt = scratch, *ot = qt + (long)dh * np;  // [dh][np] each
    for (int b = 0; b < B; b++) {
        const float *base = qkv + (long)b * N * ld;
        float *cb = ctx + (long)b * N * D;
        for (int h = 0; h < H; h++) {
            const float *q = base + h * dh, *k = base + D + h * dh, *v = base + 2 * D + h * dh;
            float *pt = probs + ((long)b * H + h) * N * np;
            if (narrow) {
                head_probs(q, k, ld, N, np, dh, qt, pt, transpose_narrow);
                head_product(v, ld, dh, N, pt, np, ot);  // ctxᵀ = Vᵀ · Pᵀ
                untranspose_narrow(ot, np, N, dh, cb + h * dh, D);
                continue;
            }
            head_probs(q, k, ld, N, np, dh, qt, pt, transpose_scaled);
            for (int i0 = 0; i0 < N; i0 += RB)  // ctx = P · V
                product(pt + i0, 1, np, min_int(RB, N - i0), N, v, ld, dh, cb + (long)i0 * D + h * dh, D);
        }
    }
}

T512 void ck_attention512_backward(const float *qkv, const float *probs, const float *dctx, float *dqkv, int B, int N,
                                   int D, int H, float *scratch) {
    const int dh = D / H, np = round16(N), narrow = dh % 16 != 0;
    const long ld = 3L * D;
    float *dct = scratch, *ot = dct + (long)dh * np, *dst = ot + (long)dh * np, *tr = dst + (long)N * np;
    for (int b = 0; b < B; b++) {
        const float *base = qkv + (long)b * N * ld, *dcb = dctx + (long)b * N * D;
        float *gb = dqkv + (long)b * N * ld;
        for (int h = 0; h < H; h++) {
            const float *q = base + h * dh, *k = base + D + h * dh, *v = base + 2 * D + h * dh;
            const float *dc = dcb + h * dh, *pt = probs + ((long)b * H + h) * N * np;
            float *dq = gb + h * dh, *dk = gb + D + h * dh, *dv = gb + 2 * D + h * dh;
            if (narrow) {
                head_dscores(v, ld, dc, D, pt, N, np, dh, dct, dst, transpose_narrow);
                head_product(k, ld, dh, N, dst, np, ot);         // dQᵀ = Kᵀ · dSᵀ
                untranspose_narrow(ot, np, N, dh, dq, ld);
                transpose_scaled(dst, np, N, np, np, 1.0f, tr);  // dS, queries × keys
                head_product(q, ld, dh, N, tr, np, ot);          // dKᵀ = Qᵀ · dS
                untranspose_narrow(ot, np, N, dh, dk, ld);
                transpose_scaled(pt, np, N, np, np, 1.0f, tr);   // P, queries × keys
                head_product(dc, D, dh, N, tr, np, ot);          // dVᵀ = dctxᵀ · P
                untranspose_narrow(ot, np, N, dh, dv, ld);
                continue;
            }
            head_dscores(v, ld, dc, D, pt, N, np, dh, dct, dst, transpose_scaled);
            for (int j0 = 0; j0 < N; j0 += RB) {
                const int m = min_int(RB, N - j0);
                product(pt + (long)j0 * np, np, 1, m, N, dc, D, dh, dv + j0 * ld, ld);   // dV = Pᵀ · dctx
                product(dst + (long)j0 * np, np, 1, m, N, q, ld, dh, dk + j0 * ld, ld);  // dK = dSᵀ · Q
                product(dst + j0, 1, np, m, N, k, ld, dh, dq + j0 * ld, ld);             // dQ = dS · K
            }
        }
    }
}

#endif
