// im2col and its adjoint for Float NHWC batches, in C: the Swift loops spend more on loop control
// and overflow checks than on the copies when a window row is a short k·C run (few channels).
#include "ckernels.h"
#include <string.h>

// col[B·Ho·Wo, k·k·C] ← x[B,H,W,C]; zeros where the window hangs over the padding.
void ck_im2col(const float *restrict x, float *restrict col, int batch, int height, int width, int channels,
               int k, int stride, int pad, int out_height, int out_width) {
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
void ck_col2im_add(const float *restrict dcol, float *restrict dx, int batch, int height, int width, int channels,
                   int k, int stride, int pad, int out_height, int out_width) {
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
