#include "ckernels.h"
#include "avx512.h"
#include <math.h>

// 8-float vectors only ever cross always-inline boundaries, so the ABI note does not apply.
#pragma clang diagnostic ignored "-Wpsabi"

// Every kernel is an always-inline body over 8-float vectors (clang's vector extension:
// portable, lowered to whatever the function it is inlined into may use), instantiated twice:
// a portable wrapper (SSE2 on x86-64, NEON on aarch64) and, on x86-64, a wrapper built with
// target("avx2,fma"). Which one runs is decided once per process from cpuid, so results are
// identical run to run on one machine (the two variants round differently: FMA contracts).

typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
typedef float v8fu __attribute__((vector_size(32), aligned(4), may_alias));
typedef float v4f __attribute__((vector_size(16)));
typedef int v4i __attribute__((vector_size(16)));
typedef float v4fu __attribute__((vector_size(16), aligned(4), may_alias));

#define AI static inline __attribute__((always_inline))

AI v8f vld(const float *p) { return *(const v8fu *)p; }
AI void vst(float *p, v8f v) { *(v8fu *)p = v; }
AI v8f splat(float a) { return (v8f){a, a, a, a, a, a, a, a}; }
AI v8f vsel(v8i m, v8f a, v8f b) { return (v8f)((m & (v8i)a) | (~m & (v8i)b)); }
AI v8f vmax(v8f a, v8f b);
// Horizontal sum and max by halving shuffles: a fixed order, so a fixed result.
AI float hsum(v8f v) {
    v += __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3);
    v += __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5);
    v += __builtin_shufflevector(v, v, 1, 0, 3, 2, 5, 4, 7, 6);
    return v[0];
}
AI float hmax(v8f v) {
    v = vmax(v, __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3));
    v = vmax(v, __builtin_shufflevector(v, v, 2, 3, 0, 1, 6, 7, 4, 5));
    v = vmax(v, __builtin_shufflevector(v, v, 1, 0, 3, 2, 5, 4, 7, 6));
    return v[0];
}
AI v8f vmax(v8f a, v8f b) { return vsel(a > b, a, b); }

// e^x: the same Cephes reduction and polynomial as Linalg's fastExp (≤ 2 ulp), NaN kept.
AI v8f vexp(v8f x) {
    const v8f lo = splat(-87.33654f), hi = splat(88.0f);
    v8i under = x < lo;
    v8f c = vsel(x > hi, hi, x);
    c = vsel(under, lo, c);
    v8f t = c * 1.44269504088896341f + 12582912.0f;
    v8f n = t - 12582912.0f;
    v8f r = (c - n * 0.693359375f) - n * -2.12194440e-4f;
    v8f p = splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    v8f er = (r * r) * p + r + 1.0f;
    v8i k = (v8i)t - 0x4B400000;
    v8f scale = (v8f)((k + 127) << 23);
    return vsel(under, splat(0.0f), er * scale);
}

// erf: Abramowitz & Stegun 7.1.26 as Linalg's fastErf (absolute error < 5e-7); e^(−x²) in *e, the
// Gaussian factor it is built on, which GELU's derivative reuses.
AI v8f verf_e(v8f x, v8f *e) {
    const v8i sign = (v8i)splat(-0.0f);
    v8f a = (v8f)((v8i)x & ~sign);
    v8f t = 1.0f / (1.0f + 0.3275911f * a);
    v8f poly = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
    *e = vexp(-a * a);
    v8f y = 1.0f - poly * *e;
    return (v8f)((v8i)y | ((v8i)x & sign));
}

AI v8f verf(v8f x) {
    v8f e;
    return verf_e(x, &e);
}

// ---- attention ----------------------------------------------------------------------------

// s[4][np] = x_r · yt for four rows x_r (dh long) against yt[dh][np] (np a multiple of 8).
AI void scores4(const float *x0, const float *x1, const float *x2, const float *x3,
                const float *yt, int np, int dh, float *s) {
    int j = 0;
    for (; j + 16 <= np; j += 16) {
        v8f a00 = {0}, a01 = {0}, a10 = {0}, a11 = {0}, a20 = {0}, a21 = {0}, a30 = {0}, a31 = {0};
        for (int c = 0; c < dh; c++) {
            v8f y0 = vld(yt + c * np + j), y1 = vld(yt + c * np + j + 8);
            v8f q0 = splat(x0[c]), q1 = splat(x1[c]), q2 = splat(x2[c]), q3 = splat(x3[c]);
            a00 += q0 * y0; a01 += q0 * y1;
            a10 += q1 * y0; a11 += q1 * y1;
            a20 += q2 * y0; a21 += q2 * y1;
            a30 += q3 * y0; a31 += q3 * y1;
        }
        vst(s + j, a00); vst(s + j + 8, a01);
        vst(s + np + j, a10); vst(s + np + j + 8, a11);
        vst(s + 2 * np + j, a20); vst(s + 2 * np + j + 8, a21);
        vst(s + 3 * np + j, a30); vst(s + 3 * np + j + 8, a31);
    }
    for (; j < np; j += 8) {
        v8f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        for (int c = 0; c < dh; c++) {
            v8f y = vld(yt + c * np + j);
            a0 += splat(x0[c]) * y; a1 += splat(x1[c]) * y;
            a2 += splat(x2[c]) * y; a3 += splat(x3[c]) * y;
        }
        vst(s + j, a0); vst(s + np + j, a1); vst(s + 2 * np + j, a2); vst(s + 3 * np + j, a3);
    }
}

