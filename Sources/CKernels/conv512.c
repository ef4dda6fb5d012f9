// Convolutions of NHWC batches straight from the (zero-padded) image — forward, weight gradient
// and input gradient — without the im2col patch matrix: a k×k convolution with 16–64 input
// channels writes and reads back a patch matrix k² times the size of its input, which cost a
// ResNet's 32×32 layers a third of their time, and its input gradient as a product only C_out
// deep went on to be scattered back (col2im). Here one sample's padded image stays in L1/L2 and
// each register tile of output pixels × channels accumulates over all taps and input channels
// before it is stored once.
//
// Layout. The padded image is stored as a grid of "cells" of S × S pixels (S the stride; one
// pixel when S = 1), each cell its S² pixels' channels in a row: padded pixel (y, x) in cell
// (y / S, x / S) at phase (y mod S)·S + x mod S. Output pixel (oh, ow) of a stride-S convolution
// then reads tap (kh, kw) from cell (oh + kh / S, ow + kw / S), phase (kh mod S, kw mod S): in
// cell coordinates every stride is 1. Tiles run over consecutive positions q = oh·Wq + ow of the
// cell grid (Wq cells wide), across row ends, so each tap is one base pointer plus constant
// offsets (cell size a compile-time constant); positions with ow past the output's width are
// computed and dropped.
//
// The input gradient is a sum of stride-1 convolutions of the padded dy, one per phase (r, s) of
// dx's pixels — those with (ih + pad) mod S = r take only the taps kh ≡ r — each stored into
// dx's pixels of that phase.
#include "ckernels.h"
#include <string.h>

#if defined(__x86_64__)
#include "avx512.h"

enum { MAX_TAPS = 49, SLACK_CELLS = 40 };

// One convolution as the tiles read it: input cells, taps, output positions and where they land.
typedef struct {
    int S, C, PS;          // the layout's stride, channels, floats per cell (S²·C)
    int hq, wq;            // cell grid
    int padTop, padLeft;   // zero rows above / columns left of the image in the padded one
    int taps, off[MAX_TAPS];  // per tap: float offset of its input from the position's cell
    long base;             // float offset of position (0, 0)'s cell
    int rows, cols;        // positions computed: rows × cols, at cells i·wq + j
    int sy, oy, sx, ox, yh, yw;  // position (i, j) → output pixel (i·sy + oy, j·sx + ox), kept if inside yh × yw
} Geometry;

// image x[H, W, C] → its padded cell layout in dst (zeroed by the caller: padding stays zero).
// At stride 2 pixel by pixel, C (a multiple of 16 there) in vectors: a memcpy call per pixel
// cost a 1×1 stride-2 layer as much as its products.
static T512 void toCells(const float *x, int height, int width, const Geometry *g, float *dst) {
    const int C = g->C, S = g->S;
    if (S == 1) {
        for (int h = 0; h < height; h++)
            memcpy(dst + ((size_t)(h + g->padTop) * g->wq + g->padLeft) * C, x + (size_t)h * width * C,
                   sizeof(float) * width * C);
        return;
    }
    // S = 2 here: halving by shifts (a division per pixel cost more than the copy).
    for (int h = 0; h < height; h++) {
        const int y = h + g->padTop;
        float *row = dst + (size_t)(y >> 1) * g->wq * g->PS + (y & 1) * 2 * C;
        const float *src = x + (size_t)h * width * C;
        for (int w = 0; w < width; w++) {
            const int xx = w + g->padLeft;
            float *d = row + (size_t)(xx >> 1) * g->PS + (xx & 1) * C;
            for (int c = 0; c < C; c += 16) _mm512_storeu_ps(d + c, _mm512_loadu_ps(src + (size_t)w * C + c));
        }
    }
}

static size_t cellFloats(const Geometry *g) { return ((size_t)(g->hq + 1) * g->wq + SLACK_CELLS) * g->PS; }

// acc[i][v] += a[i·stride] · b[v] for i < R, v < NV: a register tile's rank-1 update (the
// forward tiles' positions × channels, the weight-gradient tiles' channels × outputs).
AI T512 void rank1(int R, int NV, __m512 acc[][4], const float *a, int stride, const __m512 *b) {
    _Pragma("unroll")
    for (int i = 0; i < R; i++) {
        const __m512 ai = _mm512_set1_ps(a[i * stride]);
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(ai, b[v], acc[i][v]);
    }
}

