#include "ckernels.h"
#include "sgemm.h"
#include <stdlib.h>
#include <pthread.h>

// Single-precision GEMM for AVX-512 CPUs (sgemm256.c: the same for AVX2), for the products the
// layers make: C has many rows (a batch, or a batch of tokens or pixels) and few columns, K is a
// layer width. OpenBLAS's own micro-kernel is as fast as this one, but on these shapes it spends
// 15–40% of a call packing both operands (A again for every column block). Here op(A) — the
// activations, large — is never packed: broadcasts from MR row streams when row-major, from MR
// adjacent columns stepping by lda when transposed (the weight gradients; copying them into strips
// first cost those products 25–35% on the ViT's shapes); op(B) — the weights, small — is read in
// place when its rows are, and packed otherwise (transposed B by 16 × 16 register transposes).
//
// Blocking (BLIS's loop order): for each NC-column block and KC-deep slice, op(B) as KC × NR
// panels (one panel, ≤ 32 KiB, stays in L1 across the row tiles); for each MC-row block, the
// MR × NR register tile over every panel. The summation order is fixed by the shape, so results
// are reproducible run to run.

#if defined(__x86_64__)
#include "avx512.h"

enum { NC = 1024, MC = 240 };  // MC: a multiple of both MR (6 and 12)

// Loads and stores of a tile row's vector v: whole ones plainly, the last partial one masked
// (AMD's masked stores cost more than plain ones).
AI T512 __m512 load16(const float *p, int whole, __mmask16 m) { return whole ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p); }
AI T512 void store16(float *p, int whole, __mmask16 m, __m512 v) {
    if (whole) _mm512_storeu_ps(p, v);
    else _mm512_mask_storeu_ps(p, m, v);  // an empty mask stores nothing
}

// A tile's accumulators → C: alpha (unless A1), the bias (BI), beta·C (unless B0), then the
// epilogue OP, in that order for every entry (sgemm256.c's tile does the same).
AI T512 void rows16(int NV, int MR, int A1, int BI, int B0, int OP, __m512 acc[12][4], float alpha, float beta,
                    const __m512 brow[4], float *c, long ldc, int mr, const int whole[4], const __mmask16 m[4],
                    const float *e) {
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta), zero = _mm512_setzero_ps();
    _Pragma("unroll")
    for (int i = 0; i < MR; i++) {
        if (i >= mr) continue;
        float *p = c + i * ldc;
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) {
            __m512 r = A1 ? acc[i][v] : _mm512_mul_ps(va, acc[i][v]);
            if (BI) r = _mm512_add_ps(r, brow[v]);
            if (!B0) r = _mm512_fmadd_ps(vb, load16(p + 16 * v, whole[v], m[v]), r);
            // max(r, 0) is `r > 0 ? r : 0` (NaN and −0 give +0), as the layers' ReLU.
            if (OP == CK_EPILOGUE_RELU) r = _mm512_max_ps(r, zero);
            if (OP >= CK_EPILOGUE_MASK) {
                const __m512 y = load16(e + i * ldc + 16 * v, whole[v], m[v]);
                if (OP == CK_EPILOGUE_MASK) r = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(y, zero, _CMP_GT_OQ), r);
                else if (OP == CK_EPILOGUE_ADD) r = _mm512_add_ps(y, r);
                else r = _mm512_mul_ps(y, r);
            }
            store16(p + 16 * v, whole[v], m[v], r);
        }
    }
}

