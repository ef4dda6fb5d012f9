// Overparam's sgemm (Sources/CKernels/sgemm.c) against OpenBLAS's on one product shape, both on
// the same operands, alternating, best of 21 repetitions each. Built by bench/sgemm/shapes.sh.
#include <cblas.h>
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

int main(int argc, char **argv) {
    if (argc != 5 || (argv[1][0] != 'n' && argv[1][0] != 't') || (argv[1][1] != 'n' && argv[1][1] != 't')) {
        fprintf(stderr, "usage: shapes {nn|nt|tn|tt} M N K\n");
        return 2;
    }
    int ta = argv[1][0] == 't', tb = argv[1][1] == 't';
    int m = atoi(argv[2]), n = atoi(argv[3]), k = atoi(argv[4]);
    float *a = malloc(4L * m * k), *b = malloc(4L * n * k), *c = malloc(4L * m * n), *r = malloc(4L * m * n);
    srand(1);
    for (long i = 0; i < (long)m * k; i++) a[i] = rand() / (float)RAND_MAX - 0.5f;
    for (long i = 0; i < (long)n * k; i++) b[i] = rand() / (float)RAND_MAX - 0.5f;
    int lda = ta ? m : k, ldb = tb ? k : n;
#define OPENBLAS() cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, \
                               m, n, k, 1, a, lda, b, ldb, 0, r, n)
#define OWN() ck_sgemm(ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, n, NULL, 1)
    OPENBLAS();
    if (!OWN()) { fprintf(stderr, "this CPU has no AVX-512: only OpenBLAS runs\n"); return 1; }
    double err = 0, mag = 0;
    for (long i = 0; i < (long)m * n; i++) { err = fmax(err, fabs(c[i] - r[i])); mag = fmax(mag, fabs(r[i])); }
    double flops = 2.0 * m * n * k, tb_ = 1e9, to = 1e9;
    int reps = (int)(1e8 / flops) + 1;
    for (int rep = 0; rep < 21; rep++) {
        double t0 = now();
        for (int i = 0; i < reps; i++) OPENBLAS();
        double t = (now() - t0) / reps;
        if (t < tb_) tb_ = t;
        t0 = now();
        for (int i = 0; i < reps; i++) OWN();
        t = (now() - t0) / reps;
        if (t < to) to = t;
    }
    printf("| %s | %d × %d × %d | %.1f | %.1f | %.2f | %.0e |\n", argv[1], m, n, k, flops / tb_ * 1e-9,
           flops / to * 1e-9, tb_ / to, err / (mag > 0 ? mag : 1));
    return 0;
}
