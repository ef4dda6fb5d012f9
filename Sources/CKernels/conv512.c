// Stride-1 convolutions of NHWC batches straight from the (zero-padded) image, forward and
// weight gradient (the input gradient is a forward convolution of dy), without the im2col
// patch matrix: a k×k convolution with 16–64 input channels writes and reads back a
// patch matrix k² times the size of its input, which cost a ResNet's 32×32 layers a third of
// their time, and its input gradient as a product with only C_out deep went on to be scattered
// back (col2im). Here one sample's padded image stays in L1/L2 and each register tile of output
// pixels × channels accumulates over all k² taps and input channels before it is stored once.
//
// Why the tiles run over "padded-width" positions: with the image padded to Hp × Wp, output
// pixel (oh, ow) at q = oh·Wp + ow reads tap (kh, kw) at padded pixel q + kh·Wp + kw, so a run
// of consecutive q is a run of consecutive input pixels for every tap — one base pointer and
// constant offsets (the channel count is a compile-time constant) — across row ends. The
// positions with ow ≥ Wo are computed and dropped (Wp − Wo of every Wp).
#include "ckernels.h"
#include <string.h>

#if defined(__x86_64__)
#include "avx512.h"

// One tile: NP positions from q0 × 16·NV output channels, over taps × C input channels.
// xp: padded image, pixel stride C. wt: [taps·C][ldw] (the tile's columns at wt). y: output
// rows of ldy floats, row oh·wo + ow; `nr` valid columns. Adds into y when add.
AI T512 void convTile(int NV, int NP, int C, const float *xp, int q0, const int *off, int taps, const float *wt,
                      int ldw, float *y, int ldy, int nr, const float *bias, int add, int wp, int wo, int qEnd) {
    __m512 acc[28][4];
    _Pragma("unroll")
    for (int i = 0; i < NP; i++)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
    for (int t = 0; t < taps; t++) {
        const float *xt = xp + (long)(q0 + off[t]) * C;
        const float *wtap = wt + (long)t * C * ldw;
        for (int c = 0; c < C; c++) {
            __m512 bv[4];
            _Pragma("unroll")
            for (int v = 0; v < NV; v++) bv[v] = _mm512_loadu_ps(wtap + (long)c * ldw + 16 * v);
            _Pragma("unroll")
            for (int i = 0; i < NP; i++) {
                const __m512 a = _mm512_set1_ps(xt[i * C + c]);
                _Pragma("unroll")
                for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(a, bv[v], acc[i][v]);
            }
        }
    }
    __m512 b[4];
    _Pragma("unroll")
    for (int v = 0; v < NV; v++)
        b[v] = bias ? _mm512_maskz_loadu_ps(firstLanes(nr - 16 * v), bias + 16 * v) : _mm512_setzero_ps();
    _Pragma("unroll")
    for (int i = 0; i < NP; i++) {
        const int q = q0 + i, oh = q / wp, ow = q - oh * wp;
        if (q >= qEnd || ow >= wo) continue;
        float *p = y + (long)(oh * wo + ow) * ldy;
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) {
            const __mmask16 m = firstLanes(nr - 16 * v);
            __m512 r = _mm512_add_ps(acc[i][v], b[v]);
            if (add) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(m, p + 16 * v));
            _mm512_mask_storeu_ps(p + 16 * v, m, r);
        }
    }
}

// All tiles of one padded image, column block by column block. Literal NV, NP and C, so that
// each variant is compiled with its accumulators in registers and constant input offsets.
AI T512 void convImage(int NV, int NP, int C, const float *xp, const int *off, int taps, const float *wt, int cout,
                       float *y, const float *bias, int add, int wp, int wo, int qEnd) {
    for (int j = 0; j < cout; j += 16 * NV) {
        const int nr = cout - j < 16 * NV ? cout - j : 16 * NV;
        for (int q0 = 0; q0 < qEnd; q0 += NP)
            convTile(NV, NP, C, xp, q0, off, taps, wt + j, cout, y + j, cout, nr, bias ? bias + j : NULL, add, wp, wo,
                     qEnd);
    }
}

// The batch, one sample's padded image at a time (its borders stay zero from the caller's memset).
static T512 void convBatch(const float *x, const float *wt, const float *bias, float *y, int batch, int height,
                           int width, int C, int k, int pad, int out_channels, int add, float *scratch, const int *off,
                           int qEnd) {
    const int wp = width + 2 * pad, ho = height + 2 * pad - k + 1, wo = wp - k + 1;
    // Widest tile that fits: 16·NV columns of NP positions in 28 of the 32 registers.
    const int nv = out_channels % 64 == 0 ? 4 : out_channels % 32 == 0 ? 2 : 1;
    for (int b = 0; b < batch; b++) {
        const float *xb = x + (size_t)b * height * width * C;
        for (int h = 0; h < height; h++)
            memcpy(scratch + ((size_t)(h + pad) * wp + pad) * C, xb + (size_t)h * width * C, sizeof(float) * width * C);
        float *yb = y + (size_t)b * ho * wo * out_channels;
#define IMAGE(NV, NP, CC) convImage(NV, NP, CC, scratch, off, k * k, wt, out_channels, yb, bias, add, wp, wo, qEnd)
#define CHANNELS(NV, NP) \
    if (C == 3) IMAGE(NV, NP, 3); else if (C == 16) IMAGE(NV, NP, 16); else if (C == 32) IMAGE(NV, NP, 32); else IMAGE(NV, NP, 64)
        if (nv == 4) { CHANNELS(4, 6); } else if (nv == 2) { CHANNELS(2, 14); } else { CHANNELS(1, 28); }
#undef CHANNELS
#undef IMAGE
    }
}