// c[r][0..dh) = Σ_t A(r, t) · b[t][0..dh) for r < 4, A(r, t) = a[r·ars + t·ats]; rows r ≥ m are
// computed from whatever A holds there and not stored. dh is a multiple of 8.
AI void rows4(const float *a, int ars, int ats, int kdim, const float *b, int ldb, int dh,
              float *c, int ldc, int m) {
    int c0 = 0;
    for (; c0 + 16 <= dh; c0 += 16) {
        v8f a00 = {0}, a01 = {0}, a10 = {0}, a11 = {0}, a20 = {0}, a21 = {0}, a30 = {0}, a31 = {0};
        for (int t = 0; t < kdim; t++) {
            const float *at = a + t * ats, *bt = b + t * ldb + c0;
            v8f b0 = vld(bt), b1 = vld(bt + 8);
            v8f p0 = splat(at[0]), p1 = splat(at[ars]), p2 = splat(at[2 * ars]), p3 = splat(at[3 * ars]);
            a00 += p0 * b0; a01 += p0 * b1;
            a10 += p1 * b0; a11 += p1 * b1;
            a20 += p2 * b0; a21 += p2 * b1;
            a30 += p3 * b0; a31 += p3 * b1;
        }
        v8f acc[4][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31}};
        for (int r = 0; r < m; r++) { vst(c + r * ldc + c0, acc[r][0]); vst(c + r * ldc + c0 + 8, acc[r][1]); }
    }
    for (; c0 < dh; c0 += 8) {
        v8f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
        for (int t = 0; t < kdim; t++) {
            const float *at = a + t * ats;
            v8f bv = vld(b + t * ldb + c0);
            a0 += splat(at[0]) * bv; a1 += splat(at[ars]) * bv;
            a2 += splat(at[2 * ars]) * bv; a3 += splat(at[3 * ars]) * bv;
        }
        v8f acc[4] = {a0, a1, a2, a3};
        for (int r = 0; r < m; r++) vst(c + r * ldc + c0, acc[r]);
    }
}

// yt[c][j] = s·y[j][c] for j < n, zero for n ≤ j < np.
AI void transpose_pad(const float *y, int ldy, int n, int np, int dh, float s, float *yt) {
    for (int j = 0; j < n; j++)
        for (int c = 0; c < dh; c++) yt[c * np + j] = y[j * ldy + c] * s;
    for (int c = 0; c < dh; c++)
        for (int j = n; j < np; j++) yt[c * np + j] = 0;
}

AI int min_int(int a, int b) { return a < b ? a : b; }

// Lanes of the last 8-vector of a padded row that lie beyond the N real columns.
AI v8i pad_mask(int N, int np) {
    v8i lane = {0, 1, 2, 3, 4, 5, 6, 7};
    return lane + (np - 8) >= N;
}

// Softmax of four padded rows of p (row stride np) in place, the rows interleaved so that
// their max and sum chains run side by side. Pads end as exact zeros.
AI void softmax4(float *p, int np, v8i pads) {
    float *p0 = p, *p1 = p + np, *p2 = p + 2 * np, *p3 = p + 3 * np;
    const int jl = np - 8;
    const v8f lowest = splat(-3.0e38f);  // e^(lowest − max) underflows to 0
    vst(p0 + jl, vsel(pads, lowest, vld(p0 + jl))); vst(p1 + jl, vsel(pads, lowest, vld(p1 + jl)));
    vst(p2 + jl, vsel(pads, lowest, vld(p2 + jl))); vst(p3 + jl, vsel(pads, lowest, vld(p3 + jl)));
    v8f m0 = vld(p0), m1 = vld(p1), m2 = vld(p2), m3 = vld(p3);
    for (int j = 8; j < np; j += 8) {
        m0 = vmax(m0, vld(p0 + j)); m1 = vmax(m1, vld(p1 + j));
        m2 = vmax(m2, vld(p2 + j)); m3 = vmax(m3, vld(p3 + j));
    }
    const v8f x0 = splat(hmax(m0)), x1 = splat(hmax(m1)), x2 = splat(hmax(m2)), x3 = splat(hmax(m3));
    v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    for (int j = 0; j < np; j += 8) {
        v8f e0 = vexp(vld(p0 + j) - x0), e1 = vexp(vld(p1 + j) - x1);
        v8f e2 = vexp(vld(p2 + j) - x2), e3 = vexp(vld(p3 + j) - x3);
        vst(p0 + j, e0); vst(p1 + j, e1); vst(p2 + j, e2); vst(p3 + j, e3);
        s0 += e0; s1 += e1; s2 += e2; s3 += e3;
    }
    const v8f i0 = splat(1.0f / hsum(s0)), i1 = splat(1.0f / hsum(s1)), i2 = splat(1.0f / hsum(s2)), i3 = splat(1.0f / hsum(s3));
    for (int j = 0; j < np; j += 8) {
        vst(p0 + j, vld(p0 + j) * i0); vst(p1 + j, vld(p1 + j) * i1);
        vst(p2 + j, vld(p2 + j) * i2); vst(p3 + j, vld(p3 + j) * i3);
    }
}

// probs rows are padded to np = N rounded up to 8 (zeros beyond N): the backward pass then
// reads them in place as whole vectors.
AI void attention_forward_body(const float *qkv, float *probs, float *ctx, int B, int N, int D, int H, float *scratch) {
    const int dh = D / H, np = (N + 7) & ~7, ld = 3 * D;
    const float scale = 1.0f / sqrtf((float)dh);
    const v8i pads = pad_mask(N, np);
    float *kt = scratch, *p4 = scratch + dh * np;
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < H; h++) {
            const float *q = qkv + (size_t)b * N * ld + h * dh, *k = q + D, *v = q + 2 * D;
            float *pb = probs + ((size_t)b * H + h) * N * np;
            float *cb = ctx + (size_t)b * N * D + h * dh;
            transpose_pad(k, ld, N, np, dh, scale, kt);
            for (int i0 = 0; i0 < N; i0 += 4) {
                const int m = min_int(4, N - i0);
                const float *x[4];
                for (int r = 0; r < 4; r++) x[r] = q + (size_t)(i0 + min_int(r, m - 1)) * ld;
                scores4(x[0], x[1], x[2], x[3], kt, np, dh, p4);
                softmax4(p4, np, pads);
                for (int r = 0; r < m; r++)
                    for (int j = 0; j < np; j += 8) vst(pb + (size_t)(i0 + r) * np + j, vld(p4 + r * np + j));
                rows4(p4, np, 1, N, v, ld, dh, cb + (size_t)i0 * D, D, m);
            }
        }
    }
}