// The loops over the tile's rows and vectors must unroll fully (SwiftPM builds C at -O2, which
// otherwise leaves the 12-row tiles' accumulators in memory: 2.5× slower), hence the pragmas.
// Tile C[mr, nr] = alpha·Σ_k a_k ⊗ b_k + beta·C (+ bias[j], when given), over kc steps, NV
// vectors of 16 wide; FULL: nr is the whole 16·NV (no partial vector). NV, MR and FULL are
// constants at each call, so each variant compiles apart.
// b: rows of 16·NV at stride ldb (a packed panel, or op(B) itself). a: op(A)'s rows read in
// place, row i at a + i·lda with k contiguous, or (transA) column i at a + i with k at stride
// lda; rows past mr repeat the last valid row (computed, never stored). On the last K slice,
// epilogue `op` (a CK_EPILOGUE_*, with its C-shaped operand e at ldc) finishes C's values in
// registers (see ck_sgemm_epilogue).
AI T512 void tile(int NV, int MR, int FULL, int kc, const float *a, long lda, int transA, const float *b, long ldb,
                  float *c, long ldc, int mr, int nr, float alpha, float beta, const float *bias, int op,
                  const float *e) {
    __m512 acc[12][4];
    _Pragma("unroll")
    for (int i = 0; i < MR; i++)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
    // Element (i, k) of op(A) at row[i][k·ks].
    const float *row[12];
    const long ks = transA ? lda : 1;
    _Pragma("unroll")
    for (int i = 0; i < MR; i++) row[i] = a + (i < mr ? i : mr - 1) * (transA ? 1 : lda);
    for (int k = 0; k < kc; k++) {
        __m512 bv[4];
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) bv[v] = _mm512_loadu_ps(b + k * ldb + 16 * v);
        _Pragma("unroll")
        for (int i = 0; i < MR; i++) {
            __m512 av = _mm512_set1_ps(row[i][k * ks]);
            _Pragma("unroll")
            for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
        }
    }
    __mmask16 m[4];
    __m512 brow[4];
    int whole[4];
    _Pragma("unroll")
    for (int v = 0; v < NV; v++) {
        whole[v] = FULL || nr >= 16 * (v + 1);
        m[v] = firstLanes(nr - 16 * v);
        brow[v] = bias ? load16(bias + 16 * v, whole[v], m[v]) : _mm512_setzero_ps();
    }
    // The layers' products (alpha 1, beta 0; a bias, a ReLU or a mask) with their choices made
    // once per tile, not per vector.
#define ROWS(A1, BI, B0, OP) rows16(NV, MR, A1, BI, B0, OP, acc, alpha, beta, brow, c, ldc, mr, whole, m, e)
    if (alpha == 1 && beta == 0 && op == CK_EPILOGUE_RELU) {
        if (bias) ROWS(1, 1, 1, CK_EPILOGUE_RELU); else ROWS(1, 0, 1, CK_EPILOGUE_RELU);
    } else if (alpha == 1 && beta == 0 && op == CK_EPILOGUE_NONE) {
        if (bias) ROWS(1, 1, 1, CK_EPILOGUE_NONE); else ROWS(1, 0, 1, CK_EPILOGUE_NONE);
    } else if (alpha == 1 && beta == 0 && op == CK_EPILOGUE_MASK && !bias) {
        ROWS(1, 0, 1, CK_EPILOGUE_MASK);
    } else {
        ROWS(alpha == 1, bias != NULL, beta == 0, op);
    }
#undef ROWS
}

// op(B)[k0 : k0+kc, j0 : j0+nc] → panels [nc/NR][kc][NR], columns past nc zero.
static T512 void packB(int NR, const float *b, long ldb, int transB, int k0, int kc, int j0, int nc, float *dst) {
    if (!transB) {  // row by row of the source, so that its reads are sequential
        for (int k = 0; k < kc; k++) {
            const float *s = b + (long)(k0 + k) * ldb + j0;
            for (int jp = 0; jp < nc; jp += NR)
                for (int v = 0; v < NR; v += 16)
                    _mm512_storeu_ps(dst + (long)jp * kc + k * NR + v, _mm512_maskz_loadu_ps(firstLanes(nc - jp - v), s + jp + v));
        }
        return;
    }
    for (int jp = 0; jp < nc; jp += NR) {
        int w = nc - jp;
        float *d = dst + (long)jp * kc;
        {  // op(B)[k, j] = b[j·ldb + k]: one gather of 16 columns per k
            const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
            const __m512i idx = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)ldb));
            for (int v = 0; v < NR; v += 16) {
                __mmask16 m = firstLanes(w - v);
                const float *s = b + (long)(j0 + jp + v) * ldb + k0;
                if (!m) {
                    for (int k = 0; k < kc; k++) _mm512_storeu_ps(d + k * NR + v, _mm512_setzero_ps());
                    continue;
                }
                int k = 0;
                if (m == 0xFFFF)  // whole 16 × 16 blocks by register transposes
                    for (; k + 16 <= kc; k += 16) {
                        __m512 r[16];
                        for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(s + i * ldb + k);
                        transpose16(r);
                        for (int i = 0; i < 16; i++) _mm512_storeu_ps(d + (k + i) * NR + v, r[i]);
                    }
                for (; k < kc; k++)
                    _mm512_storeu_ps(d + k * NR + v, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, s + k, 4));
            }
        }
    }
}