// Weight-gradient tile: dwt[t·C + c0 + i, o0 : o0 + 16·NV] += Σ_(oh, ow) xpad[oh + kh, ow + kw, c0 + i] ·
// dy[oh, ow, o0 : …] for i < CB, over one padded image, in registers until the image is done.
AI T512 void wgradTile(int NV, int CB, int C, const float *xp, int tapOffset, const float *dy, int ldy, int ho, int wo,
                       int wp, float *dwt, int lddw) {
    __m512 acc[16][4];
    _Pragma("unroll")
    for (int i = 0; i < CB; i++)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
    for (int oh = 0; oh < ho; oh++) {
        const float *xr = xp + (long)(oh * wp + tapOffset) * C;
        const float *dr = dy + (long)oh * wo * ldy;
        for (int ow = 0; ow < wo; ow++) {
            __m512 d[4];
            _Pragma("unroll")
            for (int v = 0; v < NV; v++) d[v] = _mm512_loadu_ps(dr + (long)ow * ldy + 16 * v);
            _Pragma("unroll")
            for (int i = 0; i < CB; i++) {
                const __m512 a = _mm512_set1_ps(xr[ow * C + i]);
                _Pragma("unroll")
                for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(a, d[v], acc[i][v]);
            }
        }
    }
    _Pragma("unroll")
    for (int i = 0; i < CB; i++)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) {
            float *p = dwt + (long)i * lddw + 16 * v;
            _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[i][v]));
        }
}

// Three input channels leave a channel-blocked tile 3 accumulator chains, bound by the FMA
// latency: here one tile takes TB taps × 3 channels (TB·3 ≤ 27 accumulators) of 16 outputs.
AI T512 void wgradTapsTile(int TB, const float *xp, const int *off, const float *dy, int ldy, int ho, int wo, int wp,
                           float *dwt, int lddw) {
    __m512 acc[27];
    _Pragma("unroll")
    for (int i = 0; i < 3 * TB; i++) acc[i] = _mm512_setzero_ps();
    for (int oh = 0; oh < ho; oh++) {
        const float *xr = xp + (long)oh * wp * 3;
        const float *dr = dy + (long)oh * wo * ldy;
        for (int ow = 0; ow < wo; ow++) {
            const __m512 d = _mm512_loadu_ps(dr + (long)ow * ldy);
            const float *xo = xr + ow * 3;
            _Pragma("unroll")
            for (int j = 0; j < TB; j++)
                _Pragma("unroll")
                for (int c = 0; c < 3; c++) acc[3 * j + c] = _mm512_fmadd_ps(_mm512_set1_ps(xo[off[j] * 3 + c]), d, acc[3 * j + c]);
        }
    }
    _Pragma("unroll")
    for (int j = 0; j < TB; j++)
        _Pragma("unroll")
        for (int c = 0; c < 3; c++) {
            float *p = dwt + ((long)j * 3 + c) * lddw;
            _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), acc[3 * j + c]));
        }
}

// All of one image's weight-gradient tiles: taps × C/CB channel blocks × Cout/(16·NV) column blocks.
AI T512 void wgradImage(int NV, int CB, int C, const float *xp, const int *off, int taps, const float *dy, int cout,
                        int ho, int wo, int wp, float *dwt) {
    if (C == 3) {
        for (int t = 0; t < taps; t += 9)
            for (int j = 0; j < cout; j += 16) {
                if (taps - t >= 9) wgradTapsTile(9, xp, off + t, dy + j, cout, ho, wo, wp, dwt + (long)t * 3 * cout + j, cout);
                else
                    for (int u = t; u < taps; u++)
                        wgradTapsTile(1, xp, off + u, dy + j, cout, ho, wo, wp, dwt + (long)u * 3 * cout + j, cout);
            }
        return;
    }
    for (int t = 0; t < taps; t++)
        for (int c0 = 0; c0 < C; c0 += CB)
            for (int j = 0; j < cout; j += 16 * NV)
                wgradTile(NV, CB, C, xp + c0, off[t], dy + j, cout, ho, wo, wp, dwt + ((long)t * C + c0) * cout + j, cout);
}