AI void attention_backward_body(const float *qkv, const float *probs, const float *dctx, float *dqkv,
                                int B, int N, int D, int H, float *scratch) {
    const int dh = D / H, np = (N + 7) & ~7, ld = 3 * D;
    const float scale = 1.0f / sqrtf((float)dh);
    float *vt = scratch, *ds = vt + dh * np;
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < H; h++) {
            const float *q = qkv + (size_t)b * N * ld + h * dh, *k = q + D, *v = q + 2 * D;
            const float *pl = probs + ((size_t)b * H + h) * N * np;
            const float *dc = dctx + (size_t)b * N * D + h * dh;
            float *dq = dqkv + (size_t)b * N * ld + h * dh, *dk = dq + D, *dv = dq + 2 * D;
            transpose_pad(v, ld, N, np, dh, 1.0f, vt);
            // dP = dctx_h · V_hᵀ, then dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale, rows of ds.
            for (int i0 = 0; i0 < N; i0 += 4) {
                const int m = min_int(4, N - i0);
                const float *x[4];
                for (int r = 0; r < 4; r++) x[r] = dc + (size_t)(i0 + min_int(r, m - 1)) * D;
                scores4(x[0], x[1], x[2], x[3], vt, np, dh, ds + i0 * np);
                for (int r = 0; r < m; r++) {
                    float *dr = ds + (i0 + r) * np;
                    const float *pr = pl + (i0 + r) * np;
                    v8f a0 = vld(pr) * vld(dr), a1 = {0};
                    int j = 8;
                    for (; j + 8 < np; j += 16) { a0 += vld(pr + j) * vld(dr + j); a1 += vld(pr + j + 8) * vld(dr + j + 8); }
                    if (j < np) a0 += vld(pr + j) * vld(dr + j);
                    const float sdot = hsum(a0 + a1);
                    for (int j = 0; j < np; j += 8) vst(dr + j, vld(pr + j) * (vld(dr + j) - sdot) * scale);
                }
            }
            for (int i0 = 0; i0 < N; i0 += 4) {
                const int m = min_int(4, N - i0);
                rows4(pl + i0, 1, np, N, dc, D, dh, dv + (size_t)i0 * ld, ld, m);        // dV = Pᵀ · dctx
                rows4(ds + i0 * np, np, 1, N, k, ld, dh, dq + (size_t)i0 * ld, ld, m);   // dQ = dS · K
                rows4(ds + i0, 1, np, N, q, ld, dh, dk + (size_t)i0 * ld, ld, m);        // dK = dSᵀ · Q
            }
        }
    }
}

// ---- GELU ---------------------------------------------------------------------------------

// y = x·h, aux = GELU′(x) = h + x·φ(x), h = (1 + erf(x/√2))/2: φ(x) = e^(−x²/2)/√(2π) is erf's
// own Gaussian factor at x/√2, so the derivative costs two operations here instead of a second
// exp in the backward pass, which then only multiplies.
AI void gelu8(const float *x, float *y, float *aux) {
    const float c = 0.39894228040143268f;  // 1/√(2π)
    v8f xv = vld(x), e;
    v8f h = (1.0f + verf_e(xv * 0.70710678118654752f, &e)) * 0.5f;
    vst(aux, h + xv * c * e);
    vst(y, xv * h);
}

AI void gelu_forward_body(const float *x, float *y, float *aux, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) gelu8(x + i, y + i, aux + i);
    if (i < n) {  // the tail through a padded block, so it gets the same arithmetic
        float xb[8] = {0}, yb[8], ub[8];
        for (size_t j = i; j < n; j++) xb[j - i] = x[j];
        gelu8(xb, yb, ub);
        for (size_t j = i; j < n; j++) { y[j] = yb[j - i]; aux[j] = ub[j - i]; }
    }
}

AI void gelu_backward_body(const float *aux, const float *dy, float *dx, size_t n, int add) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const v8f g = vld(dy + i) * vld(aux + i);
        vst(dx + i, add ? vld(dx + i) + g : g);
    }
    for (; i < n; i++) dx[i] = add ? dx[i] + dy[i] * aux[i] : dy[i] * aux[i];
}

// ---- optimizer steps ----------------------------------------------------------------------
// NeuralNets' Swift loops operation for operation, contraction off: every variant, and the
// Swift loop each replaces for Float, give the same bits. Swift, built for baseline x86-64,
// ran SGD on 4-float SSE vectors (~9% of a 784-64-10 step, whose parameters sit in L2) and
// Adam one scalar at a time (its square root and division: 2.5 ms of a 784-512-512-10 step).

AI void sgd_body(float *p, const float *g, float *b, size_t n, float lr, float mu, int nesterov, float decay, int first) {
#pragma clang fp contract(off)
    size_t i = 0;
    const size_t e = n & ~(size_t)7;
    if (!b) {
        if (decay == 0) {
            for (; i < e; i += 8) vst(p + i, vld(p + i) - splat(lr) * vld(g + i));
            for (; i < n; i++) p[i] -= lr * g[i];
        } else {
            for (; i < e; i += 8) { const v8f pv = vld(p + i); vst(p + i, pv - splat(lr) * (vld(g + i) + splat(decay) * pv)); }
            for (; i < n; i++) p[i] -= lr * (g[i] + decay * p[i]);
        }
        return;
    }
    const float keep = first ? 0 : 1, nest = nesterov ? 1 : 0;
    const float km = keep * mu, rest = 1 - nest;
    for (; i < e; i += 8) {
        const v8f pv = vld(p + i);
        const v8f gv = vld(g + i) + splat(decay) * pv;
        const v8f bv = splat(km) * vld(b + i) + gv;
        vst(b + i, bv);
        vst(p + i, pv - splat(lr) * (splat(nest) * (gv + splat(mu) * bv) + splat(rest) * bv));
    }
    for (; i < n; i++) {
        const float gi = g[i] + decay * p[i];
        const float bi = km * b[i] + gi;
        b[i] = bi;
        p[i] -= lr * (nest * (gi + mu * bi) + rest * bi);
    }
}

// Adam (decoupled: AdamW) as NeuralNets' Swift loop, likewise operation for operation:
// g' = g (+ decay·p unless decoupled); p −= lr·decay·p (decoupled); m = β1·m + (1 − β1)·g';
// v = β2·v + (1 − β2)·g'·g'; p −= lr·(m·c1) / (√(v·c2) + eps), c1, c2 the bias corrections.
AI void adam_body(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1, float beta2, float eps,
                  float decay, int decoupled, float c1, float c2) {
#pragma clang fp contract(off)
    const float om1 = 1 - beta1, om2 = 1 - beta2, lrd = lr * decay;
    size_t i = 0;
    const size_t e = n & ~(size_t)7;
    for (; i < e; i += 8) {
        v8f pv = vld(p + i);
        const v8f gv = decoupled ? vld(g + i) : vld(g + i) + splat(decay) * pv;
        if (decoupled) pv = pv - splat(lrd) * pv;
        const v8f mv = splat(beta1) * vld(m + i) + splat(om1) * gv;
        const v8f vv = splat(beta2) * vld(v + i) + splat(om2) * gv * gv;
        vst(m + i, mv);
        vst(v + i, vv);
        vst(p + i, pv - splat(lr) * (mv * splat(c1)) / (__builtin_elementwise_sqrt(vv * splat(c2)) + splat(eps)));
    }
    for (; i < n; i++) {
        const float gi = decoupled ? g[i] : g[i] + decay * p[i];
        if (decoupled) p[i] -= lrd * p[i];
        m[i] = beta1 * m[i] + om1 * gi;
        v[i] = beta2 * v[i] + om2 * gi * gi;
        p[i] -= lr * (m[i] * c1) / (sqrtf(v[i] * c2) + eps);
    }
}

