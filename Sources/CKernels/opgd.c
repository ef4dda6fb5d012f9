// OpGD's error curve for depth D ≥ 1 (Adaptivity/BatchFlow.swift's opgdErrorCurve), operation
// for operation: the even coordinates in four lanes and the odd ones in four more, each
// integrated by Dormand–Prince 5(4) with its own step, each group's Σ_j (θ_j(t_k) − θ*_j)²
// accumulated in the order a four-lane solver alone on it would, and the two sums added, so the
// curve has the Swift solvers' bits. Why C: Swift's baseline build runs SIMD4<Double> as pairs of
// SSE2 halves and spills the state between them; this was 80% of a Tables 1–2 unit. Why two
// groups: a step is a chain of seven dependent evaluations, each waiting on square roots, so one
// vector runs at the chain's latency; a second, independent vector fills the gaps.
// No fused multiply-adds (intrinsics only, and no "fma" target), so every rounding is Swift's.
#include "ckernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define T256 __attribute__((target("avx2")))
#define AI static inline __attribute__((always_inline))

typedef struct {
    const double *z, *truth, *lambda, *times;
    long count, T;
    double b0, b0sq, dd, tolerance, end;
    int depth;
    long firstPositive;
    double *curve[2];   // one sum per group (see run)
} Problem;

// DP constants (Flows.swift's DP), each written as the same quotient of literals.
static const double a21 = 1.0 / 5, a31 = 3.0 / 40, a32 = 9.0 / 40, a41 = 44.0 / 45, a42 = -56.0 / 15, a43 = 32.0 / 9;
static const double a51 = 19372.0 / 6561, a52 = -25360.0 / 2187, a53 = 64448.0 / 6561, a54 = -212.0 / 729;
static const double a61 = 9017.0 / 3168, a62 = -355.0 / 33, a63 = 46732.0 / 5247, a64 = 49.0 / 176, a65 = -5103.0 / 18656;
static const double b1 = 35.0 / 384, b3 = 500.0 / 1113, b4 = 125.0 / 192, b5 = -2187.0 / 6784, b6 = 11.0 / 84;
static const double e1 = 71.0 / 57600, e3 = -71.0 / 16695, e4 = 71.0 / 1920, e5 = -17253.0 / 339200, e6 = 22.0 / 525, e7 = -1.0 / 40;
static const double d1 = -12715105075.0 / 11282082432, d3 = 87487479700.0 / 32700410799, d4 = -10690763975.0 / 1880347072;
static const double d5 = 701980252875.0 / 199316789632, d6 = -1453857185.0 / 822651844, d7 = 69997945.0 / 29380423;

// OpGDCoordinate.phi, scalar: a·b^D with a = √(λ + β²), b = √(b0·b0 + D·β·β).
static double phiScalar(double lambda, double b0, int depth, double beta) {
    double a = __builtin_sqrt(lambda + beta * beta);
    double b = __builtin_sqrt(b0 * b0 + (double)depth * beta * beta);
    double bd = b;
    for (int i = 1; i < depth; i++) bd *= b;
    return a * bd;
}

// Swift's max/min on two finite values: the second when it is ≥ (≤) the first.
static double smax(double x, double y) { return y >= x ? y : x; }
static double smin(double x, double y) { return y < x ? y : x; }

// OpGDCoordinate.firstStep.
static double firstStep(double lambda, double b0, int depth, double z, double end) {
    double f0 = phiScalar(lambda, b0, depth, 0);
    return smax(1e-12, smin(end, 1e-3 / smax(smax(f0 * z / smax(z, 1e-300), f0 * f0), 1e-300)));
}

AI void add(Problem *p, int g, long j, double theta, long k0, long k1) {
    double d = theta - p->truth[j];
    double *curve = p->curve[g];
    for (long k = k0; k < k1; k++) curve[k] += d * d;
}

// Eight lanes: 0–3 integrate the even coordinates, 4–7 the odd ones (group g = l / 4).
typedef struct {
    long coordinate[8], next[8], steps[8];
    double sign[8], lambda[8], zz[8], t[8], y[8], h[8], k1[8];
    long nextCoordinate[2];
} Lanes;