static pthread_key_t bufferKey;
static pthread_once_t bufferOnce = PTHREAD_ONCE_INIT;
static void makeKey(void) { pthread_key_create(&bufferKey, free); }

// Per-thread packing space for op(B): KC·NC (KC ≤ 512).
static float *buffers(void) {
    pthread_once(&bufferOnce, makeKey);
    float *p = pthread_getspecific(bufferKey);
    if (!p) {
        p = aligned_alloc(64, sizeof(float) * 512 * NC);
        if (p) pthread_setspecific(bufferKey, p);
    }
    return p;
}

AI T512 void blocked(int NV, int MR, int transA, int transB, int m, int n, int k, float alpha, const float *a,
                     long lda, const float *b, long ldb, float beta, float *c, long ldc, const float *bias,
                     int op, const float *e, float *bufB) {
    const int NR = 16 * NV, KC = ck_sgemm_k_slice(n);  // one B panel = 32 KiB
    const int direct = ck_sgemm_b_in_place(transA, transB, ldb, NR, m);
    for (int j0 = 0; j0 < n; j0 += NC) {
        int nc = n - j0 < NC ? n - j0 : NC;
        int full = direct ? nc / NR * NR : 0;  // columns read in place; the rest packed
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kc = k - k0 < KC ? k - k0 : KC;
            float bt = k0 == 0 ? beta : 1;
            const float *bs = k0 == 0 && bias ? bias + j0 : NULL;  // added once, with the first slice
            const int last = k0 + kc >= k;  // the epilogue on C's final values only
            const int ol = last ? op : CK_EPILOGUE_NONE;
            if (full < nc) packB(NR, b, ldb, transB, k0, kc, j0 + full, nc - full, bufB + (long)full * kc);
            for (int i0 = 0; i0 < m; i0 += MC) {
                int mc = m - i0 < MC ? m - i0 : MC;
                // Row tiles outer, panels inner (as sgemm256.c): a tile's rows of A stay in L1
                // across the slice's panels; each entry of C is computed the same either way.
                for (int ip = 0; ip < mc; ip += MR) {
                    int mr = mc - ip < MR ? mc - ip : MR;
                    for (int jp = 0; jp < nc; jp += NR) {
                        int nr = nc - jp < NR ? nc - jp : NR;
                        const float *bp = jp < full ? b + (long)k0 * ldb + j0 + jp : bufB + (long)jp * kc;
                        long ldbp = jp < full ? ldb : NR;
                        const float *bsp = bs ? bs + jp : NULL;
                        float *ct = c + (long)(i0 + ip) * ldc + j0 + jp;
                        const float *et = e ? e + (ct - c) : NULL;
                        const float *ap = transA ? a + (long)k0 * lda + i0 + ip : a + (long)(i0 + ip) * lda + k0;
                        // Literal widths and layouts, so that each tile is compiled for its own;
                        // a narrow last panel (784 = 12·64 + 16) runs a tile only as wide as it is.
#define TILE(W, F, T) tile(W, MR, F, kc, ap, lda, T, bp, ldbp, ct, ldc, mr, nr, alpha, bt, bsp, ol, et)
#define WIDTHS(T) if (nr == NR) TILE(NV, 1, T); else if (nr > 16 * (NV - 1)) TILE(NV, 0, T); \
                  else if (nr <= 16) TILE(1, 0, T); else if (nr <= 32) TILE(2, 0, T); else TILE(3, 0, T)
                        if (transA) { WIDTHS(1); } else { WIDTHS(0); }
#undef WIDTHS
#undef TILE
                    }
                }
            }
        }
    }
}

