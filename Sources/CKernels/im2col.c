// im2col and its adjoint for Float NHWC batches, in C: the Swift loops spend more on loop control
// and overflow checks than on the copies when a window row is a short k·C run (few channels).
#include "ckernels.h"
#include "avx512.h"
#include <string.h>

// Small images (the common case for few channels: the 7×7 to 14×14 inputs of the EMC sweeps) go
// through a zero-padded copy of each sample instead: every window row is then one branch-free
// run of k·C floats, on AVX-512 a masked vector copy. 2–3× faster than the border tests below
// on 7×7×4 and 4×4×8 (a third of a small ResNet's step was im2col and its adjoint), and the same
// values: a copy is a copy, and the adjoint adds into the padded image in the same order.
enum { PADDED_MAX = 8192 };   // floats of the padded image, on the stack

int ck_im2col_padded(int height, int width, int channels, int pad) {
    // In 64 bits: a large image's product overflows an int, and a wrapped one would pass.
    return (long long)(height + 2 * pad) * (width + 2 * pad) * channels <= PADDED_MAX;
}

// p[(H+2·pad)·(W+2·pad)·C] ← sample x, rows placed inside the border (left untouched). Rows are
// short (W·C floats): a loop, not a memcpy call per row.
static inline void pad_in(const float *restrict x, float *restrict p, int height, int width, int C, int pad) {
    const int wp = width + 2 * pad, n = width * C;
    for (int h = 0; h < height; h++) {
        float *d = p + ((h + pad) * wp + pad) * C;
        const float *s = x + h * n;
        for (int j = 0; j < n; j++) d[j] = s[j];
    }
}

static inline void pad_out(const float *restrict p, float *restrict x, int height, int width, int C, int pad) {
    const int wp = width + 2 * pad, n = width * C;
    for (int h = 0; h < height; h++) {
        const float *s = p + ((h + pad) * wp + pad) * C;
        float *d = x + h * n;
        for (int j = 0; j < n; j++) d[j] = s[j];
    }
}

static void im2col_padded(const float *restrict x, float *restrict col, int batch, int height, int width, int C,
                          int k, int stride, int pad, int out_height, int out_width) {
    const int wp = width + 2 * pad, run = k * C;
    float p[PADDED_MAX];
    memset(p, 0, sizeof(float) * (height + 2 * pad) * wp * C);
    float *dst = col;
    for (int b = 0; b < batch; b++) {
        pad_in(x + (size_t)b * height * width * C, p, height, width, C, pad);
        for (int oh = 0; oh < out_height; oh++)
            for (int ow = 0; ow < out_width; ow++)
                for (int kh = 0; kh < k; kh++, dst += run) {
                    const float *src = p + ((oh * stride + kh) * wp + ow * stride) * C;
                    for (int j = 0; j < run; j++) dst[j] = src[j];
                }
    }
}

static void col2im_padded(const float *restrict dcol, float *restrict dx, int batch, int height, int width, int C,
                          int k, int stride, int pad, int out_height, int out_width) {
    const int hp = height + 2 * pad, wp = width + 2 * pad, run = k * C;
    float p[PADDED_MAX];
    memset(p, 0, sizeof(float) * hp * wp * C);   // the border only collects the overhang, never read
    const float *src = dcol;
    for (int b = 0; b < batch; b++) {
        float *xb = dx + (size_t)b * height * width * C;
        pad_in(xb, p, height, width, C, pad);
        for (int oh = 0; oh < out_height; oh++)
            for (int ow = 0; ow < out_width; ow++)
                for (int kh = 0; kh < k; kh++, src += run) {
                    float *d = p + ((oh * stride + kh) * wp + ow * stride) * C;
                    for (int j = 0; j < run; j++) d[j] += src[j];
                }
        pad_out(p, xb, height, width, C, pad);
    }
}

#if defined(__x86_64__)
static T512 void im2col_padded512(const float *restrict x, float *restrict col, int batch, int height, int width, int C,
                                  int k, int stride, int pad, int out_height, int out_width) {
    const int wp = width + 2 * pad, run = k * C, full = run / 16;
    const __mmask16 tail = firstLanes(run - 16 * full);
    float p[PADDED_MAX + 16];   // the tail's masked lanes are not read, but stay in bounds anyway
    memset(p, 0, sizeof(float) * (height + 2 * pad) * wp * C);
    float *dst = col;
    for (int b = 0; b < batch; b++) {
        pad_in(x + (size_t)b * height * width * C, p, height, width, C, pad);
        for (int oh = 0; oh < out_height; oh++)
            for (int ow = 0; ow < out_width; ow++)
                for (int kh = 0; kh < k; kh++, dst += run) {
                    const float *src = p + ((oh * stride + kh) * wp + ow * stride) * C;
                    int j = 0;
                    for (int f = 0; f < full; f++, j += 16) _mm512_storeu_ps(dst + j, _mm512_loadu_ps(src + j));
                    if (tail) _mm512_mask_storeu_ps(dst + j, tail, _mm512_maskz_loadu_ps(tail, src + j));
                }
    }
}
#endif

