// What sgemm.c (AVX-512) and sgemm256.c (AVX2) share: private to CKernels.
#ifndef CKERNELS_SGEMM_H
#define CKERNELS_SGEMM_H

// Whether op(B)'s rows are read in place: untransposed, with a row stride that spreads a
// panel's rows over L1's sets (a multiple of 512 bytes maps them onto a few sets, which then
// evict each other). Under a transposed A (the weight gradients, whose strided reads the
// prefetchers already follow) where a panel is B's whole rows, so contiguous as packing would
// make it, or where C has few rows (m ≤ 256): few row tiles share each panel, so packing B costs
// about as much as reading it in place (64 × 784 × 128, (b)'s first layer: 1.10–1.23×; with more
// rows, 512 × 784 × 128, packed and in place measured alike, 0.96–1.2 both ways).
static inline int ck_sgemm_b_in_place(int transA, int transB, long ldb, int NR, int m) {
    long bytes = ldb * 4, g = 1;
    while (g < 4096 && bytes % (2 * g) == 0) g *= 2;
    return (!transA || ldb <= NR || m <= 256) && !transB && g <= 256;
}

// The depth of a K slice for a C of n columns: the AVX-512 tile's panel of KC × its width is
// 32 KiB. Each slice's sum starts from zero and is then added to C, so the slices decide the
// bits: both kernels slice by this rule.
static inline int ck_sgemm_k_slice(int n) { return n > 48 ? 128 : n > 16 ? 256 : 512; }

#if defined(__x86_64__)
// sgemm.c's product on AVX2 + FMA (sgemm256.c); buf holds 512 × 1024 floats.
void ck_sgemm256(int transA, int transB, int m, int n, int k, float alpha, const float *a, long lda, const float *b,
                 long ldb, float beta, float *c, long ldc, const float *bias, int op, const float *e, float *buf);
#endif

#endif