// One tile: NP positions from q0 × 16·NV output channels, over taps × C input channels. wt:
// [taps·C][ldw] (the tile's columns at wt); y: rows of ldy floats, `nr` valid columns. Adds into
// y when add.
AI T512 void convTile(int NV, int NP, int C, int PS, const float *xp, int q0, const Geometry *g, const float *wt,
                      int ldw, float *y, int ldy, int nr, const float *bias, int add) {
    __m512 acc[28][4];
    _Pragma("unroll")
    for (int i = 0; i < NP; i++)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
    const float *xq = xp + g->base + (long)q0 * PS;
    for (int t = 0; t < g->taps; t++) {
        const float *xt = xq + g->off[t];
        const float *wtap = wt + (long)t * C * ldw;
        for (int c = 0; c < C; c++) {
            __m512 bv[4];
            _Pragma("unroll")
            for (int v = 0; v < NV; v++) bv[v] = _mm512_loadu_ps(wtap + (long)c * ldw + 16 * v);
            rank1(NP, NV, acc, xt + c, PS, bv);
        }
    }
    __m512 b[4];
    _Pragma("unroll")
    for (int v = 0; v < NV; v++)
        b[v] = bias ? _mm512_maskz_loadu_ps(firstLanes(nr - 16 * v), bias + 16 * v) : _mm512_setzero_ps();
    const int qEnd = (g->rows - 1) * g->wq + g->cols;
    // Position q0 + i's row and column, stepped rather than divided for (a division per
    // position cost 1×1 layers a third of their time).
    int r = q0 / g->wq, s = q0 - r * g->wq;
    _Pragma("unroll")
    for (int i = 0; i < NP; i++, s = s + 1 == g->wq ? (r++, 0) : s + 1) {
        const int q = q0 + i;
        if (q >= qEnd || s >= g->cols) continue;
        const int oy = r * g->sy + g->oy, ox = s * g->sx + g->ox;
        if (oy < 0 || oy >= g->yh || ox < 0 || ox >= g->yw) continue;
        float *p = y + ((long)oy * g->yw + ox) * ldy;
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) {
            const __mmask16 m = firstLanes(nr - 16 * v);
            __m512 o = _mm512_add_ps(acc[i][v], b[v]);
            if (add) o = _mm512_add_ps(o, _mm512_maskz_loadu_ps(m, p + 16 * v));
            _mm512_mask_storeu_ps(p + 16 * v, m, o);
        }
    }
}

// All tiles of one image, column block by column block. Literal NV, NP, C and PS, so that each
// variant is compiled with its accumulators in registers and constant input offsets.
AI T512 void convImage(int NV, int NP, int C, int PS, const float *xp, const Geometry *g, const float *wt, int cout,
                       float *y, const float *bias, int add) {
    const int qEnd = (g->rows - 1) * g->wq + g->cols;
    for (int j = 0; j < cout; j += 16 * NV) {
        const int nr = cout - j < 16 * NV ? cout - j : 16 * NV;
        for (int q0 = 0; q0 < qEnd; q0 += NP)
            convTile(NV, NP, C, PS, xp, q0, g, wt + j, cout, y + j, cout, nr, bias ? bias + j : NULL, add);
    }
}

// The widest tile that fits 28 of the 32 registers: 16·NV columns of NP positions.
static T512 void convCells(const float *cells, const Geometry *g, const float *wt, int cout, float *y,
                           const float *bias, int add) {
    const int nv = cout % 64 == 0 ? 4 : cout % 32 == 0 ? 2 : 1, C = g->C, PS = g->PS;
#define IMAGE(NV, NP, CC, P) convImage(NV, NP, CC, P, cells, g, wt, cout, y, bias, add)
#define CELLS(NV, NP)                                                                                   \
    if (C == 3 && PS == 3) IMAGE(NV, NP, 3, 3);                                                         \
    else if (C == 16) { if (PS == 16) IMAGE(NV, NP, 16, 16); else IMAGE(NV, NP, 16, 64); }              \
    else if (C == 32) { if (PS == 32) IMAGE(NV, NP, 32, 32); else IMAGE(NV, NP, 32, 128); }             \
    else { if (PS == 64) IMAGE(NV, NP, 64, 64); else IMAGE(NV, NP, 64, 256); }
    if (nv == 4) { CELLS(4, 6) } else if (nv == 2) { CELLS(2, 14) } else { CELLS(1, 28) }
#undef CELLS
#undef IMAGE
}