// ---- 3×3 convolution of a one-channel image (a first layer on grey images) ------------------
// im2col would give a GEMM with K = 9, a poor shape for BLAS; directly, the 9 taps are
// broadcast against Cout-wide weight vectors. The image is copied into a zero-bordered tile
// per sample, so no tap needs a bounds test. Weights [Cout, 3, 3, 1], output NHWC.

// The slack after the padded image that a row's last vector of eight may read (zeroed).
#define CONV1_SLACK 16

AI void pad_image(const float *x, int H, int W, int pad, float *xp) {
    const int Wp = W + 2 * pad;
    for (int i = 0; i < (H + 2 * pad) * Wp + CONV1_SLACK; i++) xp[i] = 0;
    for (int r = 0; r < H; r++)
        for (int c = 0; c < W; c++) xp[(r + pad) * Wp + c + pad] = x[r * W + c];
}

// y[r][0..whole) for the n ∈ {1, 4} output pixels starting at column o of one output row,
// eight channels at a time (`whole`: the channels in whole groups of eight).
AI void conv1_pixels(const float *r0, const float *r1, const float *r2, int o, int n, const float *wt,
                     const float *bias, int co, int whole, float *y) {
    const float *rows[3] = {r0, r1, r2};
    for (int cv = 0; cv < whole; cv += 8) {
        const v8f b0 = bias ? vld(bias + cv) : splat(0.0f);
        v8f a0 = b0, a1 = b0, a2 = b0, a3 = b0;
        for (int kh = 0; kh < 3; kh++)
            for (int kw = 0; kw < 3; kw++) {
                const v8f wv = vld(wt + (kh * 3 + kw) * co + cv);
                const float *src = rows[kh] + o + kw;
                a0 += splat(src[0]) * wv;
                if (n == 4) { a1 += splat(src[1]) * wv; a2 += splat(src[2]) * wv; a3 += splat(src[3]) * wv; }
            }
        vst(y + cv, a0);
        if (n == 4) { vst(y + co + cv, a1); vst(y + 2 * co + cv, a2); vst(y + 3 * co + cv, a3); }
    }
}

// The channels past the last whole group of eight (all of them in a net of 2 or 4 channels),
// one at a time with eight output pixels per vector: eight consecutive outputs read eight
// consecutive inputs of each padded row. A row narrower than eight reads past its end into the
// next row or the zeroed slack after the image, and keeps only its own outputs.
AI void conv1_tail_row(const float *r0, const float *r1, const float *r2, int wo, const float *wt,
                       const float *bias, int co, int whole, float *y) {
    const float *rows[3] = {r0, r1, r2};
    for (int ow = 0; ow < wo; ow += 8) {
        const int o = wo >= 8 && ow + 8 > wo ? wo - 8 : ow, count = wo >= 8 ? 8 : wo;
        for (int c = whole; c < co; c++) {
            v8f a = splat(bias ? bias[c] : 0.0f);
            for (int kh = 0; kh < 3; kh++)
                for (int kw = 0; kw < 3; kw++) a += vld(rows[kh] + o + kw) * splat(wt[(kh * 3 + kw) * co + c]);
            float out[8];
            vst(out, a);
            for (int p = 0; p < count; p++) y[(size_t)(o + p) * co + c] = out[p];
        }
    }
}

AI void conv1_forward_body(const float *x, const float *w, const float *bias, float *y, int B, int H, int W, int pad,
                           int co, float *scratch) {
    const int Wp = W + 2 * pad, ho = H + 2 * pad - 2, wo = W + 2 * pad - 2, whole = co & ~7;
    float *wt = scratch, *xp = scratch + 9 * co;
    for (int c = 0; c < co; c++)
        for (int t = 0; t < 9; t++) wt[t * co + c] = w[c * 9 + t];
    for (int b = 0; b < B; b++) {
        pad_image(x + (size_t)b * H * W, H, W, pad, xp);
        float *yb = y + (size_t)b * ho * wo * co;
        for (int oh = 0; oh < ho; oh++) {
            const float *r0 = xp + oh * Wp, *r1 = r0 + Wp, *r2 = r1 + Wp;
            // Four output pixels at a time; a short last group overlaps the one before it
            // (recomputing equal values); images narrower than 4 go pixel by pixel.
            const int step = wo >= 4 ? 4 : 1;
            for (int ow = 0; whole > 0 && ow < wo; ow += step) {
                const int o = step == 4 && ow + 4 > wo ? wo - 4 : ow;
                conv1_pixels(r0, r1, r2, o, step, wt, bias, co, whole, yb + ((size_t)oh * wo + o) * co);
            }
            conv1_tail_row(r0, r1, r2, wo, wt, bias, co, whole, yb + (size_t)oh * wo * co);
        }
    }
}

