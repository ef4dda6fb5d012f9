#include "ckernels.h"
#include "sgemm.h"
#include "avx2.h"

// sgemm.c's kernel for CPUs with AVX2 + FMA but no AVX-512: the same blocking and the same
// operand handling (op(A) never packed, op(B) read in place where sgemm.c reads it so), with
// vectors of 8 and the register tiles 16 ymm registers hold: 6 rows × 16 columns (12
// accumulators), or 12 × 8 where C has at most 8 columns. On these CPUs OpenBLAS's own
// products spend a sixth of an EMC search packing (perf, EPYC: sgemm_oncopy, itcopy, otcopy and
// beta ~16% against its kernel's 38%).
//
// Each entry of C is one FMA chain over k per K slice, the slices as long as sgemm.c makes them
// for the same n, then alpha, the bias, beta·C and the epilogue in sgemm.c's order: the same
// operations on each entry as the AVX-512 tile, only the lanes they run in differ.

#if defined(__x86_64__)
enum { NC = 1024, MC = 240 };

// Loads and stores of a tile row's vector v: whole ones plainly, since AMD's masked moves are
// slow (masked loads a little, masked stores microcoded), the last partial one masked or in parts.
AI T256 __m256 load8(const float *p, int whole, __m256i m) { return whole ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m); }
AI T256 void store8(float *p, int whole, int n, __m256 v) {
    if (whole) _mm256_storeu_ps(p, v);
    else storeFirst8(p, n, v);
}

// A tile's accumulators → C: alpha (unless A1), the bias (BI), beta·C (unless B0), then the
// epilogue OP, in that order for every entry — the AVX-512 tile's order.
AI T256 void rows8(int NV, int MR, int A1, int BI, int B0, int OP, __m256 acc[12][2], float alpha, float beta,
                   const __m256 brow[2], float *c, long ldc, int mr, int nr, const int whole[2], const __m256i m[2],
                   const float *e) {
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta), zero = _mm256_setzero_ps();
    _Pragma("unroll")
    for (int i = 0; i < MR; i++) {
        if (i >= mr) continue;
        float *p = c + i * ldc;
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) {
            __m256 r = A1 ? acc[i][v] : _mm256_mul_ps(va, acc[i][v]);
            if (BI) r = _mm256_add_ps(r, brow[v]);
            if (!B0) r = _mm256_fmadd_ps(vb, load8(p + 8 * v, whole[v], m[v]), r);
            // max(r, 0) with r first returns the second operand, +0, for a NaN or −0 r: the
            // layers' ReLU, `r > 0 ? r : 0`.
            if (OP == CK_EPILOGUE_RELU) r = _mm256_max_ps(r, zero);
            if (OP >= CK_EPILOGUE_MASK) {
                const __m256 y = load8(e + i * ldc + 8 * v, whole[v], m[v]);
                if (OP == CK_EPILOGUE_MASK) r = _mm256_and_ps(r, _mm256_cmp_ps(y, zero, _CMP_GT_OQ));
                else if (OP == CK_EPILOGUE_ADD) r = _mm256_add_ps(y, r);
                else r = _mm256_mul_ps(y, r);
            }
            store8(p + 8 * v, whole[v], nr - 8 * v, r);
        }
    }
}

// Tile C[mr, nr] over kc steps with NV vectors of 8: as sgemm.c's `tile`. NV, MR and FULL (nr is
// the whole 8·NV, no partial vector) are constants at each call, so each variant compiles apart.
AI T256 void tile8(int NV, int MR, int FULL, int kc, const float *a, long lda, int transA, const float *b, long ldb, float *c,
                   long ldc, int mr, int nr, float alpha, float beta, const float *bias, int op, const float *e) {
    __m256 acc[12][2];
    _Pragma("unroll")
    for (int i = 0; i < MR; i++)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps();
    const float *row[12];
    const long ks = transA ? lda : 1;
    _Pragma("unroll")
    for (int i = 0; i < MR; i++) row[i] = a + (i < mr ? i : mr - 1) * (transA ? 1 : lda);
    for (int k = 0; k < kc; k++) {
        __m256 bv[2];
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) bv[v] = _mm256_loadu_ps(b + k * ldb + 8 * v);
        _Pragma("unroll")
        for (int i = 0; i < MR; i++) {
            __m256 av = _mm256_broadcast_ss(row[i] + k * ks);
            _Pragma("unroll")
            for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(av, bv[v], acc[i][v]);
        }
    }
    __m256i m[2];
    __m256 brow[2];
    int whole[2];
    _Pragma("unroll")
    for (int v = 0; v < NV; v++) {
        whole[v] = FULL || nr >= 8 * (v + 1);
        m[v] = lanes8(nr - 8 * v);
        brow[v] = bias ? load8(bias + 8 * v, whole[v], m[v]) : _mm256_setzero_ps();
    }
    // The layers' products (alpha 1, beta 0; a bias, a ReLU or a mask) with their choices made
    // once per tile: made per vector, they cost up to half of a short product's time (160 × 32 ×
    // 10 with its mask 2.2× faster with this and the loop order below, bench/sgemm/ab.sh).
