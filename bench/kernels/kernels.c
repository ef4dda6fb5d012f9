// GELU (ck_gelu_forward/backward) and softmax cross-entropy (ck_softmax_xent) timed alone, best
// of many repetitions per variant (portable flag 0: the fastest the CPU has, 1: portable,
// 2: AVX2 + FMA). Built by bench/kernels/kernels.sh.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "ckernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

// Float64 reference of the loss and the largest gradient error (times B) of one call.
static void check(int B, int K, double *lossErr, double *gradErr) {
    float *z = malloc(4L * B * K), *g = malloc(4L * B * K);
    int *lab = malloc(4L * B);
    for (long i = 0; i < (long)B * K; i++) z[i] = (rand() / (float)RAND_MAX - 0.5f) * 20;
    for (int r = 0; r < B; r++) lab[r] = rand() % K;
    double loss = 0, ref = 0;
    if (!ck_softmax_xent(z, lab, g, B, K, &loss, 0)) { *lossErr = *gradErr = -1; return; }
    for (int r = 0; r < B; r++) {
        double m = -INFINITY, s = 0;
        for (int c = 0; c < K; c++) m = fmax(m, z[r * K + c]);
        for (int c = 0; c < K; c++) s += exp(z[r * K + c] - m);
        ref += log(s) + m - z[r * K + lab[r]];
        for (int c = 0; c < K; c++) {
            double want = exp(z[r * K + c] - m) / s / B - (c == lab[r] ? 1.0 / B : 0);
            *gradErr = fmax(*gradErr, fabs(want - g[r * K + c]) * B);
        }
    }
    ref /= B;
    *lossErr = fmax(*lossErr, fabs(ref - loss) / fmax(1, fabs(ref)));
    free(z); free(g); free(lab);
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 94080;
    int B = argc > 2 ? atoi(argv[2]) : 128, K = argc > 3 ? atoi(argv[3]) : 10;
    float *x = aligned_alloc(64, 4 * n + 64), *y = aligned_alloc(64, 4 * n + 64), *u = aligned_alloc(64, 4 * n + 64);
    float *dy = aligned_alloc(64, 4 * n + 64), *dx = aligned_alloc(64, 4 * n + 64);
    srand(1);
    for (size_t i = 0; i < n; i++) { x[i] = (rand() / (float)RAND_MAX - 0.5f) * 6; dy[i] = rand() / (float)RAND_MAX; }
    const char *names[3] = {"best", "portable", "avx2"};
    printf("GELU on %zu floats (ns per element, best of 50):\n", n);
    for (int p = 0; p < 3; p++) {
        double bf = 1e9, bb = 1e9;
        for (int r = 0; r < 50; r++) {
            double t0 = now();
            ck_gelu_forward(x, y, u, n, p);
            double t1 = now();
            ck_gelu_backward(u, dy, dx, n, 0, p);
            double t2 = now();
            if (t1 - t0 < bf) bf = t1 - t0;
            if (t2 - t1 < bb) bb = t2 - t1;
        }
        printf("  %-8s forward %.2f, backward %.2f\n", names[p], bf / n * 1e9, bb / n * 1e9);
    }
    float *z = malloc(4L * B * K), *g = malloc(4L * B * K);
    int *lab = malloc(4L * B);
    for (long i = 0; i < (long)B * K; i++) z[i] = rand() / (float)RAND_MAX;
    for (int r = 0; r < B; r++) lab[r] = r % K;
    double loss, best = 1;
    if (!ck_softmax_xent(z, lab, g, B, K, &loss, 0)) {
        printf("softmax cross-entropy: no AVX-512 kernel on this CPU (or K > 64): the Swift path runs\n");
        return 0;
    }
    for (int r = 0; r < 2000; r++) {
        double t0 = now();
        ck_softmax_xent(z, lab, g, B, K, &loss, 0);
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("softmax cross-entropy %d × %d: %.2f µs (best of 2,000)\n", B, K, best * 1e6);
    double le = 0, ge = 0;
    const int bs[] = {1, 5, 16, 33, 128}, ks[] = {1, 3, 10, 17, 64};
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) check(bs[i], ks[j], &le, &ge);
    printf("  against float64, batches 1–128 × classes 1–64: loss %.1e relative, gradient %.1e × 1/B\n", le, ge);
    float bad[20] = {0};
    int two[2] = {1, 2};
    bad[3] = NAN;
    bad[15] = INFINITY;
    ck_softmax_xent(bad, two, g, 2, 10, &loss, 0);
    printf("  a NaN logit and a +inf logit: loss %g, gradients %g %g\n", loss, g[0], g[12]);
    return 0;
}
