// tanh over Double buffers on AVX-512 (and AVX2, below), operation for operation Linalg's
// fastTanh (no fused multiply-adds), so both give the same bits: eight lanes where Swift's
// baseline build runs the polynomial two at a time, and tanh was three quarters of a wide tanh
// student's step.
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

// The same operations four lanes at a time on AVX2 (without AVX-512 a wide tanh student's step
// was two thirds tanh, in Swift's two-lane baseline code). Two vectors per turn: the polynomial
// is a chain of dependent multiplies and adds, and two chains keep the units busy (four measured
// no faster). A partial last vector goes through a zero-padded copy.
#define AVX2 __attribute__((target("avx2")))

static inline __attribute__((always_inline)) AVX2 __m256d tanhVector4(__m256d xv) {
    const __m256d signBit = _mm256_castsi256_pd(_mm256_set1_epi64x((long long)0x8000000000000000ULL));
    const __m256d magic = _mm256_set1_pd(6755399441055744.0);
    const double coef[13] = {1.0 / 87178291200, 1.0 / 6227020800, 1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800,
                             1.0 / 362880, 1.0 / 40320, 1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5};
    const __m256d a = _mm256_andnot_pd(signBit, xv);
    const __m256d c = _mm256_min_pd(_mm256_set1_pd(20), a);  // a when a is NaN, as `a > 20 ? 20 : a`
    const __m256d yv = _mm256_add_pd(c, c);
    const __m256d t = _mm256_add_pd(_mm256_mul_pd(yv, _mm256_set1_pd(1.4426950408889634)), magic);
    const __m256d k = _mm256_sub_pd(t, magic);
    const __m256d r = _mm256_sub_pd(_mm256_sub_pd(yv, _mm256_mul_pd(k, _mm256_set1_pd(6.93147180369123816490e-01))),
                                    _mm256_mul_pd(k, _mm256_set1_pd(1.90821492927058770002e-10)));
    __m256d p = _mm256_set1_pd(coef[0]);
    for (int j = 1; j < 13; j++) p = _mm256_add_pd(_mm256_mul_pd(p, r), _mm256_set1_pd(coef[j]));
    const __m256d em = _mm256_add_pd(_mm256_mul_pd(_mm256_mul_pd(r, r), p), r);
    const __m256i bits = _mm256_slli_epi64(
        _mm256_add_epi64(_mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_set1_epi64x(0x4338000000000000LL)), _mm256_set1_epi64x(1023)), 52);
    const __m256d scale = _mm256_castsi256_pd(bits);
    const __m256d e = _mm256_add_pd(_mm256_sub_pd(scale, _mm256_set1_pd(1)), _mm256_mul_pd(scale, em));
    const __m256d e2 = _mm256_add_pd(e, _mm256_set1_pd(2));
    const __m256d small = _mm256_div_pd(e, e2);
    const __m256d large = _mm256_sub_pd(_mm256_set1_pd(1), _mm256_div_pd(_mm256_set1_pd(2), e2));
    const __m256d o = _mm256_blendv_pd(large, small, _mm256_cmp_pd(c, _mm256_set1_pd(0.55), _CMP_LT_OQ));
    return _mm256_xor_pd(o, _mm256_and_pd(xv, signBit));
}

static AVX2 void tanh4(const double *x, double *y, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256d a = _mm256_loadu_pd(x + i), b = _mm256_loadu_pd(x + i + 4);
        const __m256d ta = tanhVector4(a), tb = tanhVector4(b);
        _mm256_storeu_pd(y + i, ta);
        _mm256_storeu_pd(y + i + 4, tb);
    }
    for (; i < n; i += 4) {
        double in[4] = {0, 0, 0, 0}, out[4];
        const size_t m = n - i >= 4 ? 4 : n - i;
        for (size_t j = 0; j < m; j++) in[j] = x[i + j];
        _mm256_storeu_pd(out, tanhVector4(_mm256_loadu_pd(in)));
        for (size_t j = 0; j < m; j++) y[i + j] = out[j];
    }
}

int ck_tanh_f64(const double *x, double *y, size_t n) {
    if (ck_avx512_available()) { tanh8(x, y, n); return 1; }
    return ck_tanh_f64_avx2(x, y, n);
}

int ck_tanh_f64_avx2(const double *x, double *y, size_t n) {
    if (ck_isa_level() < 1) return 0;
    tanh4(x, y, n);
    return 1;
}

#else

int ck_tanh_f64(const double *x, double *y, size_t n) {
    (void)x; (void)y; (void)n;
    return 0;
}

int ck_tanh_f64_avx2(const double *x, double *y, size_t n) {
    (void)x; (void)y; (void)n;
    return 0;
}

#endif
