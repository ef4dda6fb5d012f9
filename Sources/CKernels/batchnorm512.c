// Batch normalization's passes over x[R, F] on AVX-512, operation for operation the Swift loops
// of NeuralNets' BatchNorm.swift (same sums in the same order, no fused multiply-adds), so the
// two paths agree to the bit: those loops, over rows of L = lcm(F, 16) lanes 16 at a time in
// Swift, ran at about a third of the rate these reach, and a ResNet step spent a fifth of its
// time in them. The per-feature arithmetic (means, rstd, coefficients) stays in Swift.
#include "ckernels.h"

#if defined(__x86_64__)
#include "avx512.h"

enum { MAX_LANES = 1024, BLOCK_ROWS = 64 };

// One lane row's entries [e, e + c) as vectors, lanes ≥ c masked off.
#define ROW_LOOP(c, ...)                                                \
    for (int v = 0; v < (c + 15) / 16; v++) {                            \
        const __mmask16 m = firstLanes(c - 16 * v);                      \
        __VA_ARGS__                                                      \
    }

// out[F] = Σ over the rows of term(entry, lane), as BatchNorm.swift's columnSums: blocks of 64
// lane rows summed in Float per lane, each block's lanes added to its feature in Double, lane by
// lane. term 0: a; 1: (a − shift)²; with b, a second sum out2 of b (term 2: out = Σ b, out2 = Σ
// b·((a − shift)·scale)) in the same traversal.
static T512 void columnSums(int term, const float *a, const float *b, const float *shift, const float *scale, size_t n,
                            int f, int l, double *out, double *out2) {
    __attribute__((aligned(64))) float part[MAX_LANES], part2[MAX_LANES];
    for (int j = 0; j < f; j++) { out[j] = 0; if (out2) out2[j] = 0; }
    for (size_t start = 0; start < n; start += (size_t)BLOCK_ROWS * l) {
        const size_t end = n - start < (size_t)BLOCK_ROWS * l ? n : start + (size_t)BLOCK_ROWS * l;
        for (int t = 0; t < l; t++) { part[t] = 0; part2[t] = 0; }
        for (size_t e = start; e < end; e += l) {
            const int c = end - e < (size_t)l ? (int)(end - e) : l;
            if (term == 0) {
                ROW_LOOP(c, {
                    __m512 p = _mm512_load_ps(part + 16 * v);
                    _mm512_store_ps(part + 16 * v, _mm512_mask_add_ps(p, m, p, _mm512_maskz_loadu_ps(m, a + e + 16 * v)));
                })
            } else if (term == 1) {
                ROW_LOOP(c, {
                    const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + e + 16 * v), _mm512_loadu_ps(shift + 16 * v));
                    __m512 p = _mm512_load_ps(part + 16 * v);
                    _mm512_store_ps(part + 16 * v, _mm512_mask_add_ps(p, m, p, _mm512_mul_ps(d, d)));
                })
            } else {
                ROW_LOOP(c, {
                    const __m512 g = _mm512_maskz_loadu_ps(m, b + e + 16 * v);
                    const __m512 xh = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + e + 16 * v), _mm512_loadu_ps(shift + 16 * v)),
                                                    _mm512_loadu_ps(scale + 16 * v));
                    __m512 p = _mm512_load_ps(part + 16 * v), q = _mm512_load_ps(part2 + 16 * v);
                    _mm512_store_ps(part + 16 * v, _mm512_mask_add_ps(p, m, p, g));
                    _mm512_store_ps(part2 + 16 * v, _mm512_mask_add_ps(q, m, q, _mm512_mul_ps(g, xh)));
                })
            }
        }
        for (int t = 0; t < l; t++) {
            out[t % f] += (double)part[t];
            if (out2) out2[t % f] += (double)part2[t];
        }
    }
}

int ck_batchnorm_sums(int term, const float *a, const float *b, const float *shift, const float *scale, size_t n,
                      int features, int lanes, double *out, double *out2, int portable) {
    if (portable != 0 || !ck_avx512_available() || lanes % 16 != 0 || lanes > MAX_LANES || lanes % features != 0) return 0;
    if (term < 0 || term > 2 || (term == 2 && (!b || !out2))) return 0;
    columnSums(term, a, b, shift, scale, n, features, lanes, out, term == 2 ? out2 : NULL);
    return 1;
}

// mode 0: y = x·p + q; 3: y = max(x·p + q, 0) (max_ps returns its second operand for a NaN or
// two zeros, as the ReLU layer's `v > 0 ? v : 0`); 1: y = (p·dy + q·x) + r; 2: y += (p·dy + q·x) + r —
// p, q, r tiled to l lanes.
static T512 void affine(int mode, const float *x, const float *dy, const float *p, const float *q, const float *r,
                        float *y, size_t n, int l) {
    for (size_t e = 0; e < n; e += l) {
        const int c = n - e < (size_t)l ? (int)(n - e) : l;
        ROW_LOOP(c, {
            const __m512 xv = _mm512_maskz_loadu_ps(m, x + e + 16 * v);
            __m512 out;
            if (mode == 0 || mode == 3) {
                out = _mm512_add_ps(_mm512_mul_ps(xv, _mm512_loadu_ps(p + 16 * v)), _mm512_loadu_ps(q + 16 * v));
                if (mode == 3) out = _mm512_max_ps(out, _mm512_setzero_ps());
            } else {
                const __m512 g = _mm512_maskz_loadu_ps(m, dy + e + 16 * v);
                out = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(_mm512_loadu_ps(p + 16 * v), g),
                                                  _mm512_mul_ps(_mm512_loadu_ps(q + 16 * v), xv)),
                                    _mm512_loadu_ps(r + 16 * v));
                if (mode == 2) out = _mm512_add_ps(_mm512_maskz_loadu_ps(m, y + e + 16 * v), out);
            }
            _mm512_mask_storeu_ps(y + e + 16 * v, m, out);
        })
    }
}

int ck_batchnorm_affine(int mode, const float *x, const float *dy, const float *p, const float *q, const float *r,
                        float *y, size_t n, int lanes, int portable) {
    if (portable != 0 || !ck_avx512_available() || lanes % 16 != 0 || lanes > MAX_LANES || mode < 0 || mode > 3) return 0;
    if ((mode == 1 || mode == 2) && (!dy || !r)) return 0;
    affine(mode, x, dy, p, q, r, y, n, lanes);
    return 1;
}

#else

int ck_batchnorm_sums(int term, const float *a, const float *b, const float *shift, const float *scale, size_t n,
                      int features, int lanes, double *out, double *out2, int portable) {
    (void)term; (void)a; (void)b; (void)shift; (void)scale; (void)n; (void)features; (void)lanes; (void)out; (void)out2;
    (void)portable;
    return 0;
}

int ck_batchnorm_affine(int mode, const float *x, const float *dy, const float *p, const float *q, const float *r,
                        float *y, size_t n, int lanes, int portable) {
    (void)mode; (void)x; (void)dy; (void)p; (void)q; (void)r; (void)y; (void)n; (void)lanes; (void)portable;
    return 0;
}

#endif
