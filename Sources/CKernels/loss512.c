#include "ckernels.h"
#include "avx512.h"
#include <math.h>

// Softmax cross-entropy on AVX-512, 16 rows (samples) per vector. A classifier's rows are short
// (10 classes), so vectors along a row are mostly padding and its max, sum and log are scalar
// work: in NeuralNets' Swift loop they were ~17% of a 64-32-10 step. Here lane r holds row r's
// class c, gathered at stride K; max, exp, sum, log and the gradient are then element-wise.

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

// Mean over rows of log Σ_c e^(z_c) − z_label, and (grad not NULL) grad = (softmax − onehot)/B;
// with `correct`, the number of rows whose first largest logit is the label's (as argmaxRows
// counts: a NaN never wins, and a NaN first logit wins the row), read off the gathers the max
// already makes instead of a second pass over the logits.
// Rows in blocks of 16, the last one masked; e[K][16] holds a block's exponentials (K ≤ 64).
T512 double ck_softmax_xent512(const float *z, const int *labels, float *grad, int B, int K, int *correct) {
    float e[64 * 16];
    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i idx = _mm512_mullo_epi32(lane, _mm512_set1_epi32(K));
    const float invB = 1.0f / (float)B;
    __m512 total = _mm512_setzero_ps();
    int right = 0;
    for (int r0 = 0; r0 < B; r0 += 16) {
        const __mmask16 rows = firstLanes(B - r0);
        const float *zb = z + (long)r0 * K;
        __m512 mx = _mm512_set1_ps(-INFINITY);
        __mmask16 bad = 0;  // rows with a NaN or +∞ logit: their loss and gradient are NaN, as in Swift
        __m512 best = _mm512_setzero_ps();    // the first largest logit so far (argmaxRows' rule)
        __m512i arg = _mm512_setzero_si512();  // and its class
        for (int c = 0; c < K; c++) {
            const __m512 v = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), rows, idx, zb + c, 4);
            _mm512_storeu_ps(e + 16 * c, v);
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
        const __m512i lab = _mm512_maskz_loadu_epi32(rows, labels + r0);
        right += __builtin_popcount((unsigned)(rows & _mm512_cmpeq_epi32_mask(arg, lab)));
        const __m512 zl = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), rows, _mm512_add_epi32(idx, lab), zb, 4);
        const __m512 l = _mm512_mask_mov_ps(_mm512_sub_ps(_mm512_add_ps(log16(s), mx), zl), bad, nan);
        total = _mm512_add_ps(total, _mm512_maskz_mov_ps(rows, l));
        if (!grad) continue;
        const __m512 k = _mm512_div_ps(_mm512_set1_ps(invB), s), vb = _mm512_set1_ps(invB);
        float *gb = grad + (long)r0 * K;
        for (int c = 0; c < K; c++) {
            __m512 g = _mm512_mul_ps(_mm512_loadu_ps(e + 16 * c), k);
            g = _mm512_mask_sub_ps(g, _mm512_cmpeq_epi32_mask(lab, _mm512_set1_epi32(c)), g, vb);
            g = _mm512_mask_mov_ps(g, bad, nan);
            _mm512_mask_i32scatter_ps(gb + c, rows, idx, g, 4);
        }
    }
    if (correct) *correct = right;
    return (double)_mm512_reduce_add_ps(total) * invB;
}

#endif