#define ROWS(A1, BI, B0, OP) rows8(NV, MR, A1, BI, B0, OP, acc, alpha, beta, brow, c, ldc, mr, nr, whole, m, e)
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
static T256 void packB8(int NR, const float *b, long ldb, int transB, int k0, int kc, int j0, int nc, float *dst) {
    if (!transB) {
        for (int k = 0; k < kc; k++) {
            const float *s = b + (long)(k0 + k) * ldb + j0;
            for (int jp = 0; jp < nc; jp += NR)
                for (int v = 0; v < NR; v += 8)
                    _mm256_storeu_ps(dst + (long)jp * kc + k * NR + v, load8(s + jp + v, nc - jp - v >= 8, lanes8(nc - jp - v)));
        }
        return;
    }
    for (int jp = 0; jp < nc; jp += NR) {
        float *d = dst + (long)jp * kc;
        const int w = nc - jp < NR ? nc - jp : NR;
        for (int v = 0; v < NR; v += 8) {
            const float *s = b + (long)(j0 + jp + v) * ldb + k0;
            int k = 0;
            if (w - v >= 8)  // whole 8 × 8 blocks by register transposes (the element loop: 4% of a search)
                for (; k + 8 <= kc; k += 8) {
                    __m256 r[8];
                    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(s + i * ldb + k);
                    transpose8(r);
                    for (int i = 0; i < 8; i++) _mm256_storeu_ps(d + (k + i) * NR + v, r[i]);
                }
            for (; k < kc; k++)
                for (int j = v; j < v + 8; j++) d[k * NR + j] = j < w ? b[(long)(j0 + jp + j) * ldb + k0 + k] : 0;
        }
    }
}

AI T256 void blocked8(int NV, int MR, int KC, int transA, int transB, int m, int n, int k, float alpha, const float *a,
                      long lda, const float *b, long ldb, float beta, float *c, long ldc, const float *bias, int op,
                      const float *e, float *bufB) {
    const int NR = 8 * NV;
    const int direct = ck_sgemm_b_in_place(transA, transB, ldb, NR, m);
    for (int j0 = 0; j0 < n; j0 += NC) {
        int nc = n - j0 < NC ? n - j0 : NC;
        int full = direct ? nc / NR * NR : 0;
        for (int k0 = 0; k0 < k; k0 += KC) {
            int kc = k - k0 < KC ? k - k0 : KC;
            float bt = k0 == 0 ? beta : 1;
            const float *bs = k0 == 0 && bias ? bias + j0 : NULL;
            const int ol = k0 + kc >= k ? op : CK_EPILOGUE_NONE;
            if (full < nc) packB8(NR, b, ldb, transB, k0, kc, j0 + full, nc - full, bufB + (long)full * kc);
            for (int i0 = 0; i0 < m; i0 += MC) {
                int mc = m - i0 < MC ? m - i0 : MC;
                // Row tiles outer, panels inner: a tile's rows of A stay in L1 across all of the
                // slice's panels, which stream in order; panels outer read all of A again for
                // every panel. Faster or level on every shape measured (1024³ 1.5×, ab.sh),
                // and each entry of C is computed the same either way.
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
#define TILE(W, F, T) tile8(W, MR, F, kc, ap, lda, T, bp, ldbp, ct, ldc, mr, nr, alpha, bt, bsp, ol, et)
                        if (nr == NR) {  // a whole panel: no partial vector to mask
                            if (transA) TILE(NV, 1, 1); else TILE(NV, 1, 0);
                        } else if (NV == 1 || nr > 8) {
                            if (transA) TILE(NV, 0, 1); else TILE(NV, 0, 0);
                        } else {  // a last panel of at most 8 columns: one vector
                            if (transA) TILE(1, 0, 1); else TILE(1, 0, 0);
                        }
#undef TILE
                    }
                }
            }
        }
    }
}

T256 void ck_sgemm256(int transA, int transB, int m, int n, int k, float alpha, const float *a, long lda, const float *b,
                      long ldb, float beta, float *c, long ldc, const float *bias, int op, const float *e, float *buf) {
    const int KC = ck_sgemm_k_slice(n);
    if (n > 8) blocked8(2, 6, KC, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, op, e, buf);
    else blocked8(1, 12, KC, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, op, e, buf);
}

#endif