// LaneSolver.load: the next coordinate of lane l's group that needs integrating into the lane;
// 0 when none is left.
static int load(Problem *p, Lanes *s, int l) {
    int g = l / 4;
    while (s->nextCoordinate[g] < p->count) {
        long j = s->nextCoordinate[g];
        s->nextCoordinate[g] += 2;
        add(p, g, j, 0, 0, p->firstPositive);
        if (p->z[j] == 0 || p->firstPositive == p->T) {
            add(p, g, j, 0, p->firstPositive, p->T);
            continue;
        }
        double az = p->z[j] < 0 ? -p->z[j] : p->z[j];   // Swift's abs: the magnitude
        s->coordinate[l] = j; s->sign[l] = p->z[j] < 0 ? -1 : 1; s->next[l] = p->firstPositive; s->steps[l] = 0;
        s->lambda[l] = p->lambda[j]; s->zz[l] = az;
        s->t[l] = 0; s->y[l] = 0; s->k1[l] = phiScalar(p->lambda[j], p->b0, p->depth, 0) * az;
        s->h[l] = firstStep(p->lambda[j], p->b0, p->depth, az, p->end);
        return 1;
    }
    s->coordinate[l] = -1;
    s->lambda[l] = 1; s->zz[l] = 1; s->t[l] = 0; s->y[l] = 0; s->k1[l] = 0; s->h[l] = 1;
    return 0;
}

// A value of eight lanes as two AVX2 vectors. Every operation is done on both halves, one after
// the other, so that the two groups' chains of dependent evaluations overlap in the pipeline.
typedef struct { __m256d a, b; } V;
#define PAIR(op) (V){op(x.a, y.a), op(x.b, y.b)}
AI T256 V ADD(V x, V y) { return PAIR(_mm256_add_pd); }
AI T256 V SUB(V x, V y) { return PAIR(_mm256_sub_pd); }
AI T256 V MUL(V x, V y) { return PAIR(_mm256_mul_pd); }
AI T256 V DIV(V x, V y) { return PAIR(_mm256_div_pd); }
AI T256 V AND(V x, V y) { return PAIR(_mm256_and_pd); }
AI T256 V OR(V x, V y) { return PAIR(_mm256_or_pd); }
AI T256 V XOR(V x, V y) { return PAIR(_mm256_xor_pd); }
AI T256 V MIN(V x, V y) { return PAIR(_mm256_min_pd); }
AI T256 V MAX(V x, V y) { return PAIR(_mm256_max_pd); }
AI T256 V SQRT(V x) { return (V){_mm256_sqrt_pd(x.a), _mm256_sqrt_pd(x.b)}; }
AI T256 V SET(double v) { __m256d s = _mm256_set1_pd(v); return (V){s, s}; }
AI T256 V LOAD(const double *p) { return (V){_mm256_loadu_pd(p), _mm256_loadu_pd(p + 4)}; }
AI T256 void STORE(double *p, V x) { _mm256_storeu_pd(p, x.a); _mm256_storeu_pd(p + 4, x.b); }
AI T256 int MASK(V x) { return _mm256_movemask_pd(x.a) | _mm256_movemask_pd(x.b) << 4; }
// Swift's SIMD comparisons are ordered (false on NaN); `.replacing(with: b, where: m)` is a blend.
#define CMP(name, pred) AI T256 V name(V x, V y) { return (V){_mm256_cmp_pd(x.a, y.a, pred), _mm256_cmp_pd(x.b, y.b, pred)}; }
CMP(LT, _CMP_LT_OQ) CMP(LE, _CMP_LE_OQ) CMP(GT, _CMP_GT_OQ) CMP(GE, _CMP_GE_OQ)
AI T256 V BLEND(V x, V y, V m) { return (V){_mm256_blendv_pd(x.a, y.a, m.a), _mm256_blendv_pd(x.b, y.b, m.b)}; }

// x.replacing(with: −x, where: x .< 0)
AI T256 V magnitude(V x) { return BLEND(x, SUB(SET(0), x), LT(x, SET(0))); }
// pointwiseMax on values that are never NaN where it matters (see BatchFlow.swift).
AI T256 V pmax(V a, V b) { return BLEND(a, b, LT(a, b)); }

