#include "ckernels.h"
#include "avx2.h"
#include <math.h>

// loss512.c's softmax cross-entropy for CPUs with AVX2 + FMA, 8 rows (samples) per vector: lane r
// holds row r's class c. On such a CPU the Swift loop it replaces, with its separate argmax pass,
// was 14% of an EMC search of a 64-32-10 MLP (perf, EPYC). The rows go in and the gradient comes
// out by 8 × 8 register transposes, 1.14× faster than K + 1 gathers per 8 rows and a scalar
// scatter (160 rows of 10, bench/sgemm/ab.sh); the kernel is now about 8% of that search.

#if defined(__x86_64__)

// e^x for x ≤ 0 (logits less their row's maximum): loss512.c's exp16 (Cephes, x clamped below at
// −87.3), 2^n built from its exponent bits (n ≥ −126, so the product is what scalef makes).
AI T256 __m256 exp8(__m256 x) {
    const __m256 c = _mm256_max_ps(x, _mm256_set1_ps(-87.33654f));
    const __m256 t = _mm256_fmadd_ps(c, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(12582912.0f));
    const __m256 n = _mm256_sub_ps(t, _mm256_set1_ps(12582912.0f));
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), c);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    const __m256 er = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(r, r), p, r), _mm256_set1_ps(1.0f));
    const __m256i k = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_set1_epi32(0x4B400000));
    return _mm256_mul_ps(er, _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23)));
}

// ln x for normal x > 0 (here 1 ≤ x ≤ K): loss512.c's log16, mantissa and exponent from the bits.
AI T256 __m256 log8(__m256 x) {
    const __m256i bits = _mm256_castps_si256(x);
    __m256 e = _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(127)));
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)),
                                                   _mm256_set1_epi32(0x3F800000)));  // [1, 2)
    const __m256 big = _mm256_cmp_ps(m, _mm256_set1_ps(1.41421356237f), _CMP_GT_OQ);
    m = _mm256_blendv_ps(m, _mm256_mul_ps(m, _mm256_set1_ps(0.5f)), big);
    e = _mm256_blendv_ps(e, _mm256_add_ps(e, _mm256_set1_ps(1.0f)), big);
    const __m256 f = _mm256_sub_ps(m, _mm256_set1_ps(1.0f)), z = _mm256_mul_ps(f, f);
    __m256 p = _mm256_set1_ps(7.0376836292e-2f);
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(-1.1514610310e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.1676998740e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(-1.2420140846e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.4249322787e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(-1.6668057665e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.0000714765e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(-2.4999993993e-1f));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(3.3333331174e-1f));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, f), z);
    y = _mm256_fmadd_ps(e, _mm256_set1_ps(-2.12194440e-4f), y);
    y = _mm256_fnmadd_ps(z, _mm256_set1_ps(0.5f), y);
    return _mm256_fmadd_ps(e, _mm256_set1_ps(0.693359375f), _mm256_add_ps(f, y));
}

// Rows z[0 : nr] of K → e[c][8] for c < K (the rows past nr zero): 8 × 8 blocks by register
// transposes, the last block's columns past K by masked loads.
AI T256 void columns(const float *z, int K, int nr, float *e) {
    for (int c0 = 0; c0 < K; c0 += 8) {
        const int w = K - c0 < 8 ? K - c0 : 8;
        const __m256i m = lanes8(w);
        __m256 r[8];
        for (int i = 0; i < 8; i++)
            r[i] = i >= nr ? _mm256_setzero_ps() : w == 8 ? _mm256_loadu_ps(z + (long)i * K + c0)
                                                          : _mm256_maskload_ps(z + (long)i * K + c0, m);
        transpose8(r);
        for (int j = 0; j < w; j++) _mm256_storeu_ps(e + 8 * (c0 + j), r[j]);
    }
}

// columns' inverse: e[c][8] for c < K → rows g[0 : nr] of K.
AI T256 void rowsOut(const float *e, int K, int nr, float *g) {
    for (int c0 = 0; c0 < K; c0 += 8) {
        const int w = K - c0 < 8 ? K - c0 : 8;
        __m256 r[8];
        for (int j = 0; j < 8; j++) r[j] = j < w ? _mm256_loadu_ps(e + 8 * (c0 + j)) : _mm256_setzero_ps();
        transpose8(r);
        for (int i = 0; i < nr; i++) {
            if (w == 8) _mm256_storeu_ps(g + (long)i * K + c0, r[i]);
            else storeFirst8(g + (long)i * K + c0, w, r[i]);
        }
    }
}