// Weight-gradient tile: dwt[t·C + c0 + i, o0 : o0 + 16·NV] += Σ over the output positions of
// cells[position + off[t] + c0 + i] · dy[position, o0 : …] for i < CB, over one image, in
// registers until the image is done.
AI T512 void wgradTile(int NV, int CB, int PS, const float *xp, const Geometry *g, int t, const float *dy, int ldy,
                       float *dwt, int lddw) {
    __m512 acc[16][4];
    _Pragma("unroll")
    for (int i = 0; i < CB; i++)
        _Pragma("unroll")
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
    for (int oh = 0; oh < g->rows; oh++) {
        const float *xr = xp + g->base + (long)oh * g->wq * PS + g->off[t];
        const float *dr = dy + (long)oh * g->cols * ldy;
        for (int ow = 0; ow < g->cols; ow++) {
            __m512 d[4];
            _Pragma("unroll")
            for (int v = 0; v < NV; v++) d[v] = _mm512_loadu_ps(dr + (long)ow * ldy + 16 * v);
            rank1(CB, NV, acc, xr + ow * PS, 1, d);
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
AI T512 void wgradTapsTile(int TB, const float *xp, const Geometry *g, int t0, const float *dy, int ldy, float *dwt,
                           int lddw) {
    __m512 acc[27];
    _Pragma("unroll")
    for (int i = 0; i < 3 * TB; i++) acc[i] = _mm512_setzero_ps();
    for (int oh = 0; oh < g->rows; oh++) {
        const float *xr = xp + g->base + (long)oh * g->wq * 3;
        const float *dr = dy + (long)oh * g->cols * ldy;
        for (int ow = 0; ow < g->cols; ow++) {
            const __m512 d = _mm512_loadu_ps(dr + (long)ow * ldy);
            const float *xo = xr + ow * 3;
            _Pragma("unroll")
            for (int j = 0; j < TB; j++)
                _Pragma("unroll")
                for (int c = 0; c < 3; c++)
                    acc[3 * j + c] = _mm512_fmadd_ps(_mm512_set1_ps(xo[g->off[t0 + j] + c]), d, acc[3 * j + c]);
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

// All of one image's weight-gradient tiles: taps × C/CB channel blocks × Cout/(16·NV) column
// blocks (three channels: blocks of 9 taps).
AI T512 void wgradImage(int NV, int CB, int C, int PS, const float *xp, const Geometry *g, const float *dy, int cout,
                        float *dwt) {
    if (C == 3) {
        for (int t = 0; t < g->taps; t += 9)
            for (int j = 0; j < cout; j += 16) {
                if (g->taps - t >= 9) wgradTapsTile(9, xp, g, t, dy + j, cout, dwt + (long)t * 3 * cout + j, cout);
                else
                    for (int u = t; u < g->taps; u++)
                        wgradTapsTile(1, xp, g, u, dy + j, cout, dwt + (long)u * 3 * cout + j, cout);
            }
        return;
    }
    for (int t = 0; t < g->taps; t++)
        for (int c0 = 0; c0 < C; c0 += CB)
            for (int j = 0; j < cout; j += 16 * NV)
                wgradTile(NV, CB, PS, xp + c0, g, t, dy + j, cout, dwt + ((long)t * C + c0) * cout + j, cout);
}

// 16 accumulators: CB input channels × NV vectors of output channels.
static T512 void wgradCells(const float *cells, const Geometry *g, const float *dy, int cout, float *dwt) {
    const int nv = cout % 64 == 0 ? 4 : cout % 32 == 0 ? 2 : 1, C = g->C, PS = g->PS;
#define IMAGE(NV, CB, CC, P) wgradImage(NV, CB, CC, P, cells, g, dy, cout, dwt)
#define CELLS(NV, CB)                                                                                   \
    if (C == 3) IMAGE(1, 3, 3, 3);                                                                      \
    else if (C == 16) { if (PS == 16) IMAGE(NV, CB, 16, 16); else IMAGE(NV, CB, 16, 64); }              \
    else if (C == 32) { if (PS == 32) IMAGE(NV, CB, 32, 32); else IMAGE(NV, CB, 32, 128); }             \
    else { if (PS == 64) IMAGE(NV, CB, 64, 64); else IMAGE(NV, CB, 64, 256); }
    if (nv == 4) { CELLS(4, 4) } else if (nv == 2) { CELLS(2, 8) } else { CELLS(1, 16) }
#undef CELLS
#undef IMAGE
}

static int channelsOK(int C, int stride) { return C == 16 || C == 32 || C == 64 || (C == 3 && stride == 1); }

// The forward geometry of a stride-S convolution of x[H, W, C] (pad, k); 0 when not supported.
static int forwardGeometry(Geometry *g, int height, int width, int C, int k, int stride, int pad) {
    if (stride < 1 || stride > 2 || k < 1 || k * k > MAX_TAPS || pad < 0 || pad >= k || !channelsOK(C, stride)) return 0;
    const int hp = height + 2 * pad, wp = width + 2 * pad, S = stride;
    if (hp < k || wp < k) return 0;
    *g = (Geometry){.S = S, .C = C, .PS = S * S * C, .hq = (hp + S - 1) / S, .wq = (wp + S - 1) / S, .padTop = pad,
                    .padLeft = pad, .taps = k * k, .base = 0, .rows = (hp - k) / S + 1, .cols = (wp - k) / S + 1,
                    .sy = 1, .oy = 0, .sx = 1, .ox = 0};
    g->yh = g->rows;
    g->yw = g->cols;
    for (int kh = 0; kh < k; kh++)
        for (int kw = 0; kw < k; kw++)
            g->off[kh * k + kw] = ((kh / S) * g->wq + kw / S) * g->PS + ((kh % S) * S + kw % S) * C;
    return 1;
}

static T512 void forwardBatch(const float *x, const float *wt, const float *bias, float *y, int batch, int height,
                              int width, const Geometry *g, int cout, int add, float *scratch) {
    for (int b = 0; b < batch; b++) {
        toCells(x + (size_t)b * height * width * g->C, height, width, g, scratch);
        convCells(scratch, g, wt, cout, y + (size_t)b * g->rows * g->cols * cout, bias, add);
    }
}

static T512 void wgradBatch(const float *x, const float *dy, float *dwt, float *db, int batch, int height, int width,
                            const Geometry *g, int cout, float *scratch) {
    const int pixels = g->rows * g->cols;
    for (int b = 0; b < batch; b++) {
        toCells(x + (size_t)b * height * width * g->C, height, width, g, scratch);
        const float *dyb = dy + (size_t)b * pixels * cout;
        wgradCells(scratch, g, dyb, cout, dwt);
        if (db)
            for (int j = 0; j < cout; j += 16) {
                __m512 s = _mm512_setzero_ps();
                for (int q = 0; q < pixels; q++) s = _mm512_add_ps(s, _mm512_loadu_ps(dyb + (long)q * cout + j));
                _mm512_storeu_ps(db + j, _mm512_add_ps(_mm512_loadu_ps(db + j), s));
            }
    }
}

// The input gradient's phases. dy[ho, wo, cout] is laid out once (stride 1, padded by T = ⌈k/S⌉ − 1
// above and left, and below and right as far as any phase reads); phase (r, s) reads taps
// kh = r + S·m, kw = s + S·n at dy cell (I − m, J − n) for dx pixel (S·I + r − pad, S·J + s − pad).
typedef struct {
    Geometry layout;          // dy's cells (taps unset)
    int phases;
    Geometry phase[4];
    int tapOf[4][MAX_TAPS];   // the forward tap (kh·k + kw) of each phase tap
    int dyh, dyw;             // dy's height and width
} Gradient;

static int ceilDiv(int a, int b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

static int gradientGeometry(Gradient *d, int height, int width, int C, int k, int stride, int pad, int cout) {
    const int S = stride;
    if (S < 1 || S > 2 || k < 1 || k * k > MAX_TAPS || pad < 0 || pad >= k) return 0;
    if ((cout != 16 && cout != 32 && cout != 64) || C % 16 != 0 || C > 256) return 0;
    const int ho = (height + 2 * pad - k) / S + 1, wo = (width + 2 * pad - k) / S + 1;
    if (ho < 1 || wo < 1) return 0;
    const int T = (k + S - 1) / S - 1;
    const int rowsRead = (height - 1 + pad) / S + T + 1, colsRead = (width - 1 + pad) / S + T + 1;
    Geometry *l = &d->layout;
    *l = (Geometry){.S = 1, .C = cout, .PS = cout, .padTop = T, .padLeft = T};
    d->dyh = ho;
    d->dyw = wo;
    l->hq = ho + T > rowsRead ? ho + T : rowsRead;
    l->wq = wo + T > colsRead ? wo + T : colsRead;
    d->phases = 0;
    for (int r = 0; r < S && r < k; r++)
        for (int s = 0; s < S && s < k; s++) {
            Geometry *g = &d->phase[d->phases];
            *g = *l;
            const int i0 = ceilDiv(pad - r, S), j0 = ceilDiv(pad - s, S);
            const int i1 = (height - 1 + pad - r) / S, j1 = (width - 1 + pad - s) / S;
            if (i1 < i0 || j1 < j0) continue;
            g->rows = i1 - i0 + 1;
            g->cols = j1 - j0 + 1;
            g->base = ((long)i0 * l->wq + j0) * l->PS;
            g->sy = S; g->oy = S * i0 + r - pad; g->yh = height;
            g->sx = S; g->ox = S * j0 + s - pad; g->yw = width;
            g->taps = 0;
            for (int m = 0; r + S * m < k; m++)
                for (int n = 0; s + S * n < k; n++) {
                    g->off[g->taps] = ((T - m) * l->wq + (T - n)) * l->PS;
                    d->tapOf[d->phases][g->taps] = (r + S * m) * k + s + S * n;
                    g->taps++;
                }
            d->phases++;
        }
    return 1;
}

static T512 void gradientBatch(const float *dy, const float *w, float *dx, int batch, int height, int width, int C,
                               int k, const Gradient *d, int cout, int add, float *scratch) {
    const Geometry *l = &d->layout;
    float *cells = scratch, *panels = scratch + cellFloats(l);
    // Each phase's weights as the tiles read them: rows (tap, o), C columns, W[o, tap, c].
    const float *panel[4];
    size_t used = 0;
    for (int p = 0; p < d->phases; p++) {
        float *dst = panels + used;
        for (int t = 0; t < d->phase[p].taps; t++)
            for (int o = 0; o < cout; o++)
                memcpy(dst + ((size_t)t * cout + o) * C, w + ((size_t)o * k * k + d->tapOf[p][t]) * C, sizeof(float) * C);
        panel[p] = dst;
        used += (size_t)d->phase[p].taps * cout * C;
    }
    for (int b = 0; b < batch; b++) {
        toCells(dy + (size_t)b * d->dyh * d->dyw * cout, d->dyh, d->dyw, l, cells);
        float *dxb = dx + (size_t)b * height * width * C;
        for (int p = 0; p < d->phases; p++) convCells(cells, &d->phase[p], panel[p], C, dxb, NULL, add);
    }
}

size_t ck_conv_direct_scratch(int height, int width, int channels, int k, int stride, int pad, int out_channels) {
    Geometry g;
    Gradient d;
    size_t n = 1;
    if (forwardGeometry(&g, height, width, channels, k, stride, pad)) n = cellFloats(&g);
    if (gradientGeometry(&d, height, width, channels, k, stride, pad, out_channels)) {
        const size_t m = cellFloats(&d.layout) + (size_t)k * k * channels * out_channels;
        if (m > n) n = m;
    }
    return n;
}

int ck_conv_direct_supports(int which, int height, int width, int channels, int k, int stride, int pad,
                            int out_channels) {
    if (!ck_avx512_available()) return 0;
    if (which == 2) {
        Gradient d;
        return gradientGeometry(&d, height, width, channels, k, stride, pad, out_channels);
    }
    Geometry g;
    return out_channels % 16 == 0 && out_channels <= 256 && forwardGeometry(&g, height, width, channels, k, stride, pad);
}

int ck_conv_direct(const float *x, const float *wt, const float *bias, float *y, int batch, int height, int width,
                   int channels, int k, int stride, int pad, int out_channels, int add, float *scratch, int portable) {
    Geometry g;
    if (portable != 0 || !ck_conv_direct_supports(0, height, width, channels, k, stride, pad, out_channels)) return 0;
    forwardGeometry(&g, height, width, channels, k, stride, pad);
    memset(scratch, 0, sizeof(float) * cellFloats(&g));
    forwardBatch(x, wt, bias, y, batch, height, width, &g, out_channels, add, scratch);
    return 1;
}

int ck_conv_direct_wgrad(const float *x, const float *dy, float *dwt, float *db, int batch, int height, int width,
                         int channels, int k, int stride, int pad, int out_channels, float *scratch, int portable) {
    Geometry g;
    if (portable != 0 || !ck_conv_direct_supports(1, height, width, channels, k, stride, pad, out_channels)) return 0;
    forwardGeometry(&g, height, width, channels, k, stride, pad);
    memset(scratch, 0, sizeof(float) * cellFloats(&g));
    wgradBatch(x, dy, dwt, db, batch, height, width, &g, out_channels, scratch);
    return 1;
}

int ck_conv_direct_dgrad(const float *dy, const float *w, float *dx, int batch, int height, int width, int channels,
                         int k, int stride, int pad, int out_channels, int add, float *scratch, int portable) {
    Gradient d;
    if (portable != 0 || !ck_conv_direct_supports(2, height, width, channels, k, stride, pad, out_channels)) return 0;
    // Writing needs every pixel in some phase: each phase of the stride has a tap.
    if (!add && k < stride) return 0;
    gradientGeometry(&d, height, width, channels, k, stride, pad, out_channels);
    memset(scratch, 0, sizeof(float) * cellFloats(&d.layout));
    gradientBatch(dy, w, dx, batch, height, width, channels, k, &d, out_channels, add, scratch);
    return 1;
}

#else

size_t ck_conv_direct_scratch(int height, int width, int channels, int k, int stride, int pad, int out_channels) {
    (void)height; (void)width; (void)channels; (void)k; (void)stride; (void)pad; (void)out_channels;
    return 1;
}

int ck_conv_direct_supports(int which, int height, int width, int channels, int k, int stride, int pad,
                            int out_channels) {
    (void)which; (void)height; (void)width; (void)channels; (void)k; (void)stride; (void)pad; (void)out_channels;
    return 0;
}

int ck_conv_direct(const float *x, const float *wt, const float *bias, float *y, int batch, int height, int width,
                   int channels, int k, int stride, int pad, int out_channels, int add, float *scratch, int portable) {
    (void)x; (void)wt; (void)bias; (void)y; (void)batch; (void)height; (void)width; (void)channels; (void)k;
    (void)stride; (void)pad; (void)out_channels; (void)add; (void)scratch; (void)portable;
    return 0;
}

int ck_conv_direct_wgrad(const float *x, const float *dy, float *dwt, float *db, int batch, int height, int width,
                         int channels, int k, int stride, int pad, int out_channels, float *scratch, int portable) {
    (void)x; (void)dy; (void)dwt; (void)db; (void)batch; (void)height; (void)width; (void)channels; (void)k;
    (void)stride; (void)pad; (void)out_channels; (void)scratch; (void)portable;
    return 0;
}

int ck_conv_direct_dgrad(const float *dy, const float *w, float *dx, int batch, int height, int width, int channels,
                         int k, int stride, int pad, int out_channels, int add, float *scratch, int portable) {
    (void)dy; (void)w; (void)dx; (void)batch; (void)height; (void)width; (void)channels; (void)k; (void)stride;
    (void)pad; (void)out_channels; (void)add; (void)scratch; (void)portable;
    return 0;
}

#endif
