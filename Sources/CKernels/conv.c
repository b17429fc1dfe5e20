// Convolution image by image for small images, and the dispatch of the conv/pool/norm kernels.
//
// A training batch of small images (8×8 digits: 64 or 16 output positions per image) makes GEMMs
// that are short and wide; a general GEMM packs both operands for every call, and batching the
// images into one GEMM needs the outputs reordered to NCHW afterwards. Here each image's column
// matrix [C·KH·KW, OH·OW] (a few KB) is built in a scratch buffer that stays in L1, and a
// 6×16 register tile reads the weight through strides (no packing: the weight is small and
// stays in L1 too), writing the NCHW output directly:
//   forward      y_n      = W · col_n                (O × P,   reduction C·K)
//   input grad   dcol_n   = Wᵀ · dy_n, dx_n = col2im (CK × P,  reduction O)
//   weight grad  dWᵀ     += col_n · dy_nᵀ            (CK × O,  reduction P)
#define CK_CONV_INTERNAL
#include "ckernels_conv.h"
#include "ckernels.h"

#include <stdlib.h>
#include <string.h>

// MARK: - Dispatch

typedef struct {
    ck_conv_tile_fn tile;
    ck_transpose_fn transpose;
} conv_impl;

static conv_impl impl(void) {
    if (ck_active_isa() >= CK_ISA_AVX2) return (conv_impl){ck_conv_tile_avx2, ck_transpose_avx2};
    return (conv_impl){ck_conv_tile_generic, ck_transpose_generic};
}

// MARK: - Scratch

static float *scratch_floats(int64_t n) {
    size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(float);
    bytes = (bytes + 63) & ~(size_t)63;
    return (float *)aligned_alloc(64, bytes);
}

// MARK: - Small GEMM from tiles

// C[m×n] (mode) A·B with A[i, p] at a[i·rsa + p·csa], B row-major (ldb), C row-major (ldc).
// Rows go in balanced tiles of at most 6 (32 rows: 5,5,6,5,5,6), columns in tiles of 16.
static void small_gemm(ck_conv_tile_fn tile, int64_t m, int64_t n, int64_t k, const float *a, int64_t rsa, int64_t csa,
                       const float *b, int64_t ldb, float *c, int64_t ldc, int mode, const float *bias) {
    if (m <= 0 || n <= 0) return;
    const int64_t tiles = (m + 5) / 6;
    for (int64_t j = 0; j < n; j += 16) {
        const int64_t nr = n - j < 16 ? n - j : 16;
        int64_t i = 0;
        for (int64_t t = 0; t < tiles; t++) {
            const int64_t i1 = m * (t + 1) / tiles;
            tile(i1 - i, nr, k, a + i * rsa, rsa, csa, b + j, ldb, c + i * ldc + j, ldc, mode, bias ? bias + i : NULL);
            i = i1;
        }
    }
}

// MARK: - Columns

// One convolution's sizes, copied out of the geometry into plain locals (stores through float
// pointers could otherwise alias the struct and force reloads in the inner loops).
typedef struct {
    int64_t C, H, W, O, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW;
    int64_t rows;       // C·KH·KW
    int64_t positions;  // OH·OW
    int64_t ldcol;      // positions rounded up to 8; the columns past `positions` stay 0
    int padded;
    int64_t pw, pplane; // padded width and plane
    int unit;           // stride 1 and dilation 1
} conv_plan;

static conv_plan make_plan(const ck_conv_geometry *g) {
    conv_plan p;
    p.C = g->channels; p.H = g->height; p.W = g->width; p.O = g->out_channels;
    p.KH = g->kernel_h; p.KW = g->kernel_w; p.SH = g->stride_h; p.SW = g->stride_w;
    p.PH = g->pad_h; p.PW = g->pad_w; p.DH = g->dilation_h; p.DW = g->dilation_w;
    p.OH = g->out_h; p.OW = g->out_w;
    p.rows = p.C * p.KH * p.KW;
    p.positions = p.OH * p.OW;
    p.ldcol = (p.positions + 7) & ~(int64_t)7;
    p.padded = p.PH > 0 || p.PW > 0;
    p.pw = p.W + 2 * p.PW;
    p.pplane = (p.H + 2 * p.PH) * p.pw;
    p.unit = p.SH == 1 && p.SW == 1 && p.DH == 1 && p.DW == 1;
    return p;
}