// As ck_softmax_xent512 (the loss, the gradient when grad is not NULL, the rows whose first
// largest logit is the label's when correct is not NULL), 8 rows at a time; e[K][8] holds a
// block's logits, then their exponentials, then its gradient (K ≤ 64).
T256 double ck_softmax_xent256(const float *z, const int *labels, float *grad, int B, int K, int *correct) {
    float e[64 * 8];
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const float invB = 1.0f / (float)B;
    const __m256 zero = _mm256_setzero_ps(), nan = _mm256_set1_ps(NAN);
    __m256 total = zero;
    int right = 0;
    for (int r0 = 0; r0 < B; r0 += 8) {
        const int nr = B - r0 < 8 ? B - r0 : 8;
        const __m256i rowsI = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);
        const __m256 rows = _mm256_castsi256_ps(rowsI);
        const float *zb = z + (long)r0 * K;
        __m256 mx = _mm256_set1_ps(-INFINITY);
        __m256 bad = zero;  // rows with a NaN or +∞ logit: their loss and gradient are NaN, as in Swift
        __m256 best = zero;                   // the first largest logit so far (argmaxRows' rule)
        __m256i arg = _mm256_setzero_si256();  // and its class
        const __m256i lab = _mm256_maskload_epi32(labels + r0, rowsI);
        __m256 zl = zero;  // the label's logit
        columns(zb, K, nr, e);
        for (int c = 0; c < K; c++) {
            const __m256 v = _mm256_loadu_ps(e + 8 * c);
            zl = _mm256_blendv_ps(zl, v, _mm256_castsi256_ps(_mm256_cmpeq_epi32(lab, _mm256_set1_epi32(c))));
            mx = _mm256_max_ps(mx, v);
            bad = _mm256_or_ps(bad, _mm256_cmp_ps(v, _mm256_set1_ps(INFINITY), _CMP_NLT_UQ));
            const __m256 up = c == 0 ? _mm256_castsi256_ps(_mm256_set1_epi32(-1)) : _mm256_cmp_ps(v, best, _CMP_GT_OQ);
            best = _mm256_blendv_ps(best, v, up);
            arg = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(arg), _mm256_castsi256_ps(_mm256_set1_epi32(c)), up));
        }
        __m256 s = zero;
        for (int c = 0; c < K; c++) {
            const __m256 x = exp8(_mm256_sub_ps(_mm256_loadu_ps(e + 8 * c), mx));
            _mm256_storeu_ps(e + 8 * c, x);
            s = _mm256_add_ps(s, x);
        }
        const __m256 hit = _mm256_and_ps(rows, _mm256_castsi256_ps(_mm256_cmpeq_epi32(arg, lab)));
        right += __builtin_popcount((unsigned)_mm256_movemask_ps(hit));
        const __m256 l = _mm256_blendv_ps(_mm256_sub_ps(_mm256_add_ps(log8(s), mx), zl), nan, bad);
        total = _mm256_add_ps(total, _mm256_and_ps(rows, l));
        if (!grad) continue;
        const __m256 k = _mm256_div_ps(_mm256_set1_ps(invB), s), vb = _mm256_set1_ps(invB);
        float *gb = grad + (long)r0 * K;
        for (int c = 0; c < K; c++) {
            __m256 g = _mm256_mul_ps(_mm256_loadu_ps(e + 8 * c), k);
            const __m256 at = _mm256_castsi256_ps(_mm256_cmpeq_epi32(lab, _mm256_set1_epi32(c)));
            g = _mm256_blendv_ps(g, _mm256_sub_ps(g, vb), at);
            _mm256_storeu_ps(e + 8 * c, _mm256_blendv_ps(g, nan, bad));
        }
        rowsOut(e, K, nr, gb);
    }
    if (correct) *correct = right;
    // Lanes summed by halving, a fixed order.
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(total), _mm256_extractf128_ps(total, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return (double)_mm_cvtss_f32(h) * invB;
}

#endif
