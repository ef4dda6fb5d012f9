#include "ckernels.h"
#include "avx512.h"
#include <math.h>

// GELU on 16-float vectors. The forward pass is bound by arithmetic, not memory (erf and exp are
// ~45 vector operations per vector), so twice the lanes of kernels.c's AVX2 body is about twice
// the speed (1.8× measured): 512-bit FMAs issue on two ports as 256-bit ones do. The same
// formulas as that body; they round differently (the reciprocal by rcp14 and one Newton step).
// Layer norm, bound by its reductions' latency, gained 1.05–1.25× this way and stays on AVX2.

#if defined(__x86_64__)

// 1/d to ~1 ulp: rcp14's 14 bits, one Newton step (a division would take a port for 10 cycles).
AI T512 __m512 recip16(__m512 d) {
    const __m512 r = _mm512_rcp14_ps(d);
    return _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
}

// erf: Abramowitz & Stegun 7.1.26 as kernels.c's verf (absolute error < 5e-7); e^(−x²) in *e.
AI T512 __m512 erf16_e(__m512 x, __m512 *e) {
    const __m512 a = _mm512_abs_ps(x);
    const __m512 t = recip16(_mm512_fmadd_ps(a, _mm512_set1_ps(0.3275911f), _mm512_set1_ps(1.0f)));
    __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(1.061405429f), t, _mm512_set1_ps(-1.453152027f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
    p = _mm512_mul_ps(p, t);
    *e = exp16(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), a), a));
    const __m512 y = _mm512_fnmadd_ps(p, *e, _mm512_set1_ps(1.0f));
    // erf is odd: |erf| with x's sign.
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), _mm512_and_si512(_mm512_castps_si512(x),
                                                                                          _mm512_set1_epi32((int)0x80000000u))));
}

// The first min(n − i, 16) lanes: whole vectors until the tail, which masked loads and stores
// give the same arithmetic without reading or writing past n.
AI __mmask16 lanesFrom(size_t i, size_t n) { return n - i >= 16 ? (__mmask16)0xFFFF : firstLanes((int)(n - i)); }

// y = x·h, aux = GELU′(x) = h + x·φ(x), h = (1 + erf(x/√2))/2, φ from erf's own Gaussian factor
// (kernels.c's gelu8 does the same on 8 floats).
T512 void ck_gelu512_forward(const float *x, float *y, float *aux, size_t n) {
    const __m512 c = _mm512_set1_ps(0.39894228040143268f);  // 1/√(2π)
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = lanesFrom(i, n);
        const __m512 xv = _mm512_maskz_loadu_ps(m, x + i);
        __m512 e;
        const __m512 u = erf16_e(_mm512_mul_ps(xv, _mm512_set1_ps(0.70710678118654752f)), &e);
        const __m512 h = _mm512_mul_ps(_mm512_add_ps(u, _mm512_set1_ps(1.0f)), _mm512_set1_ps(0.5f));
        _mm512_mask_storeu_ps(aux + i, m, _mm512_fmadd_ps(_mm512_mul_ps(xv, c), e, h));
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(xv, h));
    }
}

// dx (+)= dy·aux.
T512 void ck_gelu512_backward(const float *aux, const float *dy, float *dx, size_t n, int add) {
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = lanesFrom(i, n);
        __m512 g = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, dy + i), _mm512_maskz_loadu_ps(m, aux + i));
        if (add) g = _mm512_add_ps(_mm512_maskz_loadu_ps(m, dx + i), g);
        _mm512_mask_storeu_ps(dx + i, m, g);
    }
}

#endif