// Which copy runs: 0 the border tests, 1 padded, 2 padded with AVX-512 (ck_im2col_variant).
static int variant(int height, int width, int channels, int pad, int allow) {
    if (allow < 1 || !ck_im2col_padded(height, width, channels, pad)) return 0;
#if defined(__x86_64__)
    if (allow >= 2 && ck_avx512_available()) return 2;
#endif
    return 1;
}

// col[B·Ho·Wo, k·k·C] ← x[B,H,W,C]; zeros where the window hangs over the padding.
void ck_im2col_variant(const float *restrict x, float *restrict col, int batch, int height, int width, int channels,
                       int k, int stride, int pad, int out_height, int out_width, int allow) {
    switch (variant(height, width, channels, pad, allow)) {
#if defined(__x86_64__)
    case 2: return im2col_padded512(x, col, batch, height, width, channels, k, stride, pad, out_height, out_width);
#endif
    case 1: return im2col_padded(x, col, batch, height, width, channels, k, stride, pad, out_height, out_width);
    default: break;
    }
    const int C = channels, run = k * C;
    float *dst = col;
    for (int b = 0; b < batch; b++) {
        const float *xb = x + (size_t)b * height * width * C;
        for (int oh = 0; oh < out_height; oh++) {
            for (int ow = 0; ow < out_width; ow++) {
                const int iw0 = ow * stride - pad;
                const int inside = iw0 >= 0 && iw0 + k <= width;
                for (int kh = 0; kh < k; kh++, dst += run) {
                    const int ih = oh * stride - pad + kh;
                    if (ih < 0 || ih >= height) { memset(dst, 0, sizeof(float) * run); continue; }
                    const float *row = xb + (size_t)ih * width * C;
                    if (inside) {
                        const float *src = row + iw0 * C;
                        for (int j = 0; j < run; j++) dst[j] = src[j];
                        continue;
                    }
                    for (int kw = 0; kw < k; kw++) {
                        const int iw = iw0 + kw;
                        float *d = dst + kw * C;
                        if (iw < 0 || iw >= width) for (int j = 0; j < C; j++) d[j] = 0;
                        else for (int j = 0; j < C; j++) d[j] = row[iw * C + j];
                    }
                }
            }
        }
    }
}

// dx[B,H,W,C] += the scatter of dcol[B·Ho·Wo, k·k·C]: the adjoint of ck_im2col.
void ck_col2im_add_variant(const float *restrict dcol, float *restrict dx, int batch, int height, int width, int channels,
                           int k, int stride, int pad, int out_height, int out_width, int allow) {
    switch (variant(height, width, channels, pad, allow)) {
    // No AVX-512 form: consecutive windows overlap, and a masked add over the last one's masked
    // store stalls (no store forwarding): 1.5–2× slower than these scalar adds for 2–3 channels.
    case 1: case 2: return col2im_padded(dcol, dx, batch, height, width, channels, k, stride, pad, out_height, out_width);
    default: break;
    }
    const int C = channels, run = k * C;
    const float *src = dcol;
    for (int b = 0; b < batch; b++) {
        float *xb = dx + (size_t)b * height * width * C;
        for (int oh = 0; oh < out_height; oh++) {
            for (int ow = 0; ow < out_width; ow++) {
                const int iw0 = ow * stride - pad;
                const int inside = iw0 >= 0 && iw0 + k <= width;
                for (int kh = 0; kh < k; kh++, src += run) {
                    const int ih = oh * stride - pad + kh;
                    if (ih < 0 || ih >= height) continue;
                    float *row = xb + (size_t)ih * width * C;
                    if (inside) {
                        float *d = row + iw0 * C;
                        for (int j = 0; j < run; j++) d[j] += src[j];
                        continue;
                    }
                    for (int kw = 0; kw < k; kw++) {
                        const int iw = iw0 + kw;
                        if (iw >= 0 && iw < width) for (int j = 0; j < C; j++) row[iw * C + j] += src[kw * C + j];
                    }
                }
            }
        }
    }
}

void ck_im2col(const float *x, float *col, int batch, int height, int width, int channels, int k, int stride, int pad,
               int out_height, int out_width) {
    ck_im2col_variant(x, col, batch, height, width, channels, k, stride, pad, out_height, out_width, 2);
}

void ck_col2im_add(const float *dcol, float *dx, int batch, int height, int width, int channels, int k, int stride,
                   int pad, int out_height, int out_width) {
    ck_col2im_add_variant(dcol, dx, batch, height, width, channels, k, stride, pad, out_height, out_width, 2);
}