AI T256 V phi(V beta, V lambda, V b0sq, V dd, int depth) {
    V a = SQRT(ADD(lambda, MUL(beta, beta)));
    V b = SQRT(ADD(b0sq, MUL(MUL(dd, beta), beta)));
    V bd = b;
    for (int i = 1; i < depth; i++) bd = MUL(bd, b);
    return MUL(a, bd);
}

AI T256 V rate(V beta, V zz, V lambda, V b0sq, V dd, int depth) {
    V f = phi(beta, lambda, b0sq, dd, depth);
    return MUL(f, SUB(zz, MUL(f, beta)));
}

// SIMD4.factor: 0.9·ratio^(−1/5) by a bit-pattern guess and two Newton steps, within 0.2…5.
AI T256 V factor(V ratio) {
    V clamped = MIN(MAX(ratio, SET(1.6e-4)), SET(5.9e3));
    // clamped(lowerBound:upperBound:) on a non-NaN ratio (a NaN lane is replaced by 0.2 after).
    double c[8], g[8];
    STORE(c, clamped);
    const int64_t one = 0x3FF0000000000000LL;
    for (int l = 0; l < 8; l++) {
        int64_t bits;
        memcpy(&bits, &c[l], 8);
        int64_t guess = one - (bits - one) / 5;
        memcpy(&g[l], &guess, 8);
    }
    V y = LOAD(g);
    for (int i = 0; i < 2; i++) {
        V y2 = MUL(y, y);
        y = DIV(MUL(y, SUB(SET(6), MUL(MUL(MUL(clamped, y2), y2), y))), SET(5));
    }
    V out = MUL(SET(0.9), y);
    out = BLEND(out, SET(5), LE(ratio, SET(1.6e-4)));
    return BLEND(out, SET(0.2), GE(ratio, SET(5.9e3)));
}

// The dense output of one accepted step at the times k0 ..< k1 it passed, four times at a time:
// the scalar loop's arithmetic per time (the interpolant, then phiScalar), and one addition to
// each time's sum as there, so the bits are the same.
AI T256 void outputs(Problem *p, int g, long j, double sl, double lam, double tl, double hl, double yl,
                     double r2, double r3, double r4, double r5l, long k0, long k1) {
    const __m256d TL = _mm256_set1_pd(tl), HL = _mm256_set1_pd(hl), YL = _mm256_set1_pd(yl), one = _mm256_set1_pd(1);
    const __m256d R2 = _mm256_set1_pd(r2), R3 = _mm256_set1_pd(r3), R4 = _mm256_set1_pd(r4), R5 = _mm256_set1_pd(r5l);
    const __m256d LAM = _mm256_set1_pd(lam), B0SQ = _mm256_set1_pd(p->b0sq), DD = _mm256_set1_pd(p->dd);
    const __m256d SL = _mm256_set1_pd(sl), TR = _mm256_set1_pd(p->truth[j]);
    double *curve = p->curve[g];
    for (long k = k0; k < k1; k += 4) {
        // The last block's lanes past k1 are masked out of every load and store (they compute on
        // zeros and are dropped).
        long left = k1 - k;
        __m256i m = _mm256_cmpgt_epi64(_mm256_set1_epi64x(left < 4 ? left : 4), _mm256_setr_epi64x(0, 1, 2, 3));
        __m256d sv = _mm256_div_pd(_mm256_sub_pd(_mm256_maskload_pd(p->times + k, m), TL), HL), u = _mm256_sub_pd(one, sv);
        __m256d beta = _mm256_add_pd(YL, _mm256_mul_pd(sv, _mm256_add_pd(R2, _mm256_mul_pd(u, _mm256_add_pd(R3,
                           _mm256_mul_pd(sv, _mm256_add_pd(R4, _mm256_mul_pd(u, R5))))))));
        __m256d a = _mm256_sqrt_pd(_mm256_add_pd(LAM, _mm256_mul_pd(beta, beta)));
        __m256d b = _mm256_sqrt_pd(_mm256_add_pd(B0SQ, _mm256_mul_pd(_mm256_mul_pd(DD, beta), beta)));
        __m256d bd = b;
        for (int i = 1; i < p->depth; i++) bd = _mm256_mul_pd(bd, b);
        __m256d d = _mm256_sub_pd(_mm256_mul_pd(SL, _mm256_mul_pd(_mm256_mul_pd(a, bd), beta)), TR);
        _mm256_maskstore_pd(curve + k, m, _mm256_add_pd(_mm256_maskload_pd(curve + k, m), _mm256_mul_pd(d, d)));
    }
}