// dW[c][t] += Σ dy[p][c] · x(p + t);  db[c] += Σ dy[p][c]. Per sample and 8 channels, the ten
// sums stay in registers across the sample's pixels.
AI void conv1_backward_body(const float *x, const float *dy, float *dw, float *db, int B, int H, int W, int pad,
                            int co, float *scratch) {
    const int Wp = W + 2 * pad, ho = H + 2 * pad - 2, wo = W + 2 * pad - 2;
    float *acc = scratch, *xp = scratch + 10 * co;  // acc[t·co + c], t = 9: bias
    for (int i = 0; i < 10 * co; i++) acc[i] = 0;
    for (int b = 0; b < B; b++) {
        pad_image(x + (size_t)b * H * W, H, W, pad, xp);
        const float *dyb = dy + (size_t)b * ho * wo * co;
        const int whole = co & ~7;
        // Channels past the last whole group of eight, one at a time, eight pixels per vector;
        // a short last group's missing pixels get a zero gradient (the inputs they read are the
        // next row's or the zeroed slack: finite).
        for (int c = whole; c < co; c++) {
            v8f t0 = {0}, t1 = {0}, t2 = {0}, t3 = {0}, t4 = {0}, t5 = {0}, t6 = {0}, t7 = {0}, t8 = {0}, tb = {0};
            for (int oh = 0; oh < ho; oh++) {
                const float *r0 = xp + oh * Wp, *r1 = r0 + Wp, *r2 = r1 + Wp;
                const float *d = dyb + (size_t)oh * wo * co + c;
                for (int ow = 0; ow < wo; ow += 8) {
                    float gs[8];
                    for (int p = 0; p < 8; p++) gs[p] = ow + p < wo ? d[(size_t)(ow + p) * co] : 0.0f;
                    const v8f g = vld(gs);
                    tb += g;
                    t0 += vld(r0 + ow) * g; t1 += vld(r0 + ow + 1) * g; t2 += vld(r0 + ow + 2) * g;
                    t3 += vld(r1 + ow) * g; t4 += vld(r1 + ow + 1) * g; t5 += vld(r1 + ow + 2) * g;
                    t6 += vld(r2 + ow) * g; t7 += vld(r2 + ow + 1) * g; t8 += vld(r2 + ow + 2) * g;
                }
            }
            const v8f t[10] = {t0, t1, t2, t3, t4, t5, t6, t7, t8, tb};
            for (int k = 0; k < 10; k++) acc[k * co + c] += hsum(t[k]);
        }
        for (int cv = 0; cv < whole; cv += 8) {
            v8f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0}, s5 = {0}, s6 = {0}, s7 = {0}, s8 = {0}, sb = {0};
            for (int oh = 0; oh < ho; oh++) {
                const float *r0 = xp + oh * Wp, *r1 = r0 + Wp, *r2 = r1 + Wp;
                const float *d = dyb + (size_t)oh * wo * co + cv;
                for (int ow = 0; ow < wo; ow++) {
                    const v8f g = vld(d + (size_t)ow * co);
                    sb += g;
                    s0 += splat(r0[ow]) * g; s1 += splat(r0[ow + 1]) * g; s2 += splat(r0[ow + 2]) * g;
                    s3 += splat(r1[ow]) * g; s4 += splat(r1[ow + 1]) * g; s5 += splat(r1[ow + 2]) * g;
                    s6 += splat(r2[ow]) * g; s7 += splat(r2[ow + 1]) * g; s8 += splat(r2[ow + 2]) * g;
                }
            }
            const v8f s[10] = {s0, s1, s2, s3, s4, s5, s6, s7, s8, sb};
            for (int t = 0; t < 10; t++) vst(acc + t * co + cv, vld(acc + t * co + cv) + s[t]);
        }
    }
    for (int c = 0; c < co; c++) {
        for (int t = 0; t < 9; t++) dw[c * 9 + t] += acc[t * co + c];
        if (db) db[c] += acc[9 * co + c];
    }
}


// ---- layer norm over rows of f features (f a multiple of 8) --------------------------------

AI void layernorm_forward_body(const float *x, const float *gamma, const float *beta, float *y, float *stats,
                               size_t rows, int f, float eps) {
    const float invF = 1.0f / (float)f;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * f;
        float *yr = y + r * f;
        v8f s = {0};
        for (int i = 0; i < f; i += 8) s += vld(xr + i);
        const float mean = hsum(s) * invF;
        v8f v = {0};
        for (int i = 0; i < f; i += 8) { v8f d = vld(xr + i) - mean; v += d * d; }
        const float rstd = 1.0f / sqrtf(hsum(v) * invF + eps);
        for (int i = 0; i < f; i += 8) vst(yr + i, (vld(xr + i) - mean) * rstd * vld(gamma + i) + vld(beta + i));
        stats[2 * r] = mean; stats[2 * r + 1] = rstd;
    }
}

// dγ += Σ dy·x̂, dβ += Σ dy (summed over rows in acc[2f] first), dx (+)= rstd·(g − mean g − x̂·mean(g·x̂));
// with `base` (dx's shape), dx = base + … (a residual connection's gradient passing by).
AI void layernorm_backward_body(const float *x, const float *gamma, const float *stats, const float *dy, float *dx,
                                float *dgamma, float *dbeta, size_t rows, int f, int add, const float *base,
                                float *acc) {
    const float invF = 1.0f / (float)f;
    for (int i = 0; i < 2 * f; i++) acc[i] = 0;
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * f, *dyr = dy + r * f;
        const v8f mean = splat(stats[2 * r]), rstd = splat(stats[2 * r + 1]);
        v8f sg = {0}, sgx = {0};
        for (int i = 0; i < f; i += 8) {
            const v8f xh = (vld(xr + i) - mean) * rstd, d = vld(dyr + i), g = d * vld(gamma + i);
            vst(acc + i, vld(acc + i) + d * xh);
            vst(acc + f + i, vld(acc + f + i) + d);
            sg += g; sgx += g * xh;
        }
        if (!dx) continue;
        float *dxr = dx + r * f;
        const v8f mg = splat(hsum(sg) * invF), mgx = splat(hsum(sgx) * invF);
        for (int i = 0; i < f; i += 8) {
            const v8f xh = (vld(xr + i) - mean) * rstd;
            const v8f t = rstd * (vld(dyr + i) * vld(gamma + i) - mg - xh * mgx);
            vst(dxr + i, base ? vld(base + r * f + i) + t : add ? vld(dxr + i) + t : t);
        }
    }
    for (int i = 0; i < f; i++) { dgamma[i] += acc[i]; dbeta[i] += acc[f + i]; }
}

// ---- ReLU then 2×2 max pool, stride 2, fused (NHWC, even H and W) ----------------------------
// The same selects as NeuralNets' reluMaxPoolForward/Backward: y = max(0, window), taken in
// window order; backward gives dy (where y > 0) to the first input equal to y. Eight channels
// per vector; four per half vector where the count is a multiple of 4 but not of 8 (4 or 12 in
// small nets: channel by channel, the data-dependent selects of the backward pass cost a c4
// CNN's step more than its convolution); other counts (2, 5) go channel by channel with the same
// selects.