static T512 void wgradBatch(const float *x, const float *dy, float *dwt, float *db, int batch, int height, int width,
                            int C, int k, int pad, int cout, float *scratch, const int *off) {
    const int wp = width + 2 * pad, ho = height + 2 * pad - k + 1, wo = wp - k + 1;
    const int nv = cout % 64 == 0 ? 4 : cout % 32 == 0 ? 2 : 1;
    for (int b = 0; b < batch; b++) {
        const float *xb = x + (size_t)b * height * width * C;
        for (int h = 0; h < height; h++)
            memcpy(scratch + ((size_t)(h + pad) * wp + pad) * C, xb + (size_t)h * width * C, sizeof(float) * width * C);
        const float *dyb = dy + (size_t)b * ho * wo * cout;
        // 16 accumulators: CB input channels × NV vectors of output channels.
#define IMAGE(NV, CB, CC) wgradImage(NV, CB, CC, scratch, off, k * k, dyb, cout, ho, wo, wp, dwt)
#define CHANNELS(NV, CB) \
    if (C == 3) IMAGE(1, 3, 3); else if (C == 16) IMAGE(NV, CB, 16); else if (C == 32) IMAGE(NV, CB, 32); else IMAGE(NV, CB, 64)
        if (nv == 4) { CHANNELS(4, 4); } else if (nv == 2) { CHANNELS(2, 8); } else { CHANNELS(1, 16); }
#undef CHANNELS
#undef IMAGE
        if (db)
            for (int j = 0; j < cout; j += 16) {
                __m512 s = _mm512_setzero_ps();
                for (int q = 0; q < ho * wo; q++) s = _mm512_add_ps(s, _mm512_loadu_ps(dyb + (long)q * cout + j));
                _mm512_storeu_ps(db + j, _mm512_add_ps(_mm512_loadu_ps(db + j), s));
            }
    }
}

size_t ck_conv_direct_scratch(int height, int width, int channels, int k, int pad) {
    const size_t hp = (size_t)height + 2 * pad, wp = (size_t)width + 2 * pad;
    return (hp * wp + 28 + (size_t)k * wp) * channels;  // slack: the last tile's positions past the image
}

int ck_conv_direct(const float *x, const float *wt, const float *bias, float *y, int batch, int height, int width,
                   int channels, int k, int pad, int out_channels, int add, float *scratch, int portable) {
    const int C = channels;
    if (portable != 0 || !ck_avx512_available() || k < 1 || k > 7 || pad < 0 || pad >= k) return 0;
    if (C != 3 && C != 16 && C != 32 && C != 64) return 0;
    if (out_channels % 16 != 0 || out_channels > 256) return 0;
    const int hp = height + 2 * pad, wp = width + 2 * pad, ho = hp - k + 1, wo = wp - k + 1;
    if (ho < 1 || wo < 1) return 0;
    const int qEnd = (ho - 1) * wp + wo;  // one past the last valid output position
    int off[49];
    for (int kh = 0; kh < k; kh++)
        for (int kw = 0; kw < k; kw++) off[kh * k + kw] = kh * wp + kw;
    memset(scratch, 0, sizeof(float) * ck_conv_direct_scratch(height, width, C, k, pad));
    convBatch(x, wt, bias, y, batch, height, width, C, k, pad, out_channels, add, scratch, off, qEnd);
    return 1;
}

int ck_conv_direct_wgrad(const float *x, const float *dy, float *dwt, float *db, int batch, int height, int width,
                         int channels, int k, int pad, int out_channels, float *scratch, int portable) {
    const int C = channels;
    if (portable != 0 || !ck_avx512_available() || k < 1 || k > 7 || pad < 0 || pad >= k) return 0;
    if (C != 3 && C != 16 && C != 32 && C != 64) return 0;
    if (out_channels % 16 != 0 || out_channels > 256) return 0;
    const int wp = width + 2 * pad;
    if (height + 2 * pad - k + 1 < 1 || wp - k + 1 < 1) return 0;
    int off[49];
    for (int kh = 0; kh < k; kh++)
        for (int kw = 0; kw < k; kw++) off[kh * k + kw] = kh * wp + kw;
    memset(scratch, 0, sizeof(float) * ck_conv_direct_scratch(height, width, C, k, pad));
    wgradBatch(x, dy, dwt, db, batch, height, width, C, k, pad, out_channels, scratch, off);
    return 1;
}

#else

size_t ck_conv_direct_scratch(int height, int width, int channels, int k, int pad) {
    (void)height; (void)width; (void)channels; (void)k; (void)pad;
    return 1;
}

int ck_conv_direct(const float *x, const float *wt, const float *bias, float *y, int batch, int height, int width,
                   int channels, int k, int pad, int out_channels, int add, float *scratch, int portable) {
    (void)x; (void)wt; (void)bias; (void)y; (void)batch; (void)height; (void)width; (void)channels; (void)k;
    (void)pad; (void)out_channels; (void)add; (void)scratch; (void)portable;
    return 0;
}

int ck_conv_direct_wgrad(const float *x, const float *dy, float *dwt, float *db, int batch, int height, int width,
                         int channels, int k, int pad, int out_channels, float *scratch, int portable) {
    (void)x; (void)dy; (void)dwt; (void)db; (void)batch; (void)height; (void)width; (void)channels; (void)k;
    (void)pad; (void)out_channels; (void)scratch; (void)portable;
    return 0;
}

#endif