// Each group of four lanes takes exactly the steps a four-lane solver alone on its coordinates
// would (an idle lane computes on dummy values and is never read), and adds to its own sum.
static T256 int run(Problem *p) {
    Lanes s;
    memset(&s, 0, sizeof s);
    s.nextCoordinate[0] = 0; s.nextCoordinate[1] = 1;
    for (int l = 0; l < 8; l++) { s.h[l] = 1; s.sign[l] = 1; s.lambda[l] = 1; s.zz[l] = 1; s.coordinate[l] = -1; }
    int active = 0;
    for (int l = 0; l < 8; l++) active += load(p, &s, l);
    const V endV = SET(p->end), tiny = SET(1e-300), oneV = SET(1), inf = SET(__builtin_inf());
    const V b0sq = SET(p->b0sq), dd = SET(p->dd), allBits = LT(SET(0), SET(1));
    const int D = p->depth;
    V t = LOAD(s.t), y = LOAD(s.y), h = LOAD(s.h), k1 = LOAD(s.k1);
    V lambda = LOAD(s.lambda), zz = LOAD(s.zz);
    while (active > 0) {
        h = BLEND(h, SUB(endV, t), GT(ADD(t, h), endV));
        V k2 = rate(ADD(y, MUL(MUL(h, SET(a21)), k1)), zz, lambda, b0sq, dd, D);
        V k3 = rate(ADD(y, MUL(h, ADD(MUL(SET(a31), k1), MUL(SET(a32), k2)))), zz, lambda, b0sq, dd, D);
        V k4 = rate(ADD(y, MUL(h, ADD(ADD(MUL(SET(a41), k1), MUL(SET(a42), k2)), MUL(SET(a43), k3)))), zz, lambda, b0sq, dd, D);
        V k5 = rate(ADD(y, MUL(h, ADD(ADD(ADD(MUL(SET(a51), k1), MUL(SET(a52), k2)), MUL(SET(a53), k3)), MUL(SET(a54), k4)))),
                    zz, lambda, b0sq, dd, D);
        V k6 = rate(ADD(y, MUL(h, ADD(ADD(ADD(ADD(MUL(SET(a61), k1), MUL(SET(a62), k2)), MUL(SET(a63), k3)), MUL(SET(a64), k4)),
                                      MUL(SET(a65), k5)))), zz, lambda, b0sq, dd, D);
        V y1 = ADD(y, MUL(h, ADD(ADD(ADD(ADD(MUL(SET(b1), k1), MUL(SET(b3), k3)), MUL(SET(b4), k4)), MUL(SET(b5), k5)), MUL(SET(b6), k6))));
        V k7 = rate(y1, zz, lambda, b0sq, dd, D);
        V err = MUL(h, ADD(ADD(ADD(ADD(ADD(MUL(SET(e1), k1), MUL(SET(e3), k3)), MUL(SET(e4), k4)), MUL(SET(e5), k5)), MUL(SET(e6), k6)),
                           MUL(SET(e7), k7)));
        V scale = ADD(MUL(SET(p->tolerance), pmax(pmax(magnitude(y), magnitude(y1)), tiny)), tiny);
        V ratio = DIV(magnitude(err), scale);
        V finite = AND(LT(ratio, inf), LT(magnitude(y1), inf));
        V small = LE(h, MUL(SET(1e-14), pmax(t, oneV)));
        V accept = AND(finite, OR(LE(ratio, oneV), small));
        V t1 = ADD(t, h);
        V theta1 = MUL(phi(y1, lambda, b0sq, dd, D), y1);
        V converged = LE(magnitude(SUB(zz, theta1)), MUL(SET(10 * p->tolerance), zz));
        V idleScale = MUL(SET(p->tolerance * 1e-3), pmax(magnitude(y1), tiny));
        V idle = LE(MUL(magnitude(k7), SUB(endV, t1)), idleScale);
        V r5 = MUL(h, ADD(ADD(ADD(ADD(ADD(MUL(SET(d1), k1), MUL(SET(d3), k3)), MUL(SET(d4), k4)), MUL(SET(d5), k5)), MUL(SET(d6), k6)),
                          MUL(SET(d7), k7)));
        V t0 = t, y0 = y, h0 = h, k10 = k1;
        h = MUL(h, BLEND(factor(ratio), SET(0.2), XOR(finite, allBits)));
        t = BLEND(t, t1, accept);
        y = BLEND(y, y1, accept);
        k1 = BLEND(k1, k7, accept);
        int acc = MASK(accept), conv = MASK(converged), idl = MASK(idle);
        double T1[8], Y1[8], K7[8], H0[8], Tl[8], Y0[8], K10[8], R5[8], TH1[8];
        STORE(T1, t1); STORE(Y1, y1); STORE(K7, k7); STORE(H0, h0);
        STORE(Tl, t0); STORE(Y0, y0); STORE(K10, k10); STORE(R5, r5);
        STORE(TH1, theta1);
        int reloaded = 0;
        for (int l = 0; l < 8; l++) {
            s.steps[l] += 1;
            if (s.coordinate[l] < 0) continue;
            if (s.steps[l] >= 10000000) return -1;
            if (!((acc >> l) & 1)) continue;
            int g = l / 4;
            long j = s.coordinate[l], k = s.next[l];
            double sl = s.sign[l];
            if (k < p->T && p->times[k] <= T1[l]) {
                double hl = H0[l], tl = Tl[l], yl = Y0[l], r5l = R5[l];
                double r2 = Y1[l] - yl, r3 = hl * K10[l] - r2, r4 = r2 - hl * K7[l] - r3;
                long kEnd = k;
                while (kEnd < p->T && p->times[kEnd] <= T1[l]) kEnd += 1;
                outputs(p, g, j, sl, s.lambda[l], tl, hl, yl, r2, r3, r4, r5l, k, kEnd);
                s.next[l] = k = kEnd;
            }
            int cv = (conv >> l) & 1;
            if (k == p->T || cv || ((idl >> l) & 1)) {
                add(p, g, j, sl * (cv ? s.zz[l] : TH1[l]), k, p->T);
                // The lane takes the accepted state before `load` overwrites it.
                STORE(s.t, t); STORE(s.y, y); STORE(s.h, h); STORE(s.k1, k1);
                if (!load(p, &s, l)) active -= 1;
                t = LOAD(s.t); y = LOAD(s.y); h = LOAD(s.h); k1 = LOAD(s.k1);
                reloaded = 1;
            }
        }
        if (reloaded) { lambda = LOAD(s.lambda); zz = LOAD(s.zz); }
    }
    return 0;
}