// Half vectors, for four channels at a time: the same operations on 4 lanes.
AI v4f vld4(const float *p) { return *(const v4fu *)p; }
AI void vst4(float *p, v4f v) { *(v4fu *)p = v; }
AI v4f vsel4(v4i m, v4f a, v4f b) { return (v4f)((m & (v4i)a) | (~m & (v4i)b)); }
AI v4f vmax4(v4f a, v4f b) { return vsel4(a > b, a, b); }
AI void relupool_tap4(const float *xi, float *di, v4f yv, v4f *rest, int add) {
    const v4f zero = (v4f){0, 0, 0, 0};
    const v4i hit = vld4(xi) == yv;
    const v4f d = vsel4(hit, *rest, zero);
    *rest = vsel4(hit, zero, *rest);
    vst4(di, add ? vld4(di) + d : d);
}

AI void relupool_forward_body(const float *x, float *y, int B, int H, int W, int C) {
    const int ho = H / 2, wo = W / 2, vectors = C % 8 == 0, halves = !vectors && C % 4 == 0;
    for (int b = 0; b < B; b++)
        for (int oh = 0; oh < ho; oh++)
            for (int ow = 0; ow < wo; ow++) {
                const float *x0 = x + (((size_t)b * H + 2 * oh) * W + 2 * ow) * C, *x1 = x0 + C, *x2 = x0 + (size_t)W * C, *x3 = x2 + C;
                float *yo = y + (((size_t)b * ho + oh) * wo + ow) * C;
                for (int c = 0; vectors && c < C; c += 8) {
                    v8f m = splat(0.0f);
                    m = vmax(vld(x0 + c), m); m = vmax(vld(x1 + c), m); m = vmax(vld(x2 + c), m); m = vmax(vld(x3 + c), m);
                    vst(yo + c, m);
                }
                for (int c = 0; halves && c < C; c += 4) {
                    v4f m = (v4f){0, 0, 0, 0};
                    m = vmax4(vld4(x0 + c), m); m = vmax4(vld4(x1 + c), m); m = vmax4(vld4(x2 + c), m); m = vmax4(vld4(x3 + c), m);
                    vst4(yo + c, m);
                }
                for (int c = 0; !vectors && !halves && c < C; c++) {
                    float m = 0.0f;
                    m = x0[c] > m ? x0[c] : m; m = x1[c] > m ? x1[c] : m; m = x2[c] > m ? x2[c] : m; m = x3[c] > m ? x3[c] : m;
                    yo[c] = m;
                }
            }
}

AI void relupool_tap(const float *xi, float *di, v8f yv, v8f *rest, int add) {
    const v8i hit = vld(xi) == yv;
    const v8f d = vsel(hit, *rest, splat(0.0f));
    *rest = vsel(hit, splat(0.0f), *rest);
    vst(di, add ? vld(di) + d : d);
}

AI void relupool_backward_body(const float *x, const float *y, const float *dy, float *dx, int B, int H, int W, int C, int add) {
    const int ho = H / 2, wo = W / 2, vectors = C % 8 == 0, halves = !vectors && C % 4 == 0;
    for (int b = 0; b < B; b++)
        for (int oh = 0; oh < ho; oh++)
            for (int ow = 0; ow < wo; ow++) {
                const size_t i0 = (((size_t)b * H + 2 * oh) * W + 2 * ow) * C, o = (((size_t)b * ho + oh) * wo + ow) * C;
                const size_t off[4] = {0, (size_t)C, (size_t)W * C, (size_t)W * C + C};
                for (int c = 0; vectors && c < C; c += 8) {
                    const v8f yv = vld(y + o + c);
                    v8f rest = vsel(yv > splat(0.0f), vld(dy + o + c), splat(0.0f));
                    for (int t = 0; t < 4; t++) relupool_tap(x + i0 + off[t] + c, dx + i0 + off[t] + c, yv, &rest, add);
                }
                for (int c = 0; halves && c < C; c += 4) {
                    const v4f yv = vld4(y + o + c), zero = (v4f){0, 0, 0, 0};
                    v4f rest = vsel4(yv > zero, vld4(dy + o + c), zero);
                    for (int t = 0; t < 4; t++) relupool_tap4(x + i0 + off[t] + c, dx + i0 + off[t] + c, yv, &rest, add);
                }
                for (int c = 0; !vectors && !halves && c < C; c++) {
                    const float yv = y[o + c];
                    float rest = yv > 0.0f ? dy[o + c] : 0.0f;
                    for (int t = 0; t < 4; t++) {
                        const int hit = x[i0 + off[t] + c] == yv;
                        const float d = hit ? rest : 0.0f;
                        rest = hit ? 0.0f : rest;
                        float *di = dx + i0 + off[t] + c;
                        *di = add ? *di + d : d;
                    }
                }
            }
}

// ---- column sums (a dense layer's bias gradient: Σ over rows of dy) ------------------------
// Four chains of rows (r mod 4) per vector, combined (0 + 1) + (2 + 3) at the end: one chain per
// column, as the Swift loop sums, runs one add per row per vector into the same register —
// latency-bound for a narrow layer (a convolution's 16 channels over 100,352 pixel rows).
// Blocks of up to four vectors, so that 16 accumulators stay in registers; the last cols % 8
// columns by scalars in the same order. The order is fixed by the shape.

// Columns [j, j + 8·NV) (NV a literal, so that the accumulators are registers).
AI void column_sums_block(int NV, const float *x, size_t rows, size_t ld, int j, float *sums, int add) {
    v8f a0[4], a1[4], a2[4], a3[4];
    _Pragma("unroll")
    for (int v = 0; v < NV; v++) a0[v] = a1[v] = a2[v] = a3[v] = splat(0.0f);
    size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *q = x + r * ld + j;
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) {
            a0[v] += vld(q + 8 * v);
            a1[v] += vld(q + ld + 8 * v);
            a2[v] += vld(q + 2 * ld + 8 * v);
            a3[v] += vld(q + 3 * ld + 8 * v);
        }
    }
    for (; r < rows; r++)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) a0[v] += vld(x + r * ld + j + 8 * v);
    _Pragma("unroll")
    for (int v = 0; v < NV; v++) {
        const v8f t = (a0[v] + a1[v]) + (a2[v] + a3[v]);
        vst(sums + j + 8 * v, add ? vld(sums + j + 8 * v) + t : t);
    }
}