#define ALWAYS static inline __attribute__((always_inline))

// Runs of n floats; the callers pass n as a constant where they can, so that a run of 4, 8 or 16
// is a couple of vector moves.
ALWAYS void copy_floats(float *restrict dst, const float *restrict src, int64_t n) {
    memcpy(dst, src, (size_t)n * sizeof(float));
}

// Copies an image [C, H, W] into the interior of zero-bordered planes [C, Hp, Wp].
ALWAYS void pad_image(const int64_t C, const int64_t H, const int64_t W, const int64_t pw, const int64_t pplane,
                      const int64_t top, const int64_t left, const float *x, float *pad) {
    for (int64_t c = 0; c < C; c++) {
        float *dst = pad + c * pplane + top * pw + left;
        const float *src = x + c * H * W;
        for (int64_t i = 0; i < H; i++) copy_floats(dst + i * pw, src + i * W, W);
    }
}

// Stride 1, dilation 1: each kernel tap's column row is OH runs of OW contiguous floats.
ALWAYS void im2col_unit(const int64_t C, const int64_t KH, const int64_t KW, const int64_t OH, const int64_t OW,
                        const float *src, const int64_t rs, const int64_t plane, float *col, const int64_t ldcol) {
    for (int64_t c = 0; c < C; c++)
        for (int64_t u = 0; u < KH; u++)
            for (int64_t v = 0; v < KW; v++) {
                float *row = col + ((c * KH + u) * KW + v) * ldcol;
                const float *tap = src + c * plane + u * rs + v;
                for (int64_t i = 0; i < OH; i++) copy_floats(row + i * OW, tap + i * rs, OW);
            }
}

// The column matrix of one image into col (leading dimension ldcol): row (c, u, v), column
// (oh, ow) holds the input element that tap multiplies for that output (0 in the padding). With
// padding, the image is first copied into `pad`, whose zero border was written once by the caller.
static void im2col_image(const conv_plan *P, const float *x, float *pad, float *col, int64_t ldcol) {
    const int64_t C = P->C, H = P->H, W = P->W, OH = P->OH, OW = P->OW, KH = P->KH, KW = P->KW;
    const float *src = x;
    int64_t rs = W, plane = H * W;
    if (P->padded) {
        const int64_t pw = P->pw, pplane = P->pplane, top = P->PH, left = P->PW;
        switch (W) {
        case 4: pad_image(C, H, 4, pw, pplane, top, left, x, pad); break;
        case 8: pad_image(C, H, 8, pw, pplane, top, left, x, pad); break;
        case 16: pad_image(C, H, 16, pw, pplane, top, left, x, pad); break;
        default: pad_image(C, H, W, pw, pplane, top, left, x, pad); break;
        }
        src = pad;
        rs = pw;
        plane = pplane;
    }
    if (P->unit) {
        if (KH == 3 && KW == 3) {
            switch (OW) {
            case 4: im2col_unit(C, 3, 3, OH, 4, src, rs, plane, col, ldcol); return;
            case 8: im2col_unit(C, 3, 3, OH, 8, src, rs, plane, col, ldcol); return;
            default: break;
            }
        }
        switch (OW) {
        case 4: im2col_unit(C, KH, KW, OH, 4, src, rs, plane, col, ldcol); return;
        case 8: im2col_unit(C, KH, KW, OH, 8, src, rs, plane, col, ldcol); return;
        case 16: im2col_unit(C, KH, KW, OH, 16, src, rs, plane, col, ldcol); return;
        default: im2col_unit(C, KH, KW, OH, OW, src, rs, plane, col, ldcol); return;
        }
    }
    const int64_t SH = P->SH, SW = P->SW, DH = P->DH, DW = P->DW;
    for (int64_t c = 0; c < C; c++) {
        for (int64_t u = 0; u < KH; u++) {
            for (int64_t v = 0; v < KW; v++) {
                float *row = col + ((c * KH + u) * KW + v) * ldcol;
                const float *tap = src + c * plane + u * DH * rs + v * DW;
                for (int64_t i = 0; i < OH; i++) {
                    const float *line = tap + i * SH * rs;
                    for (int64_t j = 0; j < OW; j++) row[i * OW + j] = line[j * SW];
                }
            }
        }
    }
}

