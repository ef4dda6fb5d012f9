// Pieces the AVX-512 kernels share (sgemm.c, attention512.c): private to CKernels.
#ifndef CKERNELS_AVX512_H
#define CKERNELS_AVX512_H
#if defined(__x86_64__)
#include <immintrin.h>

#define AI static inline __attribute__((always_inline))
#define T512 __attribute__((target("avx512f,fma")))

// The first n lanes (all for n ≥ 16, none for n ≤ 0).
AI __mmask16 firstLanes(int n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

// r[i] (16 rows of 16) → their transpose, in place.
AI T512 void transpose16(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    }
    for (int i = 0; i < 4; i++) {
        t[i] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0x88);
        t[i + 4] = _mm512_shuffle_f32x4(r[i], r[i + 4], 0xDD);
        t[i + 8] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0x88);
        t[i + 12] = _mm512_shuffle_f32x4(r[i + 8], r[i + 12], 0xDD);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
        r[i + 4] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0x88);
        r[i + 12] = _mm512_shuffle_f32x4(t[i + 4], t[i + 12], 0xDD);
    }
}

// e^x for x ≤ 0 (attention's scores less their maximum, GELU's −x²): kernels.c's Cephes
// reduction and polynomial (≤ 2 ulp), x clamped below at −87.3 (e^x ≈ 1e-38 there, not 0: beside
// the terms it joins, a maximum's 1 or erf's 1, it changes nothing), and 2^n applied by scalef
// rather than by building the exponent bits.
AI T512 __m512 exp16(__m512 x) {
    const __m512 c = _mm512_max_ps(x, _mm512_set1_ps(-87.33654f));
    const __m512 t = _mm512_fmadd_ps(c, _mm512_set1_ps(1.44269504088896341f), _mm512_set1_ps(12582912.0f));
    const __m512 n = _mm512_sub_ps(t, _mm512_set1_ps(12582912.0f));
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), c);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    const __m512 er = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(r, r), p, r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(er, n);
}

/// 1 when the CPU has AVX-512 (F) and FMA (cached cpuid).
int ck_avx512_available(void);

/// The attention core on AVX-512 (any head width; kernels.c sends it whole-vector heads, and
/// narrow ones over 16+ tokens); same contract as
/// ck_attention_forward/backward, with probs rows padded to N rounded up to 16.
size_t ck_attention512_scratch(int tokens, int dim, int heads);
void ck_attention512_forward(const float *qkv, float *probs, float *ctx, int batch, int tokens, int dim, int heads,
                             float *scratch);
void ck_attention512_backward(const float *qkv, const float *probs, const float *dctx, float *dqkv, int batch,
                              int tokens, int dim, int heads, float *scratch);

/// GELU on AVX-512 (gelu512.c); the same contract as ck_gelu_forward/backward.
void ck_gelu512_forward(const float *x, float *y, float *aux, size_t n);
void ck_gelu512_backward(const float *aux, const float *dy, float *dx, size_t n, int add);

/// Softmax cross-entropy on AVX-512 (loss512.c), classes ≤ 64: the contract of ck_softmax_xent.
double ck_softmax_xent512(const float *z, const int *labels, float *grad, int batch, int classes, int *correct);
/// The same on AVX2 + FMA, 8 rows per vector (loss256.c).
double ck_softmax_xent256(const float *z, const int *labels, float *grad, int batch, int classes, int *correct);

#endif
#endif