static T512 void sgemm512(int transA, int transB, int m, int n, int k, float alpha, const float *a, long lda,
                          const float *b, long ldb, float beta, float *c, long ldc, const float *bias, int op,
                          const float *e, float *buf) {
    // Tile width by n: 64 columns (6 rows) for wide C, 32 (12 rows) or 16 (12 rows) for narrow,
    // so that a narrow C does not run mostly zero-padded columns.
    if (n > 48) blocked(4, 6, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, op, e, buf);
    else if (n > 16) blocked(2, 12, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, op, e, buf);
    else blocked(1, 12, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, op, e, buf);
}

// ck_isa_level (kernelcap.c): 2 runs this kernel, 1 sgemm256.c's.
static int avx2_available(void) { return ck_isa_level() >= 1; }

int ck_sgemm_available(void) { return ck_avx512_available() || avx2_available(); }

static int enabled = 1;

void ck_sgemm_enable(int on) { __atomic_store_n(&enabled, on != 0, __ATOMIC_RELAXED); }
int ck_sgemm_enabled(void) { return __atomic_load_n(&enabled, __ATOMIC_RELAXED) && ck_sgemm_available(); }

static int run(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
               int ldb, float beta, float *c, int ldc, const float *bias, int op, const float *e, int always) {
    if (!ck_sgemm_available() || m <= 0 || n <= 0 || k <= 0 || alpha == 0) return 0;
    if (always == 2 && !avx2_available()) return 0;
    if (op < CK_EPILOGUE_NONE || op > CK_EPILOGUE_MULTIPLY || (op >= CK_EPILOGUE_MASK && !e)) return 0;
    if (!always && !__atomic_load_n(&enabled, __ATOMIC_RELAXED)) return 0;
    // Where this kernel beats OpenBLAS, measured shape by shape (BENCHMARKS.md): with op(B)
    // transposed (the layers' forward products) from small sizes on, since OpenBLAS packs both
    // operands — at any size from 64 rows (a 10-class output layer, 128 × 10 × 32: 1.4×) — but not
    // for fewer than 8 columns (a 4-unit layer fills a quarter of the 16-lane tile: 0.3–0.8×);
    // otherwise from 64 rows and, untransposed, k ≥ 64. OpenBLAS's small-matrix kernels win the
    // weight gradients of narrow layers (few rows) and products with a short k.
    if (!always) {
        double size = (double)m * n * k;
        // On AVX2, where OpenBLAS has no small-matrix kernels, also a transposed A of fewer than 16
        // rows (a classifier's weight gradient, 10 × 32 × 640: 1.7–2.0×) and an untransposed one
        // with k < 16 (the input gradient below a classifier, whose ReLU mask then rides in the
        // epilogue): an EMC search of a 64-32-10 MLP 1.06–1.29× faster end to end with these.
        const int avx2Small = !ck_avx512_available() && !transB && (transA ? m < 16 : k < 16);
        if (!avx2Small && (transB ? (m < 16 || n < 8 || (m < 64 && size < 65536))
                                  : (m < 64 || size < 524288 || (!transA && k < 64)))) return 0;
    }
    float *buf = buffers();
    if (!buf) return 0;
    if (ck_avx512_available() && always != 2) sgemm512(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, op, e, buf);
    else ck_sgemm256(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, op, e, buf);
    return 1;
}

int ck_sgemm(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
             int ldb, float beta, float *c, int ldc, const float *bias, int always) {
    return run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, CK_EPILOGUE_NONE, NULL, always);
}

int ck_sgemm_epilogue(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda,
                      const float *b, int ldb, float beta, float *c, int ldc, const float *bias, int op,
                      const float *operand, int always) {
    return run(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, op, operand, always);
}

#else

int ck_sgemm_available(void) { return 0; }
void ck_sgemm_enable(int on) { (void)on; }
int ck_sgemm_enabled(void) { return 0; }

int ck_sgemm(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
             int ldb, float beta, float *c, int ldc, const float *bias, int always) {
    (void)transA; (void)transB; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda;
    (void)b; (void)ldb; (void)beta; (void)c; (void)ldc; (void)always;
    return 0;
}

int ck_sgemm_epilogue(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda,
                      const float *b, int ldb, float beta, float *c, int ldc, const float *bias, int op,
                      const float *operand, int always) {
    (void)op; (void)operand;
    return ck_sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, always);  // 0: no kernel here
}

#endif
