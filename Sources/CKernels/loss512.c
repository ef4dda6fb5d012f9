#include "ckernels.h"
#include "avx512.h"
#include <math.h>

// Softmax cross-entropy on AVX-512, 16 rows (samples) per vector. A classifier's rows are short
// (10 classes), so vectors along a row are mostly padding and its max, sum and log are scalar
// work: in NeuralNets' Swift loop they were ~17% of a 64-32-10 step. Here lane r holds row r's
// class c; max, exp, sum, log and the gradient are then element-wise. The rows go in and the
// gradient comes out by 16 × 16 register transposes (as loss256.c's 8 × 8), where K gathers and
// K scatters per 16 rows cost most of the kernel (the scatters are microcoded on AMD).

#if defined(__x86_64__)

// ln x for normal x > 0 (here 1 ≤ x ≤ K): Cephes' logf (≤ 1 ulp on its reduced range): x = 2^e·m,
// m in [√½, √2), log m by a degree-9 polynomial in m − 1.
AI T512 __m512 log16(__m512 x) {
    __m512 m = _mm512_getmant_ps(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);  // [1, 2)
    __m512 e = _mm512_getexp_ps(x);
    const __mmask16 big = _mm512_cmp_ps_mask(m, _mm512_set1_ps(1.41421356237f), _CMP_GT_OQ);
    m = _mm512_mask_mul_ps(m, big, m, _mm512_set1_ps(0.5f));
    e = _mm512_mask_add_ps(e, big, e, _mm512_set1_ps(1.0f));
    const __m512 f = _mm512_sub_ps(m, _mm512_set1_ps(1.0f)), z = _mm512_mul_ps(f, f);
    __m512 p = _mm512_set1_ps(7.0376836292e-2f);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(-1.1514610310e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.1676998740e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(-1.2420140846e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.4249322787e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(-1.6668057665e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(2.0000714765e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(-2.4999993993e-1f));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(3.3333331174e-1f));
    __m512 y = _mm512_mul_ps(_mm512_mul_ps(p, f), z);
    y = _mm512_fmadd_ps(e, _mm512_set1_ps(-2.12194440e-4f), y);
    y = _mm512_fnmadd_ps(z, _mm512_set1_ps(0.5f), y);
    return _mm512_fmadd_ps(e, _mm512_set1_ps(0.693359375f), _mm512_add_ps(f, y));
}

// Rows z[0 : nr] of K → e[c][16] for c < K (the rows past nr zero): 16 × 16 blocks by register
// transposes, the last block's columns past K by masked loads.
AI T512 void columns(const float *z, int K, int nr, float *e) {
    for (int c0 = 0; c0 < K; c0 += 16) {
        const int w = K - c0 < 16 ? K - c0 : 16;
        const __mmask16 m = firstLanes(w);
        __m512 r[16];
        for (int i = 0; i < 16; i++)
            r[i] = i >= nr ? _mm512_setzero_ps() : w == 16 ? _mm512_loadu_ps(z + (long)i * K + c0)
                                                            : _mm512_maskz_loadu_ps(m, z + (long)i * K + c0);
        transpose16(r);
        for (int j = 0; j < w; j++) _mm512_storeu_ps(e + 16 * (c0 + j), r[j]);
    }
}

// columns' inverse: e[c][16] for c < K → rows g[0 : nr] of K.
AI T512 void rowsOut(const float *e, int K, int nr, float *g) {
    for (int c0 = 0; c0 < K; c0 += 16) {
        const int w = K - c0 < 16 ? K - c0 : 16;
        const __mmask16 m = firstLanes(w);
        __m512 r[16];
        for (int j = 0; j < 16; j++) r[j] = j < w ? _mm512_loadu_ps(e + 16 * (c0 + j)) : _mm512_setzero_ps();
        transpose16(r);
        for (int i = 0; i < nr; i++) {
            if (w == 16) _mm512_storeu_ps(g + (long)i * K + c0, r[i]);
            else _mm512_mask_storeu_ps(g + (long)i * K + c0, m, r[i]);
        }
    }
}

// Mean over rows of log Σ_c e^(z_c) − z_label, and (grad not NULL) grad = (softmax − onehot)/B;
// with `correct`, the number of rows whose first largest logit is the label's (as argmaxRows
// counts: a NaN never wins, and a NaN first logit wins the row), read off the pass the max
// already makes instead of a second pass over the logits.
// Rows in blocks of 16, the last one partial; e[K][16] holds a block's logits, then their
// exponentials, then its gradient (K ≤ 64).
T512 double ck_softmax_xent512(const float *z, const int *labels, float *grad, int B, int K, int *correct) {
    float e[64 * 16];
    const float invB = 1.0f / (float)B;
    __m512 total = _mm512_setzero_ps();
    int right = 0;
    for (int r0 = 0; r0 < B; r0 += 16) {
        const int nr = B - r0 < 16 ? B - r0 : 16;
        const __mmask16 rows = firstLanes(nr);
        const float *zb = z + (long)r0 * K;
        __m512 mx = _mm512_set1_ps(-INFINITY);
        __mmask16 bad = 0;  // rows with a NaN or +∞ logit: their loss and gradient are NaN, as in Swift
        __m512 best = _mm512_setzero_ps();    // the first largest logit so far (argmaxRows' rule)
        __m512i arg = _mm512_setzero_si512();  // and its class
        const __m512i lab = _mm512_maskz_loadu_epi32(rows, labels + r0);
        __m512 zl = _mm512_setzero_ps();  // the label's logit
        columns(zb, K, nr, e);
        for (int c = 0; c < K; c++) {
            const __m512 v = _mm512_loadu_ps(e + 16 * c);
            zl = _mm512_mask_mov_ps(zl, _mm512_cmpeq_epi32_mask(lab, _mm512_set1_epi32(c)), v);
            mx = _mm512_max_ps(mx, v);
            bad |= _mm512_cmp_ps_mask(v, _mm512_set1_ps(INFINITY), _CMP_NLT_UQ);
            const __mmask16 up = c == 0 ? (__mmask16)0xFFFF : _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
            best = _mm512_mask_mov_ps(best, up, v);
            arg = _mm512_mask_mov_epi32(arg, up, _mm512_set1_epi32(c));
        }
        const __m512 nan = _mm512_set1_ps(NAN);
        __m512 s = _mm512_setzero_ps();
        for (int c = 0; c < K; c++) {
            const __m512 x = exp16(_mm512_sub_ps(_mm512_loadu_ps(e + 16 * c), mx));
            _mm512_storeu_ps(e + 16 * c, x);
            s = _mm512_add_ps(s, x);
        }
        right += __builtin_popcount((unsigned)(rows & _mm512_cmpeq_epi32_mask(arg, lab)));
        const __m512 l = _mm512_mask_mov_ps(_mm512_sub_ps(_mm512_add_ps(log16(s), mx), zl), bad, nan);
        total = _mm512_add_ps(total, _mm512_maskz_mov_ps(rows, l));
        if (!grad) continue;
        const __m512 k = _mm512_div_ps(_mm512_set1_ps(invB), s), vb = _mm512_set1_ps(invB);
        for (int c = 0; c < K; c++) {
            __m512 g = _mm512_mul_ps(_mm512_loadu_ps(e + 16 * c), k);
            g = _mm512_mask_sub_ps(g, _mm512_cmpeq_epi32_mask(lab, _mm512_set1_epi32(c)), g, vb);
            _mm512_storeu_ps(e + 16 * c, _mm512_mask_mov_ps(g, bad, nan));
        }
        rowsOut(e, K, nr, grad + (long)r0 * K);
    }
    if (correct) *correct = right;
    return (double)_mm512_reduce_add_ps(total) * invB;
}

#endif