// The adjoint of im2col_image (for strides other than 1): adds every column entry back onto the
// element it was read from, overwriting the image's gradient dx (through `pad` with padding).
static void col2im_image(const conv_plan *P, const float *dcol, float *pad, float *dx) {
    const int64_t C = P->C, H = P->H, W = P->W, OH = P->OH, OW = P->OW, KH = P->KH, KW = P->KW;
    const int64_t SH = P->SH, SW = P->SW, DH = P->DH, DW = P->DW, ldcol = P->ldcol;
    float *dst = P->padded ? pad : dx;
    const int64_t rs = P->padded ? P->pw : W;
    const int64_t plane = P->padded ? P->pplane : H * W;
    memset(dst, 0, (size_t)(C * plane) * sizeof(float));
    for (int64_t c = 0; c < C; c++) {
        for (int64_t u = 0; u < KH; u++) {
            for (int64_t v = 0; v < KW; v++) {
                const float *row = dcol + ((c * KH + u) * KW + v) * ldcol;
                float *tap = dst + c * plane + u * DH * rs + v * DW;
                for (int64_t i = 0; i < OH; i++) {
                    float *line = tap + i * SH * rs;
                    for (int64_t j = 0; j < OW; j++) line[j * SW] += row[i * OW + j];
                }
            }
        }
    }
    if (P->padded) {
        for (int64_t c = 0; c < C; c++)
            for (int64_t i = 0; i < H; i++)
                copy_floats(dx + (c * H + i) * W, pad + c * P->pplane + (i + P->PH) * P->pw + P->PW, W);
    }
}

// MARK: - Convolution

void ck_conv2d_forward(const ck_conv_geometry *g, int64_t images, const float *x, const float *w,
                       const float *bias, float *y) {
    const conv_impl im = impl();
    const conv_plan P = make_plan(g);
    const int64_t in_image = P.C * P.H * P.W, out_image = P.O * P.positions;
    float *col = scratch_floats(P.rows * P.ldcol);
    float *pad = P.padded ? scratch_floats(P.C * P.pplane) : NULL;
    memset(col, 0, (size_t)(P.rows * P.ldcol) * sizeof(float));
    if (pad) memset(pad, 0, (size_t)(P.C * P.pplane) * sizeof(float));
    for (int64_t n = 0; n < images; n++) {
        im2col_image(&P, x + n * in_image, pad, col, P.ldcol);
        small_gemm(im.tile, P.O, P.positions, P.rows, w, P.rows, 1, col, P.ldcol, y + n * out_image,
                   P.positions, bias ? CK_TILE_BIAS : CK_TILE_SET, bias);
    }
    free(col);
    free(pad);
}