int ck_opgd_error_curve(const double *z, const double *truth, const double *eigenvalues, long count, double b0, int depth,
                        const double *times, long T, double tolerance, double *curve) {
    if (ck_isa_level() < 1 || depth < 1 || T < 1) return 0;
    double *odd = malloc((size_t)T * sizeof(double));
    if (!odd) return 0;
    Problem p = {z, truth, eigenvalues, times, count, T, b0, b0 * b0, (double)depth, tolerance, times[T - 1], depth, T, {curve, odd}};
    p.firstPositive = T;
    for (long k = 0; k < T; k++) if (times[k] > 0) { p.firstPositive = k; break; }
    for (long k = 0; k < T; k++) { curve[k] = 0; odd[k] = 0; }
    int status = run(&p);
    for (long k = 0; k < T; k++) curve[k] += odd[k];   // even coordinates' sum + odd coordinates'
    free(odd);
    return status < 0 ? -1 : 1;
}

#else

int ck_opgd_error_curve(const double *z, const double *truth, const double *eigenvalues, long count, double b0, int depth,
                        const double *times, long T, double tolerance, double *curve) {
    (void)z; (void)truth; (void)eigenvalues; (void)count; (void)b0; (void)depth; (void)times; (void)T; (void)tolerance; (void)curve;
    return 0;
}

#endif
