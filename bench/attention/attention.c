// The attention core alone, one thread, for each kernel variant: GFLOP/s of the forward and
// backward passes (B images × H heads of N tokens, model width D), and the largest difference
// between the variants. Built by attention.sh with SwiftPM's C flags.
#include "ckernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }

static float *filled(size_t n, unsigned seed) {
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) & ~(size_t)63);
    for (size_t i = 0; i < n; i++) { seed = seed * 1664525u + 1013904223u; p[i] = ((seed >> 8) / 16777216.0f - 0.5f) * 2; }
    return p;
}

int main(int argc, char **argv) {
    int B = argc > 1 ? atoi(argv[1]) : 128, N = argc > 2 ? atoi(argv[2]) : 49;
    int D = argc > 3 ? atoi(argv[3]) : 64, H = argc > 4 ? atoi(argv[4]) : 4;
    const size_t rows = (size_t)B * N;
    float *qkv = filled(rows * 3 * D, 1), *dctx = filled(rows * D, 2);
    // 64-byte aligned, as the tool's workspace buffers are.
    float *scratch = filled(ck_attention_scratch(N, D, H), 3);
    const size_t np = ck_attention_probs(B, N, H);
    // Products: QKᵀ and PV forward (2 · N² · dh each, per image and head); dP, dV, dQ, dK backward.
    const double flop = 2.0 * B * H * N * N * (D / H);
    const char *names[] = {"best", "portable", "avx2"};
    // The variants alternate rep by rep, so that a slow spell of this shared machine hits both.
    float *probs[3], *ctx[3], *dqkv[3];
    double bf[3] = {1e9, 1e9, 1e9}, bb[3] = {1e9, 1e9, 1e9};
    for (int variant = 0; variant < 3; variant += 2) {
        probs[variant] = filled(np, 4);
        ctx[variant] = filled(rows * D, 5);
        dqkv[variant] = filled(rows * 3 * D, 6);
    }
    for (int rep = 0; rep < 40; rep++)
        for (int variant = 2; variant >= 0; variant -= 2) {
            double t0 = now();
            if (!ck_attention_forward(qkv, probs[variant], ctx[variant], B, N, D, H, scratch, variant)) { puts("unsupported"); return 1; }
            double t1 = now();
            ck_attention_backward(qkv, probs[variant], dctx, dqkv[variant], B, N, D, H, scratch, variant);
            double t2 = now();
            if (t1 - t0 < bf[variant]) bf[variant] = t1 - t0;
            if (t2 - t1 < bb[variant]) bb[variant] = t2 - t1;
        }
    for (int variant = 2; variant >= 0; variant -= 2) {
        double diff = 0;
        for (size_t i = 0; i < rows * D; i++) diff = fmax(diff, fabs(ctx[variant][i] - ctx[2][i]));
        for (size_t i = 0; i < rows * 3 * D; i++) diff = fmax(diff, fabs(dqkv[variant][i] - dqkv[2][i]));
        printf("%-5s B %d N %d D %d H %d: forward %.3f ms (%.1f GFLOP/s), backward %.3f ms (%.1f GFLOP/s), max |diff| vs avx2 %.2g\n",
               names[variant], B, N, D, H, bf[variant] * 1e3, 2 * flop / bf[variant] * 1e-9, bb[variant] * 1e3,
               4 * flop / bb[variant] * 1e-9, diff);
    }
    return 0;
}