// The input gradient of a stride-1 convolution is itself a stride-1 convolution: of the output
// gradient (O channels, OH×OW, padded by d·(K − 1) − p) with the weight flipped in space and with
// its two channel axes swapped, W′[c, o, u, v] = W[o, c, KH−1−u, KW−1−v]. It then needs no col2im
// (a scatter of overlapping runs) and its GEMM has the long reduction O·KH·KW.
static int transposed_geometry(const conv_plan *P, ck_conv_geometry *t) {
    if (!P->unit) return 0;
    const int64_t ph = P->DH * (P->KH - 1) - P->PH, pw = P->DW * (P->KW - 1) - P->PW;
    if (ph < 0 || pw < 0) return 0;
    *t = (ck_conv_geometry){
        .channels = P->O, .height = P->OH, .width = P->OW, .out_channels = P->C,
        .kernel_h = P->KH, .kernel_w = P->KW, .stride_h = 1, .stride_w = 1, .pad_h = ph, .pad_w = pw,
        .dilation_h = P->DH, .dilation_w = P->DW, .out_h = P->H, .out_w = P->W,
    };
    return 1;
}

void ck_conv2d_backward(const ck_conv_geometry *g, int64_t images, const float *x, const float *w,
                        const float *dy, float *dx, float *dwt) {
    if (!dx && !dwt) return;
    const conv_impl im = impl();
    const conv_plan P = make_plan(g);
    const int64_t in_image = P.C * P.H * P.W, out_image = P.O * P.positions, O = P.O;
    if (dwt) {
        // dWᵀ[CK, O] += col[CK, G·P] · dyᵀ[G·P, O] for groups of G images side by side, so that
        // the reduction is a couple of hundred long.
        int64_t group = 256 / P.ldcol;
        if (group * P.rows * P.ldcol > 65536) group = 65536 / (P.rows * P.ldcol);
        if (group < 1) group = 1;
        if (group > images) group = images;
        const int64_t ld = group * P.ldcol;
        float *col = scratch_floats(P.rows * ld);
        float *dyt = scratch_floats(ld * O);
        float *pad = P.padded ? scratch_floats(P.C * P.pplane) : NULL;
        memset(col, 0, (size_t)(P.rows * ld) * sizeof(float));
        memset(dyt, 0, (size_t)(ld * O) * sizeof(float));
        if (pad) memset(pad, 0, (size_t)(P.C * P.pplane) * sizeof(float));
        for (int64_t n0 = 0; n0 < images; n0 += group) {
            const int64_t count = images - n0 < group ? images - n0 : group;
            for (int64_t j = 0; j < count; j++) {
                im2col_image(&P, x + (n0 + j) * in_image, pad, col + j * P.ldcol, ld);
                im.transpose(dy + (n0 + j) * out_image, P.positions, dyt + j * P.ldcol * O, O, O, P.positions);
            }
            small_gemm(im.tile, P.rows, O, count * P.ldcol, col, ld, 1, dyt, O, dwt, O, CK_TILE_ADD, NULL);
        }
        free(col);
        free(dyt);
        free(pad);
    }
    if (!dx) return;
    ck_conv_geometry tg;
    if (transposed_geometry(&P, &tg)) {
        // W′[c, (o, u, v)] = W[o, c, KH−1−u, KW−1−v]
        const int64_t kk = P.KH * P.KW;
        float *wt = scratch_floats(P.C * O * kk);
        for (int64_t o = 0; o < O; o++)
            for (int64_t c = 0; c < P.C; c++)
                for (int64_t t = 0; t < kk; t++) wt[(c * O + o) * kk + t] = w[(o * P.C + c) * kk + (kk - 1 - t)];
        ck_conv2d_forward(&tg, images, dy, wt, NULL, dx);
        free(wt);
        return;
    }
    float *col = scratch_floats(P.rows * P.ldcol);
    float *pad = P.padded ? scratch_floats(P.C * P.pplane) : NULL;
    for (int64_t n = 0; n < images; n++) {
        // dcol[CK, P] = Wᵀ[CK, O] · dy[O, P], then scattered back onto the image.
        small_gemm(im.tile, P.rows, P.positions, O, w, 1, P.rows, dy + n * out_image, P.positions, col, P.ldcol,
                   CK_TILE_SET, NULL);
        col2im_image(&P, col, pad, dx + n * in_image);
    }
    free(col);
    free(pad);
}

