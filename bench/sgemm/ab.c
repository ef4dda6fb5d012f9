// The AVX2 sgemm and softmax cross-entropy of a git revision ("old": ck_sgemm256 and
// ck_softmax_xent256 renamed old_…) against the working tree's — or, built with -DWIDE, the
// AVX-512 ones (ck_sgemm_epilogue and ck_softmax_xent512) — in one process: first the bits,
// over a grid of shapes, transpositions and epilogues, and of batch sizes and class counts with
// NaN, ±∞ and tied logits (a change meant to keep them must pass), then the speed of the EMC
// search's products and loss, the two alternating window by window (new/old: the median of the
// rounds' ratios). Built by bench/sgemm/ab.sh.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ckernels.h"

typedef void Sgemm(int, int, int, int, int, float, const float *, long, const float *, long, float, float *, long,
                   const float *, int, const float *, float *);
typedef double Loss(const float *, const int *, float *, int, int, int *);
#ifdef WIDE
// sgemm.c's entry, forced onto its own kernel (always = 1).
typedef int Entry(int, int, int, int, int, float, const float *, int, const float *, int, float, float *, int,
                  const float *, int, const float *, int);
Entry ck_sgemm_epilogue, old_sgemm_epilogue;
static void newSgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, long lda, const float *b, long ldb,
                     float beta, float *c, long ldc, const float *bias, int op, const float *e, float *buf) {
    (void)buf;
    ck_sgemm_epilogue(ta, tb, m, n, k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc, bias, op, e, 1);
}
static void oldSgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, long lda, const float *b, long ldb,
                     float beta, float *c, long ldc, const float *bias, int op, const float *e, float *buf) {
    (void)buf;
    old_sgemm_epilogue(ta, tb, m, n, k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc, bias, op, e, 1);
}
Loss ck_softmax_xent512, old_softmax_xent512;
#define NEW_SGEMM newSgemm
#define OLD_SGEMM oldSgemm
#define NEW_LOSS ck_softmax_xent512
#define OLD_LOSS old_softmax_xent512
#else
Sgemm ck_sgemm256, old_sgemm256;
Loss ck_softmax_xent256, old_softmax_xent256;
#define NEW_SGEMM ck_sgemm256
#define OLD_SGEMM old_sgemm256
#define NEW_LOSS ck_softmax_xent256
#define OLD_LOSS old_softmax_xent256
#endif

typedef struct { int ta, tb, m, n, k; float alpha, beta; int bias, op; } Product;
static float *A, *B, *E, *bias, *buf;