AI void column_sums_body(const float *x, size_t rows, int cols, float *sums, int add) {
    const size_t ld = (size_t)cols;
    int j = 0;
    for (; j + 32 <= cols; j += 32) column_sums_block(4, x, rows, ld, j, sums, add);
    if (j + 24 <= cols) { column_sums_block(3, x, rows, ld, j, sums, add); j += 24; }
    else if (j + 16 <= cols) { column_sums_block(2, x, rows, ld, j, sums, add); j += 16; }
    else if (j + 8 <= cols) { column_sums_block(1, x, rows, ld, j, sums, add); j += 8; }
    for (; j < cols; j++) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        size_t r = 0;
        for (; r + 4 <= rows; r += 4) {
            s0 += x[r * ld + j]; s1 += x[(r + 1) * ld + j]; s2 += x[(r + 2) * ld + j]; s3 += x[(r + 3) * ld + j];
        }
        for (; r < rows; r++) s0 += x[r * ld + j];
        const float t = (s0 + s1) + (s2 + s3);
        sums[j] = add ? sums[j] + t : t;
    }
}

// ---- variants and dispatch ----------------------------------------------------------------

#define VARIANT(ret, name, params, args)                        \
    static ret name##_portable params { return name##_body args; } \
    AVX2_ATTR static ret name##_avx2 params { return name##_body args; }

#if defined(__x86_64__)
#define AVX2_ATTR __attribute__((target("avx2,fma")))
#else
#define AVX2_ATTR
#endif

VARIANT(void, attention_forward,
        (const float *qkv, float *probs, float *ctx, int B, int N, int D, int H, float *s),
        (qkv, probs, ctx, B, N, D, H, s))
VARIANT(void, attention_backward,
        (const float *qkv, const float *probs, const float *dctx, float *dqkv, int B, int N, int D, int H, float *s),
        (qkv, probs, dctx, dqkv, B, N, D, H, s))
VARIANT(void, conv1_forward,
        (const float *x, const float *w, const float *bias, float *y, int B, int H, int W, int pad, int co, float *s),
        (x, w, bias, y, B, H, W, pad, co, s))
VARIANT(void, conv1_backward,
        (const float *x, const float *dy, float *dw, float *db, int B, int H, int W, int pad, int co, float *s),
        (x, dy, dw, db, B, H, W, pad, co, s))
VARIANT(void, layernorm_forward,
        (const float *x, const float *gamma, const float *beta, float *y, float *stats, size_t rows, int f, float eps),
        (x, gamma, beta, y, stats, rows, f, eps))
VARIANT(void, layernorm_backward,
        (const float *x, const float *gamma, const float *stats, const float *dy, float *dx, float *dgamma, float *dbeta,
         size_t rows, int f, int add, const float *base, float *acc),
        (x, gamma, stats, dy, dx, dgamma, dbeta, rows, f, add, base, acc))
VARIANT(void, relupool_forward, (const float *x, float *y, int B, int H, int W, int C), (x, y, B, H, W, C))
VARIANT(void, relupool_backward,
        (const float *x, const float *y, const float *dy, float *dx, int B, int H, int W, int C, int add),
        (x, y, dy, dx, B, H, W, C, add))
VARIANT(void, sgd, (float *p, const float *g, float *b, size_t n, float lr, float mu, int nest, float decay, int first),
        (p, g, b, n, lr, mu, nest, decay, first))
VARIANT(void, adam, (float *p, const float *g, float *m, float *v, size_t n, float lr, float b1, float b2, float eps,
                     float decay, int decoupled, float c1, float c2),
        (p, g, m, v, n, lr, b1, b2, eps, decay, decoupled, c1, c2))
VARIANT(void, column_sums, (const float *x, size_t rows, int cols, float *sums, int add), (x, rows, cols, sums, add))
VARIANT(void, gelu_forward, (const float *x, float *y, float *aux, size_t n), (x, y, aux, n))
VARIANT(void, gelu_backward, (const float *aux, const float *dy, float *dx, size_t n, int add), (aux, dy, dx, n, add))

AI int use_avx2(int portable) { return portable != 1 && ck_isa_level() >= 1; }

// The AVX-512 kernels (attention512.c, gelu512.c, loss512.c), unless a caller asked for AVX2 (2) or
// portable (1) code.
AI int use512(int portable) {
#if defined(__x86_64__)
    return portable == 0 && ck_avx512_available();
#else
    (void)portable;
    return 0;
#endif
}

// The AVX-512 attention core takes heads of whole vectors, and the narrow heads the AVX2 kernels
// do not (widths not a multiple of 8) over 16 tokens or more: with fewer, most of each vector of
// tokens would be padding (a four-token ViT stays on the Swift path, and so keeps its results'
// bits).
AI int use_attention512(int portable, int tokens, int dim, int heads) {
    const int dh = dim / heads;
    return (dh % 16 == 0 || (dh % 8 != 0 && tokens >= 16)) && use512(portable);
}

// Sized for either variant: the AVX-512 one pads rows to 16, the others to 8.
size_t ck_attention_scratch(int tokens, int dim, int heads) {
    size_t np = ((size_t)tokens + 7) & ~(size_t)7, avx2 = (size_t)(dim / heads) * np + np * np;
#if defined(__x86_64__)
    size_t wide = ck_attention512_scratch(tokens, dim, heads);
    return wide > avx2 ? wide : avx2;
#else
    return avx2;
#endif
}

size_t ck_attention_probs(int batch, int tokens, int heads) {
    return (size_t)batch * heads * tokens * (((size_t)tokens + 15) & ~(size_t)15);
}

AI int attention_shape(int tokens, int dim, int heads) { return heads > 0 && tokens > 0 && dim % heads == 0; }

// What the AVX2 and portable kernels take.
AI int attention_supported(int tokens, int dim, int heads) {
    return attention_shape(tokens, dim, heads) && (dim / heads) % 8 == 0;
}

int ck_attention_forward(const float *qkv, float *probs, float *ctx, int batch, int tokens, int dim, int heads,
                         float *scratch, int portable) {
    if (!attention_shape(tokens, dim, heads)) return 0;
#if defined(__x86_64__)
    if (use_attention512(portable, tokens, dim, heads)) {
        ck_attention512_forward(qkv, probs, ctx, batch, tokens, dim, heads, scratch);
        return 1;
    }
#endif
    if (!attention_supported(tokens, dim, heads)) return 0;
    if (use_avx2(portable)) attention_forward_avx2(qkv, probs, ctx, batch, tokens, dim, heads, scratch);
    else attention_forward_portable(qkv, probs, ctx, batch, tokens, dim, heads, scratch);
    return 1;
}

