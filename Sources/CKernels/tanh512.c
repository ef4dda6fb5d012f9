// tanh over Double buffers on AVX-512, operation for operation Linalg's fastTanh (no fused
// multiply-adds), so both give the same bits: eight lanes where Swift's baseline build runs the
// polynomial two at a time, and tanh was three quarters of a wide tanh student's step.
#include "ckernels.h"

#if defined(__x86_64__)
#include "avx512.h"

static T512 void tanh8(const double *x, double *y, size_t n) {
    const __m512d twenty = _mm512_set1_pd(20), magic = _mm512_set1_pd(6755399441055744.0);
    const __m512i signBit = _mm512_set1_epi64((long long)0x8000000000000000ULL);
    // 1/14!, 1/13!, …, 1/2!: the Taylor coefficients of e^r − 1 past r, as fastTanh's literals.
    const double coef[13] = {1.0 / 87178291200, 1.0 / 6227020800, 1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800,
                             1.0 / 362880, 1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5};
    for (size_t i = 0; i < n; i += 8) {
        const __mmask8 m = n - i >= 8 ? 0xFF : (__mmask8)((1u << (n - i)) - 1);
        const __m512d xv = _mm512_maskz_loadu_pd(m, x + i);
        const __m512i xb = _mm512_castpd_si512(xv);
        const __m512d a = _mm512_castsi512_pd(_mm512_andnot_si512(signBit, xb));
        const __m512d c = _mm512_min_pd(twenty, a);  // a when a is NaN, as `a > 20 ? 20 : a`
        const __m512d yv = _mm512_add_pd(c, c);
        const __m512d t = _mm512_add_pd(_mm512_mul_pd(yv, _mm512_set1_pd(1.4426950408889634)), magic);
        const __m512d k = _mm512_sub_pd(t, magic);
        const __m512d r = _mm512_sub_pd(_mm512_sub_pd(yv, _mm512_mul_pd(k, _mm512_set1_pd(6.93147180369123816490e-01))),
                                        _mm512_mul_pd(k, _mm512_set1_pd(1.90821492927058770002e-10)));
        __m512d p = _mm512_set1_pd(coef[0]);
        for (int j = 1; j < 13; j++) p = _mm512_add_pd(_mm512_mul_pd(p, r), _mm512_set1_pd(coef[j]));
        const __m512d em = _mm512_add_pd(_mm512_mul_pd(_mm512_mul_pd(r, r), p), r);
        const __m512i bits = _mm512_slli_epi64(
            _mm512_add_epi64(_mm512_sub_epi64(_mm512_castpd_si512(t), _mm512_set1_epi64(0x4338000000000000LL)), _mm512_set1_epi64(1023)), 52);
        const __m512d scale = _mm512_castsi512_pd(bits);
        const __m512d e = _mm512_add_pd(_mm512_sub_pd(scale, _mm512_set1_pd(1)), _mm512_mul_pd(scale, em));
        const __m512d e2 = _mm512_add_pd(e, _mm512_set1_pd(2));
        const __m512d small = _mm512_div_pd(e, e2);
        const __m512d large = _mm512_sub_pd(_mm512_set1_pd(1), _mm512_div_pd(_mm512_set1_pd(2), e2));
        const __m512d out = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(c, _mm512_set1_pd(0.55), _CMP_LT_OQ), large, small);
        _mm512_mask_storeu_pd(y + i, m, _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(out), _mm512_and_si512(xb, signBit))));
    }
}

int ck_tanh_f64(const double *x, double *y, size_t n) {
    if (!ck_avx512_available()) return 0;
    tanh8(x, y, n);
    return 1;
}

#else

int ck_tanh_f64(const double *x, double *y, size_t n) {
    (void)x; (void)y; (void)n;
    return 0;
}

#endif