static void run(Sgemm *f, Product g, float *c) {
    f(g.ta, g.tb, g.m, g.n, g.k, g.alpha, A, g.ta ? g.m : g.k, B, g.tb ? g.k : g.n, g.beta, c, g.n, g.bias ? bias : NULL,
      g.op, g.op >= CK_EPILOGUE_MASK ? E : NULL, buf);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp(const void *x, const void *y) { return *(const double *)x < *(const double *)y ? -1 : 1; }

int main(int argc, char **argv) {
    const long big = 1024L * 1024;
    A = malloc(4 * big), B = malloc(4 * big), E = malloc(4 * big), bias = malloc(4 * 1024);
    float *c1 = malloc(4 * big), *c2 = malloc(4 * big);
    buf = aligned_alloc(64, 4L * 512 * 1024);
    srand(3);
    for (long i = 0; i < big; i++) A[i] = rand() / (float)RAND_MAX - .5f, B[i] = rand() / (float)RAND_MAX - .5f,
                                    E[i] = rand() / (float)RAND_MAX - .5f;
    for (int i = 0; i < 1024; i++) bias[i] = rand() / (float)RAND_MAX - .5f;
    int ms[] = {1, 5, 6, 7, 12, 13, 64, 160, 241, 500}, ns[] = {1, 3, 8, 9, 10, 16, 17, 32, 33, 64, 100, 1030};
    int ks[] = {1, 7, 10, 32, 64, 129, 300, 600}, differ = 0, total = 0;
    for (int ta = 0; ta < 2; ta++) for (int tb = 0; tb < 2; tb++)
    for (int mi = 0; mi < 10; mi++) for (int ni = 0; ni < 12; ni++) for (int ki = 0; ki < 8; ki++)
    for (int ep = 0; ep < 7; ep++) {
        Product g = {ta, tb, ms[mi], ns[ni], ks[ki], 1, 0, 0, CK_EPILOGUE_NONE};
        if (ep == 1) g.bias = 1, g.op = CK_EPILOGUE_RELU;
        if (ep == 2) g.op = CK_EPILOGUE_MASK;
        if (ep == 3) g.alpha = 0.5f, g.beta = 1;
        if (ep == 4) g.beta = 0.25f, g.bias = 1, g.op = CK_EPILOGUE_ADD;
        if (ep == 5) g.op = CK_EPILOGUE_MULTIPLY, g.alpha = -2;
        if (ep == 6) g.bias = 1;
        long size = (long)g.m * g.n;
        for (long i = 0; i < size; i++) c1[i] = c2[i] = E[i + 7];  // C's old values, for beta
        run(OLD_SGEMM, g, c1);
        run(NEW_SGEMM, g, c2);
        total++;
        if (memcmp(c1, c2, 4 * size) && ++differ <= 10)
            printf("bits differ: %c%c %d × %d × %d, epilogue case %d\n", "nt"[ta], "nt"[tb], g.m, g.n, g.k, ep);
    }
    printf("bits: %d of %d products differ\n", differ, total);
    // The loss: its value, gradient and correct-row count (and the value without a gradient).
    int lossDiffer = 0, lossTotal = 0, Bs[] = {1, 3, 7, 8, 9, 16, 17, 100, 160, 641}, Ks[] = {1, 2, 3, 7, 8, 9, 10, 15, 16, 17, 33, 64};
    int *labels = malloc(4 * 641);
    for (int bi = 0; bi < 10; bi++) for (int ki = 0; ki < 12; ki++) for (int kind = 0; kind < 3; kind++) {
        const int nb = Bs[bi], K = Ks[ki];
        for (long i = 0; i < (long)nb * K; i++) E[i] = kind == 2 ? (float)(rand() % 3) : 8 * (rand() / (float)RAND_MAX - .5f);
        if (kind == 1) E[rand() % (nb * K)] = NAN, E[rand() % (nb * K)] = INFINITY, E[rand() % (nb * K)] = -INFINITY;
        for (int i = 0; i < nb; i++) labels[i] = rand() % K;
        int r1 = -1, r2 = -2;
        memset(c1, 0x55, 4L * nb * K + 64), memset(c2, 0x55, 4L * nb * K + 64);  // and nothing written past the gradient
        double l1 = OLD_LOSS(E, labels, c1, nb, K, &r1), l2 = NEW_LOSS(E, labels, c2, nb, K, &r2);
        double l3 = NEW_LOSS(E, labels, NULL, nb, K, NULL);
        lossTotal++;
        if ((memcmp(&l1, &l2, 8) || memcmp(&l1, &l3, 8) || r1 != r2 || memcmp(c1, c2, 4L * nb * K + 64)) && ++lossDiffer <= 10)
            printf("loss bits differ: %d rows of %d classes, case %d\n", nb, K, kind);
    }
    printf("bits: %d of %d losses differ\n", lossDiffer, lossTotal);
    differ += lossDiffer;
    // A 64-32-10 MLP's products at n = 160 (forward with bias and ReLU, weight and input
    // gradients), a wider layer's, and a large square one.
    Product hot[] = {{0, 1, 160, 32, 64, 1, 0, 1, CK_EPILOGUE_RELU}, {0, 1, 160, 10, 32, 1, 0, 1, CK_EPILOGUE_NONE},
                     {1, 0, 10, 32, 160, 1, 0, 0, CK_EPILOGUE_NONE}, {0, 0, 160, 32, 10, 1, 0, 0, CK_EPILOGUE_MASK},
                     {1, 0, 32, 64, 160, 1, 0, 0, CK_EPILOGUE_NONE}, {0, 1, 640, 64, 196, 1, 0, 1, CK_EPILOGUE_RELU},
                     {0, 1, 1024, 1024, 1024, 1, 0, 0, CK_EPILOGUE_NONE}};
    const int rounds = argc > 1 ? atoi(argv[1]) : 15;
    printf("| op | M × N × K | epilogue | old GFLOP/s | new GFLOP/s | new / old (median, range) |\n");
    printf("| --- | --- | --- | ---: | ---: | ---: |\n");
    for (int h = 0; h < (int)(sizeof hot / sizeof *hot); h++) {
        Product g = hot[h];
        double flops = 2.0 * g.m * g.n * g.k, r[64], best[2] = {1e9, 1e9};
        int reps = (int)(2e7 / flops) + 1;
        for (int rd = 0; rd < rounds && rd < 64; rd++) {
            double t[2];
            for (int w = 0; w < 2; w++) {
                int which = rd & 1 ? 1 - w : w;  // the order alternates by round
                double t0 = now();
                for (int i = 0; i < reps; i++) run(which ? NEW_SGEMM : OLD_SGEMM, g, c1);
                t[which] = (now() - t0) / reps;
                if (t[which] < best[which]) best[which] = t[which];
            }
            r[rd] = t[0] / t[1];
        }
        qsort(r, rounds, sizeof *r, cmp);
        const char *op = (const char *[]){"", "ReLU", "mask"}[g.op];
        printf("| %c%c | %d × %d × %d | %s | %.1f | %.1f | %.2f (%.2f–%.2f) |\n", "nt"[g.ta], "nt"[g.tb], g.m, g.n, g.k,
               g.bias ? (*op ? "bias, ReLU" : "bias") : *op ? op : "–", flops / best[0] * 1e-9,
               flops / best[1] * 1e-9, r[rounds / 2], r[0], r[rounds - 1]);
    }
    {   // the loss of 160 rows of 10 classes, with its gradient and correct-row count
        const int nb = 160, K = 10, reps = 20000;
        for (long i = 0; i < (long)nb * K; i++) E[i] = 8 * (rand() / (float)RAND_MAX - .5f);
        for (int i = 0; i < nb; i++) labels[i] = rand() % K;
        double r[64], best[2] = {1e9, 1e9};
        for (int rd = 0; rd < rounds && rd < 64; rd++) {
            double t[2];
            for (int w = 0; w < 2; w++) {
                int which = rd & 1 ? 1 - w : w, right;
                double t0 = now();
                for (int i = 0; i < reps; i++) (which ? NEW_LOSS : OLD_LOSS)(E, labels, c1, nb, K, &right);
                t[which] = (now() - t0) / reps;
                if (t[which] < best[which]) best[which] = t[which];
            }
            r[rd] = t[0] / t[1];
        }
        qsort(r, rounds, sizeof *r, cmp);
        printf("\nsoftmax cross-entropy, %d rows of %d classes: old %.2f µs, new %.2f µs, new / old %.2f (%.2f–%.2f)\n", nb, K,
               best[0] * 1e6, best[1] * 1e6, r[rounds / 2], r[0], r[rounds - 1]);
    }
    return differ != 0;
}