int ck_attention_backward(const float *qkv, const float *probs, const float *dctx, float *dqkv,
                          int batch, int tokens, int dim, int heads, float *scratch, int portable) {
    if (!attention_shape(tokens, dim, heads)) return 0;
#if defined(__x86_64__)
    if (use_attention512(portable, tokens, dim, heads)) {
        ck_attention512_backward(qkv, probs, dctx, dqkv, batch, tokens, dim, heads, scratch);
        return 1;
    }
#endif
    if (!attention_supported(tokens, dim, heads)) return 0;
    if (use_avx2(portable)) attention_backward_avx2(qkv, probs, dctx, dqkv, batch, tokens, dim, heads, scratch);
    else attention_backward_portable(qkv, probs, dctx, dqkv, batch, tokens, dim, heads, scratch);
    return 1;
}

void ck_gelu_forward(const float *x, float *y, float *aux, size_t n, int portable) {
#if defined(__x86_64__)
    if (use512(portable)) { ck_gelu512_forward(x, y, aux, n); return; }
#endif
    if (use_avx2(portable)) gelu_forward_avx2(x, y, aux, n);
    else gelu_forward_portable(x, y, aux, n);
}

void ck_gelu_backward(const float *aux, const float *dy, float *dx, size_t n, int add, int portable) {
#if defined(__x86_64__)
    if (use512(portable)) { ck_gelu512_backward(aux, dy, dx, n, add); return; }
#endif
    if (use_avx2(portable)) gelu_backward_avx2(aux, dy, dx, n, add);
    else gelu_backward_portable(aux, dy, dx, n, add);
}

int ck_softmax_xent(const float *z, const int *labels, float *grad, int batch, int classes, double *loss, int *correct,
                    int portable) {
#if defined(__x86_64__)
    if (batch > 0 && classes > 0 && classes <= 64 && use512(portable)) {
        *loss = ck_softmax_xent512(z, labels, grad, batch, classes, correct);
        return 1;
    }
    if (batch > 0 && classes > 0 && classes <= 64 && use_avx2(portable)) {
        *loss = ck_softmax_xent256(z, labels, grad, batch, classes, correct);
        return 1;
    }
#endif
    (void)z; (void)labels; (void)grad; (void)batch; (void)classes; (void)loss; (void)correct; (void)portable;
    return 0;
}

void ck_sgd(float *p, const float *g, float *b, size_t n, float lr, float mu, int nesterov, float decay, int first,
            int portable) {
    if (use_avx2(portable)) sgd_avx2(p, g, b, n, lr, mu, nesterov, decay, first);
    else sgd_portable(p, g, b, n, lr, mu, nesterov, decay, first);
}

void ck_column_sums(const float *x, size_t rows, int cols, float *sums, int add, int portable) {
    if (use_avx2(portable)) column_sums_avx2(x, rows, cols, sums, add);
    else column_sums_portable(x, rows, cols, sums, add);
}

void ck_adam(float *p, const float *g, float *m, float *v, size_t n, float lr, float beta1, float beta2, float eps,
             float decay, int decoupled, float c1, float c2, int portable) {
    if (use_avx2(portable)) adam_avx2(p, g, m, v, n, lr, beta1, beta2, eps, decay, decoupled, c1, c2);
    else adam_portable(p, g, m, v, n, lr, beta1, beta2, eps, decay, decoupled, c1, c2);
}

size_t ck_conv1_scratch(int height, int width, int pad, int out_channels) {
    return (size_t)(height + 2 * pad) * (width + 2 * pad) + CONV1_SLACK + 10 * (size_t)out_channels;
}

AI int conv1_supported(int H, int W, int pad, int co) {
    return co > 0 && pad >= 0 && H + 2 * pad >= 3 && W + 2 * pad >= 3;
}

int ck_conv1_forward(const float *x, const float *w, const float *bias, float *y, int batch, int height, int width,
                     int pad, int out_channels, float *scratch, int portable) {
    if (!conv1_supported(height, width, pad, out_channels)) return 0;
    if (use_avx2(portable)) conv1_forward_avx2(x, w, bias, y, batch, height, width, pad, out_channels, scratch);
    else conv1_forward_portable(x, w, bias, y, batch, height, width, pad, out_channels, scratch);
    return 1;
}

int ck_conv1_backward(const float *x, const float *dy, float *dw, float *db, int batch, int height, int width,
                      int pad, int out_channels, float *scratch, int portable) {
    if (!conv1_supported(height, width, pad, out_channels)) return 0;
    if (use_avx2(portable)) conv1_backward_avx2(x, dy, dw, db, batch, height, width, pad, out_channels, scratch);
    else conv1_backward_portable(x, dy, dw, db, batch, height, width, pad, out_channels, scratch);
    return 1;
}

int ck_layernorm_forward(const float *x, const float *gamma, const float *beta, float *y, float *stats, size_t rows,
                         int features, float eps, int portable) {
    if (features <= 0 || features % 8 != 0) return 0;
    if (use_avx2(portable)) layernorm_forward_avx2(x, gamma, beta, y, stats, rows, features, eps);
    else layernorm_forward_portable(x, gamma, beta, y, stats, rows, features, eps);
    return 1;
}

int ck_layernorm_backward(const float *x, const float *gamma, const float *stats, const float *dy, float *dx,
                          float *dgamma, float *dbeta, size_t rows, int features, int add, const float *base,
                          float *scratch, int portable) {
    if (features <= 0 || features % 8 != 0) return 0;
    if (use_avx2(portable))
        layernorm_backward_avx2(x, gamma, stats, dy, dx, dgamma, dbeta, rows, features, add, base, scratch);
    else layernorm_backward_portable(x, gamma, stats, dy, dx, dgamma, dbeta, rows, features, add, base, scratch);
    return 1;
}

AI int relupool_supported(int H, int W, int C) { return C > 0 && H % 2 == 0 && W % 2 == 0; }

int ck_relu_maxpool2_forward(const float *x, float *y, int batch, int height, int width, int channels, int portable) {
    if (!relupool_supported(height, width, channels)) return 0;
    if (use_avx2(portable)) relupool_forward_avx2(x, y, batch, height, width, channels);
    else relupool_forward_portable(x, y, batch, height, width, channels);
    return 1;
}

int ck_relu_maxpool2_backward(const float *x, const float *y, const float *dy, float *dx, int batch, int height, int width,
                              int channels, int add, int portable) {
    if (!relupool_supported(height, width, channels)) return 0;
    if (use_avx2(portable)) relupool_backward_avx2(x, y, dy, dx, batch, height, width, channels, add);
    else relupool_backward_portable(x, y, dy, dx, batch, height, width, channels, add);
    return 1;
}