// MARK: - Pooling, batch norm, ReLU

void ck_maxpool2x2_forward(const float *x, float *y, uint8_t *tap, int64_t planes, int64_t h, int64_t w) {
    if (ck_active_isa() >= CK_ISA_AVX2) ck_maxpool2x2_forward_avx2(x, y, tap, planes, h, w);
    else ck_maxpool2x2_forward_generic(x, y, tap, planes, h, w);
}

void ck_maxpool2x2_backward(const float *dy, const uint8_t *tap, float *dx, int64_t planes, int64_t h, int64_t w) {
    if (ck_active_isa() >= CK_ISA_AVX2) ck_maxpool2x2_backward_avx2(dy, tap, dx, planes, h, w);
    else ck_maxpool2x2_backward_generic(dy, tap, dx, planes, h, w);
}

#define DISPATCH(call_generic, call_avx2, call_avx512) \
    do { \
        const int isa = ck_active_isa(); \
        if (isa >= CK_ISA_AVX512) call_avx512; \
        else if (isa >= CK_ISA_AVX2) call_avx2; \
        else call_generic; \
    } while (0)

void ck_channel_moments(const float *x, int64_t batch, int64_t channels, int64_t inner, int64_t c0, int64_t c1,
                        const float *shift, double *sum, double *sumsq) {
    DISPATCH(ck_channel_moments_generic(x, batch, channels, inner, c0, c1, shift, sum, sumsq),
             ck_channel_moments_avx2(x, batch, channels, inner, c0, c1, shift, sum, sumsq),
             ck_channel_moments_avx512(x, batch, channels, inner, c0, c1, shift, sum, sumsq));
}

void ck_channel_grad_sums(const float *g, const float *x, int64_t batch, int64_t channels, int64_t inner,
                          int64_t c0, int64_t c1, const float *shift, double *sum_g, double *sum_gx) {
    DISPATCH(ck_channel_grad_sums_generic(g, x, batch, channels, inner, c0, c1, shift, sum_g, sum_gx),
             ck_channel_grad_sums_avx2(g, x, batch, channels, inner, c0, c1, shift, sum_g, sum_gx),
             ck_channel_grad_sums_avx512(g, x, batch, channels, inner, c0, c1, shift, sum_g, sum_gx));
}

void ck_channel_affine(const float *x, float *y, int64_t batch, int64_t channels, int64_t inner,
                       int64_t c0, int64_t c1, const float *scale, const float *shift, int relu) {
    DISPATCH(ck_channel_affine_generic(x, y, batch, channels, inner, c0, c1, scale, shift, relu),
             ck_channel_affine_avx2(x, y, batch, channels, inner, c0, c1, scale, shift, relu),
             ck_channel_affine_avx512(x, y, batch, channels, inner, c0, c1, scale, shift, relu));
}

void ck_channel_affine2(const float *g, const float *x, float *dx, int64_t batch, int64_t channels, int64_t inner,
                        int64_t c0, int64_t c1, const float *a, const float *b, const float *k) {
    DISPATCH(ck_channel_affine2_generic(g, x, dx, batch, channels, inner, c0, c1, a, b, k),
             ck_channel_affine2_avx2(g, x, dx, batch, channels, inner, c0, c1, a, b, k),
             ck_channel_affine2_avx512(g, x, dx, batch, channels, inner, c0, c1, a, b, k));
}

void ck_relu(const float *x, float *y, int64_t n) {
    DISPATCH(ck_relu_generic(x, y, n), ck_relu_avx2(x, y, n), ck_relu_avx512(x, y, n));
}

void ck_relu_backward(const float *g, const float *x, float *dx, int64_t n) {
    DISPATCH(ck_relu_backward_generic(g, x, dx, n), ck_relu_backward_avx2(g, x, dx, n),
             ck_relu_backward_avx512(g, x, dx, n));
}
