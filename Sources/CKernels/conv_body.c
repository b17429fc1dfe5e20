// Code written once and compiled once per instruction set: conv_generic.c, conv_avx2.c and
// conv_avx512.c include this file with CK_SUFFIX set and (for the x86 levels) a target attribute on
// every function. With CK_CONV_BODY: the elementwise loops of batch norm and ReLU. With
// CK_CONV_DRIVERS (and CK_TILE / CK_TRANSPOSE naming the file's register tile and transpose): the
// convolution drivers. Compiled on its own, it is empty.
#ifdef CK_CONV_BODY

#include "ck_alloc.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CK_CAT2(a, b) a##_##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK_NAME(f) CK_CAT(f, CK_SUFFIX)

// Sums of a run in 16 float lanes (vectors of any width; floating-point sums are not reassociated
// by the compiler, so the lanes are explicit) over blocks of at most 1024 values, added up in double.
#define CK_LANES 16
static inline void CK_NAME(run_moments)(const float *restrict x, int64_t n, float shift, double *sum, double *sumsq) {
    for (int64_t i0 = 0; i0 < n; i0 += 1024) {
        const int64_t i1 = n - i0 < 1024 ? n : i0 + 1024;
        float s[CK_LANES] = {0}, q[CK_LANES] = {0};
        int64_t i = i0;
        for (; i + CK_LANES <= i1; i += CK_LANES) {
            for (int j = 0; j < CK_LANES; j++) {
                const float d = x[i + j] - shift;
                s[j] += d;
                q[j] += d * d;
            }
        }
        float st = 0, qt = 0;
        for (; i < i1; i++) {
            const float d = x[i] - shift;
            st += d;
            qt += d * d;
        }
        for (int j = 0; j < CK_LANES; j++) { st += s[j]; qt += q[j]; }
        *sum += st;
        *sumsq += qt;
    }
}

// Runs whose length is a multiple of 16: the 16 lanes stay in registers across a channel's runs
// and are flushed to double every 64 runs.
static inline void CK_NAME(channel_moments16)(const float *x, int64_t batch, int64_t stride, int64_t inner,
                                              float shift, double *sum, double *sumsq) {
    double s = 0, q = 0;
    for (int64_t n0 = 0; n0 < batch; n0 += 64) {
        const int64_t n1 = batch - n0 < 64 ? batch : n0 + 64;
        float sl[CK_LANES] = {0}, ql[CK_LANES] = {0};
        for (int64_t n = n0; n < n1; n++) {
            const float *restrict xs = x + n * stride;
            for (int64_t i = 0; i < inner; i += CK_LANES) {
                for (int j = 0; j < CK_LANES; j++) {
                    const float d = xs[i + j] - shift;
                    sl[j] += d;
                    ql[j] += d * d;
                }
            }
        }
        float st = 0, qt = 0;
        for (int j = 0; j < CK_LANES; j++) { st += sl[j]; qt += ql[j]; }
        s += st;
        q += qt;
    }
    *sum = s;
    *sumsq = q;
}

static void CK_NAME(moments_ordered)(const float *x, int64_t batch, int64_t channels, int64_t inner,
                                     int64_t c0, int64_t c1, const float *shift, double *sum, double *sumsq) {
    const int64_t nc = c1 - c0;
    float *lanes = (float *)CK_ALIGNED_ALLOC((size_t)(2 * nc * CK_LANES) * sizeof(float));
    for (int64_t c = c0; c < c1; c++) { sum[c] = 0; sumsq[c] = 0; }
    for (int64_t n0 = 0; n0 < batch; n0 += 64) {
        const int64_t n1 = batch - n0 < 64 ? batch : n0 + 64;
        memset(lanes, 0, (size_t)(2 * nc * CK_LANES) * sizeof(float));
        for (int64_t n = n0; n < n1; n++) {
            for (int64_t c = c0; c < c1; c++) {
                const float *restrict xs = x + (n * channels + c) * inner;
                float *restrict sl = lanes + (c - c0) * 2 * CK_LANES, *restrict ql = sl + CK_LANES;
                const float m = shift[c];
                for (int64_t i = 0; i < inner; i += CK_LANES) {
                    for (int j = 0; j < CK_LANES; j++) {
                        const float d = xs[i + j] - m;
                        sl[j] += d;
                        ql[j] += d * d;
                    }
                }
            }
        }
        for (int64_t c = c0; c < c1; c++) {
            const float *sl = lanes + (c - c0) * 2 * CK_LANES, *ql = sl + CK_LANES;
            float st = 0, qt = 0;
            for (int j = 0; j < CK_LANES; j++) { st += sl[j]; qt += ql[j]; }
            sum[c] += st;
            sumsq[c] += qt;
        }
    }
    free(lanes);
}

void CK_NAME(ck_channel_moments)(const float *x, int64_t batch, int64_t channels, int64_t inner, int64_t c0, int64_t c1,
                                 const float *shift, double *sum, double *sumsq) {
    if (inner % CK_LANES == 0 && inner <= 256) {
        CK_NAME(moments_ordered)(x, batch, channels, inner, c0, c1, shift, sum, sumsq);
        return;
    }
    for (int64_t c = c0; c < c1; c++) {
        if (inner % CK_LANES == 0 && inner <= 1024) {
            CK_NAME(channel_moments16)(x + c * inner, batch, channels * inner, inner, shift[c], sum + c, sumsq + c);
            continue;
        }
        double s = 0, q = 0;
        for (int64_t n = 0; n < batch; n++)
            CK_NAME(run_moments)(x + (n * channels + c) * inner, inner, shift[c], &s, &q);
        sum[c] = s;
        sumsq[c] = q;
    }
}

static inline void CK_NAME(run_grad_sums)(const float *restrict g, const float *restrict x, int64_t n, float shift,
                                          double *sum_g, double *sum_gx) {
    for (int64_t i0 = 0; i0 < n; i0 += 1024) {
        const int64_t i1 = n - i0 < 1024 ? n : i0 + 1024;
        float s[CK_LANES] = {0}, q[CK_LANES] = {0};
        int64_t i = i0;
        for (; i + CK_LANES <= i1; i += CK_LANES) {
            for (int j = 0; j < CK_LANES; j++) {
                s[j] += g[i + j];
                q[j] += g[i + j] * (x[i + j] - shift);
            }
        }
        float st = 0, qt = 0;
        for (; i < i1; i++) {
            st += g[i];
            qt += g[i] * (x[i] - shift);
        }
        for (int j = 0; j < CK_LANES; j++) { st += s[j]; qt += q[j]; }
        *sum_g += st;
        *sum_gx += qt;
    }
}

static inline void CK_NAME(channel_grad_sums16)(const float *g, const float *x, int64_t batch, int64_t stride,
                                                int64_t inner, float shift, double *sum_g, double *sum_gx) {
    double s = 0, q = 0;
    for (int64_t n0 = 0; n0 < batch; n0 += 64) {
        const int64_t n1 = batch - n0 < 64 ? batch : n0 + 64;
        float sl[CK_LANES] = {0}, ql[CK_LANES] = {0};
        for (int64_t n = n0; n < n1; n++) {
            const float *restrict gs = g + n * stride, *restrict xs = x + n * stride;
            for (int64_t i = 0; i < inner; i += CK_LANES) {
                for (int j = 0; j < CK_LANES; j++) {
                    sl[j] += gs[i + j];
                    ql[j] += gs[i + j] * (xs[i + j] - shift);
                }
            }
        }
        float st = 0, qt = 0;
        for (int j = 0; j < CK_LANES; j++) { st += sl[j]; qt += ql[j]; }
        s += st;
        q += qt;
    }
    *sum_g = s;
    *sum_gx = q;
}

// Batch-major for runs of a multiple of 16: the data stream in memory order (two streams, g and x,
// prefetch far better in order than channel by channel) into per-channel lane sums kept in L1.
static void CK_NAME(grad_sums_ordered)(const float *g, const float *x, int64_t batch, int64_t channels, int64_t inner,
                                       int64_t c0, int64_t c1, const float *shift, double *sum_g, double *sum_gx) {
    const int64_t nc = c1 - c0;
    float *lanes = (float *)CK_ALIGNED_ALLOC((size_t)(2 * nc * CK_LANES) * sizeof(float));
    for (int64_t c = c0; c < c1; c++) { sum_g[c] = 0; sum_gx[c] = 0; }
    for (int64_t n0 = 0; n0 < batch; n0 += 64) {
        const int64_t n1 = batch - n0 < 64 ? batch : n0 + 64;
        memset(lanes, 0, (size_t)(2 * nc * CK_LANES) * sizeof(float));
        for (int64_t n = n0; n < n1; n++) {
            for (int64_t c = c0; c < c1; c++) {
                const int64_t o = (n * channels + c) * inner;
                const float *restrict gs = g + o, *restrict xs = x + o;
                float *restrict sl = lanes + (c - c0) * 2 * CK_LANES, *restrict ql = sl + CK_LANES;
                const float m = shift[c];
                for (int64_t i = 0; i < inner; i += CK_LANES) {
                    for (int j = 0; j < CK_LANES; j++) {
                        sl[j] += gs[i + j];
                        ql[j] += gs[i + j] * (xs[i + j] - m);
                    }
                }
            }
        }
        for (int64_t c = c0; c < c1; c++) {
            const float *sl = lanes + (c - c0) * 2 * CK_LANES, *ql = sl + CK_LANES;
            float st = 0, qt = 0;
            for (int j = 0; j < CK_LANES; j++) { st += sl[j]; qt += ql[j]; }
            sum_g[c] += st;
            sum_gx[c] += qt;
        }
    }
    free(lanes);
}

void CK_NAME(ck_channel_grad_sums)(const float *g, const float *x, int64_t batch, int64_t channels, int64_t inner,
                                   int64_t c0, int64_t c1, const float *shift, double *sum_g, double *sum_gx) {
    if (inner % CK_LANES == 0 && inner <= 256) {
        CK_NAME(grad_sums_ordered)(g, x, batch, channels, inner, c0, c1, shift, sum_g, sum_gx);
        return;
    }
    for (int64_t c = c0; c < c1; c++) {
        if (inner % CK_LANES == 0 && inner <= 1024) {
            CK_NAME(channel_grad_sums16)(g + c * inner, x + c * inner, batch, channels * inner, inner, shift[c],
                                         sum_g + c, sum_gx + c);
            continue;
        }
        double s = 0, q = 0;
        for (int64_t n = 0; n < batch; n++) {
            int64_t o = (n * channels + c) * inner;
            CK_NAME(run_grad_sums)(g + o, x + o, inner, shift[c], &s, &q);
        }
        sum_g[c] = s;
        sum_gx[c] = q;
    }
}

void CK_NAME(ck_channel_affine)(const float *x, float *y, int64_t batch, int64_t channels, int64_t inner,
                                int64_t c0, int64_t c1, const float *center, const float *scale, const float *shift,
                                int relu) {
    for (int64_t n = 0; n < batch; n++) {
        for (int64_t c = c0; c < c1; c++) {
            const float *restrict xs = x + (n * channels + c) * inner;
            float *restrict ys = y + (n * channels + c) * inner;
            const float m = center[c], k = scale[c], b = shift[c];
            if (relu) {
                for (int64_t i = 0; i < inner; i++) {
                    const float v = (xs[i] - m) * k + b;
                    ys[i] = v <= 0 ? 0.0f : v;
                }
            } else {
                for (int64_t i = 0; i < inner; i++) ys[i] = (xs[i] - m) * k + b;
            }
        }
    }
}

void CK_NAME(ck_channel_affine2)(const float *g, const float *x, float *dx, int64_t batch, int64_t channels, int64_t inner,
                                 int64_t c0, int64_t c1, const float *a, const float *b, const float *center,
                                 const float *k) {
    for (int64_t n = 0; n < batch; n++) {
        for (int64_t c = c0; c < c1; c++) {
            const int64_t o = (n * channels + c) * inner;
            const float *restrict gs = g + o, *restrict xs = x + o;
            float *restrict ds = dx + o;
            const float ac = a[c], bc = b[c], mc = center[c], kc = k[c];
            for (int64_t i = 0; i < inner; i++) ds[i] = ac * gs[i] + (bc * (xs[i] - mc) + kc);
        }
    }
}

void CK_NAME(ck_relu)(const float *restrict x, float *restrict y, int64_t n) {
    // Swift's max(x, 0) is `0 >= x ? 0 : x`: NaN stays, −0 becomes +0.
    for (int64_t i = 0; i < n; i++) y[i] = x[i] <= 0 ? 0.0f : x[i];
}

void CK_NAME(ck_relu_backward)(const float *restrict g, const float *restrict x, float *restrict dx, int64_t n) {
    for (int64_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? g[i] : 0.0f;
}

#undef CK_LANES
#undef CK_NAME
#undef CK_CAT
#undef CK_CAT2
#endif

// The convolution drivers, compiled once per instruction set (see conv_body.c): im2col and the
// small GEMMs call the including file's tile kernel and transpose directly, and the copies use that
// file's vector width.
#ifdef CK_CONV_DRIVERS

#include <stdlib.h>
#include <string.h>

#ifndef ALWAYS
#define ALWAYS static inline __attribute__((always_inline))
#endif

#define CK_CAT2(a, b) a##_##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK_NAME(f) CK_CAT(f, CK_SUFFIX)

#define scratch_floats CK_NAME(scratch_floats)
#define small_gemm CK_NAME(small_gemm)
static float *scratch_floats(int64_t n) {
    return (float *)CK_ALIGNED_ALLOC((size_t)(n > 0 ? n : 1) * sizeof(float));
}

// MARK: - Small GEMM from tiles

// C[m×n] (mode) A·B with A[i, p] at a[i·rsa + p·csa], B row-major (ldb), C row-major (ldc).
// Rows go in balanced tiles of at most 6 (32 rows: 5,5,6,5,5,6), columns in tiles of 16.
static void small_gemm(int64_t m, int64_t n, int64_t k, const float *a, int64_t rsa, int64_t csa,
                       const float *b, int64_t ldb, float *c, int64_t ldc, int mode, const float *bias) {
    if (m <= 0 || n <= 0) return;
    const int64_t tiles = (m + 5) / 6;
    for (int64_t j = 0; j < n; j += 16) {
        const int64_t nr = n - j < 16 ? n - j : 16;
        int64_t i = 0;
        for (int64_t t = 0; t < tiles; t++) {
            const int64_t i1 = m * (t + 1) / tiles;
            CK_TILE(i1 - i, nr, k, a + i * rsa, rsa, csa, b + j, ldb, c + i * ldc + j, ldc, mode, bias ? bias + i : NULL);
            i = i1;
        }
    }
}


// MARK: - Columns

// One convolution's sizes, copied out of the geometry into plain locals (stores through float
// pointers could otherwise alias the struct and force reloads in the inner loops).
#ifndef CK_CONV_PLAN
#define CK_CONV_PLAN
typedef struct {
    int64_t C, H, W, O, KH, KW, SH, SW, PH, PW, DH, DW, OH, OW;
    int64_t rows;       // C·KH·KW
    int64_t positions;  // OH·OW
    int64_t ldcol;      // positions rounded up to 8; the columns past `positions` stay 0
    int padded;
    int64_t pw, pplane; // padded width and plane
    int unit;           // stride 1 and dilation 1
} conv_plan;
#endif

#define make_plan CK_NAME(make_plan)
#define copy_floats CK_NAME(copy_floats)
#define pad_image CK_NAME(pad_image)
#define im2col_unit CK_NAME(im2col_unit)
#define im2col_image CK_NAME(im2col_image)
#define col2im_image CK_NAME(col2im_image)

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
        case 4: if (H == 4 && pw == 6) pad_image(C, 4, 4, 6, pplane, top, left, x, pad);
                else pad_image(C, H, 4, pw, pplane, top, left, x, pad);
                break;
        case 8: if (H == 8 && pw == 10) pad_image(C, 8, 8, 10, pplane, top, left, x, pad);
                else pad_image(C, H, 8, pw, pplane, top, left, x, pad);
                break;
        case 16: pad_image(C, H, 16, pw, pplane, top, left, x, pad); break;
        default: pad_image(C, H, W, pw, pplane, top, left, x, pad); break;
        }
        src = pad;
        rs = pw;
        plane = pplane;
    }
    if (P->unit) {
        // The small CNN's layers: everything but the channel count constant, so that a channel's
        // columns are straight-line vector moves.
        if (KH == 3 && KW == 3 && OH == OW && rs == OW + 2) {
            switch (OW) {
            case 4: im2col_unit(C, 3, 3, 4, 4, src, 6, plane, col, ldcol); return;
            case 8: im2col_unit(C, 3, 3, 8, 8, src, 10, plane, col, ldcol); return;
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

// MARK: - Winograd F(2×2, 3×3)

// For 3×3 kernels with stride 1 (the small CNN's layers), each 2×2 block of outputs is computed
// from a 4×4 block of input (Lavin & Gray 2016): Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, which turns the
// 36 multiplications per output block, channel and filter into 16 multiply-adds in a transformed
// domain, done as 16 GEMMs (one per transformed element ξ) over all blocks of a group of images.
// The transforms work on vectors of 8 channels: each image is first transposed to channels-last
// (HWC) into a zero-bordered buffer. Entries of B, G and A are 0, ±1 and ±½, so the rounding
// error stays that of a direct sum.
//
//   forward       M[ξ][t][o]  = Σ_c V[ξ][t][c] · U[ξ][c][o]      V = Bᵀ d B,  U = G g Gᵀ
//   weight grad   dU[ξ][c][o] = Σ_t V[ξ][t][c] · Z[ξ][t][o]      Z = A dY Aᵀ, dg = Gᵀ dU G
//   input grad    the forward pass of the transposed convolution (see transposed_geometry).
//
// The 16 transformed planes of a group are laid out plane after plane; their stride is kept off a
// multiple of 4 KB (16 planes 4 KB apart fall into one L1 set and evict each other).

#ifndef CK_WINOGRAD_TYPES
#define CK_WINOGRAD_TYPES
typedef float ck_v8 __attribute__((vector_size(32)));
#endif
// Without AVX the 8-float vectors are pairs of SSE registers; they never cross a call boundary
// (every helper is inlined), so the ABI note the compiler makes about them does not apply.
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wpsabi"
#define wino_load CK_NAME(wino_load)
#define wino_store CK_NAME(wino_store)
ALWAYS ck_v8 wino_load(const float *p) { ck_v8 v; memcpy(&v, p, sizeof v); return v; }
ALWAYS void wino_store(float *p, ck_v8 v) { memcpy(p, &v, sizeof v); }

static int CK_NAME(winograd_eligible)(const conv_plan *P) {
    return P->KH == 3 && P->KW == 3 && P->unit && P->C % 8 == 0 && P->O % 8 == 0 && P->OH >= 1 && P->OW >= 1
        && P->PH <= 2 && P->PW <= 2 && (P->H + 2 * P->PH + 2) * (P->W + 2 * P->PW + 2) <= 4096;
}

// The sizes of the Winograd path for one convolution.
typedef struct {
    int64_t TH, TW, tiles;   // blocks of 2×2 outputs per image (rows, columns, all)
    int64_t PHt, PWt;        // the zero-bordered HWC buffer: rows and columns
    int64_t group;           // images per group
    int64_t T;               // blocks per group
    int64_t VS, MS;          // plane strides of V (channels C) and M or Z (channels O)
} CK_NAME(wino_plan);
#define wino_plan CK_NAME(wino_plan)

static wino_plan CK_NAME(make_wino_plan)(const conv_plan *P, int64_t images) {
    wino_plan w;
    w.TH = (P->OH + 1) / 2;
    w.TW = (P->OW + 1) / 2;
    w.tiles = w.TH * w.TW;
    w.PHt = 2 * w.TH + 2;
    w.PWt = 2 * w.TW + 2;
    w.group = 64 / w.tiles;
    if (w.group < 1) w.group = 1;
    if (w.group > images) w.group = images;
    w.T = w.group * w.tiles;
    w.VS = w.T * P->C;
    w.MS = w.T * P->O;
    if (w.VS % 1024 == 0) w.VS += 16;
    if (w.MS % 1024 == 0) w.MS += 16;
    return w;
}

// U[ξ][c][o] = (G g Gᵀ)[ξ] for g = W[o][c] (3×3).
static void CK_NAME(winograd_filter)(const float *w, int64_t O, int64_t C, float *U) {
    for (int64_t o = 0; o < O; o++) {
        for (int64_t c = 0; c < C; c++) {
            const float *g = w + (o * C + c) * 9;
            float t[4][3];
            for (int j = 0; j < 3; j++) {
                const float g0 = g[j], g1 = g[3 + j], g2 = g[6 + j];
                t[0][j] = g0;
                t[1][j] = 0.5f * (g0 + g1 + g2);
                t[2][j] = 0.5f * (g0 - g1 + g2);
                t[3][j] = g2;
            }
            for (int i = 0; i < 4; i++) {
                const float g0 = t[i][0], g1 = t[i][1], g2 = t[i][2];
                U[((i * 4 + 0) * C + c) * O + o] = g0;
                U[((i * 4 + 1) * C + c) * O + o] = 0.5f * (g0 + g1 + g2);
                U[((i * 4 + 2) * C + c) * O + o] = 0.5f * (g0 - g1 + g2);
                U[((i * 4 + 3) * C + c) * O + o] = g2;
            }
        }
    }
}

// dWᵀ[(c, u, v)][o] += (Gᵀ dU[·][c][o] G)[u][v].
static void CK_NAME(winograd_filter_gradient)(const float *dU, int64_t O, int64_t C, float *dwt) {
    for (int64_t c = 0; c < C; c++) {
        for (int64_t o = 0; o < O; o++) {
            float d[4][4], t[3][4];
            for (int i = 0; i < 16; i++) d[i / 4][i % 4] = dU[(i * C + c) * O + o];
            for (int j = 0; j < 4; j++) {
                t[0][j] = d[0][j] + 0.5f * (d[1][j] + d[2][j]);
                t[1][j] = 0.5f * (d[1][j] - d[2][j]);
                t[2][j] = 0.5f * (d[1][j] + d[2][j]) + d[3][j];
            }
            for (int i = 0; i < 3; i++) {
                float *row = dwt + ((c * 3 + i) * 3) * O + o;
                row[0] += t[i][0] + 0.5f * (t[i][1] + t[i][2]);
                row[O] += 0.5f * (t[i][1] - t[i][2]);
                row[2 * O] += 0.5f * (t[i][1] + t[i][2]) + t[i][3];
            }
        }
    }
}

// One image [C, H, W] into the zero-bordered HWC buffer xp (its border stays 0: only the interior
// is written), through xt [H·W, C].
static void CK_NAME(winograd_hwc)(const conv_plan *P, const wino_plan *w, const float *x, float *xt, float *xp) {
    const int64_t C = P->C, H = P->H, W = P->W;
    CK_TRANSPOSE(x, H * W, xt, C, C, H * W);
    for (int64_t r = 0; r < H; r++)
        memcpy(xp + ((r + P->PH) * w->PWt + P->PW) * C, xt + r * W * C, (size_t)(W * C) * sizeof(float));
}

// V[ξ][t][c] = (Bᵀ d B)[ξ] for the image's blocks, numbered from t0.
static void CK_NAME(winograd_input)(const conv_plan *P, const wino_plan *w, const float *xp, float *V, int64_t t0) {
    const int64_t C = P->C, PWt = w->PWt;
    for (int64_t ty = 0; ty < w->TH; ty++) {
        for (int64_t tx = 0; tx < w->TW; tx++) {
            const int64_t t = t0 + ty * w->TW + tx;
            const float *base = xp + (2 * ty * PWt + 2 * tx) * C;
            for (int64_t cb = 0; cb < C; cb += 8) {
                ck_v8 d[4][4], e[4][4];
                for (int a = 0; a < 4; a++)
                    for (int b = 0; b < 4; b++) d[a][b] = wino_load(base + (a * PWt + b) * C + cb);
                for (int b = 0; b < 4; b++) {
                    e[0][b] = d[0][b] - d[2][b];
                    e[1][b] = d[1][b] + d[2][b];
                    e[2][b] = d[2][b] - d[1][b];
                    e[3][b] = d[1][b] - d[3][b];
                }
                float *v = V + t * C + cb;
                for (int a = 0; a < 4; a++) {
                    wino_store(v + (a * 4 + 0) * w->VS, e[a][0] - e[a][2]);
                    wino_store(v + (a * 4 + 1) * w->VS, e[a][1] + e[a][2]);
                    wino_store(v + (a * 4 + 2) * w->VS, e[a][2] - e[a][1]);
                    wino_store(v + (a * 4 + 3) * w->VS, e[a][1] - e[a][3]);
                }
            }
        }
    }
}

// The image's outputs Aᵀ M A (+ bias) into yt [OH·OW, O], then transposed into y [O, OH·OW].
static void CK_NAME(winograd_output)(const conv_plan *P, const wino_plan *w, const float *M, int64_t t0,
                                     const float *bias, float *yt, float *y) {
    const int64_t O = P->O, OH = P->OH, OW = P->OW;
    for (int64_t ty = 0; ty < w->TH; ty++) {
        for (int64_t tx = 0; tx < w->TW; tx++) {
            const int64_t t = t0 + ty * w->TW + tx;
            const int64_t oh = 2 * ty, ow = 2 * tx;
            for (int64_t ob = 0; ob < O; ob += 8) {
                ck_v8 m[4][4], s[2][4];
                const float *mp = M + t * O + ob;
                for (int a = 0; a < 4; a++)
                    for (int b = 0; b < 4; b++) m[a][b] = wino_load(mp + (a * 4 + b) * w->MS);
                for (int b = 0; b < 4; b++) {
                    s[0][b] = m[0][b] + m[1][b] + m[2][b];
                    s[1][b] = m[1][b] - m[2][b] - m[3][b];
                }
                ck_v8 k = {0};
                if (bias) k = wino_load(bias + ob);
                for (int a = 0; a < 2; a++) {
                    if (oh + a >= OH) break;
                    wino_store(yt + ((oh + a) * OW + ow) * O + ob, s[a][0] + s[a][1] + s[a][2] + k);
                    if (ow + 1 < OW) wino_store(yt + ((oh + a) * OW + ow + 1) * O + ob, s[a][1] - s[a][2] - s[a][3] + k);
                }
            }
        }
    }
    CK_TRANSPOSE(yt, O, y, OH * OW, OH * OW, O);
}

// Z[ξ][t][o] = (A dY Aᵀ)[ξ] for the image's blocks, from its output gradient in HWC layout (pixel
// (r, c) at hwc[(r·rowstride + c)·O]); outputs past the edge count as 0.
static void CK_NAME(winograd_z)(const conv_plan *P, const wino_plan *w, const float *hwc, int64_t rowstride,
                                float *Z, int64_t t0) {
    const int64_t O = P->O, OH = P->OH, OW = P->OW;
    const ck_v8 zero = {0};
    for (int64_t ty = 0; ty < w->TH; ty++) {
        for (int64_t tx = 0; tx < w->TW; tx++) {
            const int64_t t = t0 + ty * w->TW + tx;
            const int64_t oh = 2 * ty, ow = 2 * tx;
            const int right = ow + 1 < OW, below = oh + 1 < OH;
            const float *p00 = hwc + (oh * rowstride + ow) * O, *p10 = p00 + rowstride * O;
            for (int64_t ob = 0; ob < O; ob += 8) {
                const ck_v8 y00 = wino_load(p00 + ob);
                const ck_v8 y01 = right ? wino_load(p00 + O + ob) : zero;
                const ck_v8 y10 = below ? wino_load(p10 + ob) : zero;
                const ck_v8 y11 = right && below ? wino_load(p10 + O + ob) : zero;
                // Rows of A·dY: r0, r0 + r1, r0 − r1, −r1; then each row (a, b) → (a, a + b, a − b, −b).
                const ck_v8 p[4][2] = {{y00, y01}, {y00 + y10, y01 + y11}, {y00 - y10, y01 - y11}, {-y10, -y11}};
                float *z = Z + t * O + ob;
                for (int a = 0; a < 4; a++) {
                    wino_store(z + (a * 4 + 0) * w->MS, p[a][0]);
                    wino_store(z + (a * 4 + 1) * w->MS, p[a][0] + p[a][1]);
                    wino_store(z + (a * 4 + 2) * w->MS, p[a][0] - p[a][1]);
                    wino_store(z + (a * 4 + 3) * w->MS, -p[a][1]);
                }
            }
        }
    }
}

static void CK_NAME(winograd_forward)(const conv_plan *P, int64_t images, const float *x, const float *w,
                                      const float *bias, float *y) {
    const wino_plan W = CK_NAME(make_wino_plan)(P, images);
    const int64_t C = P->C, O = P->O, in_image = C * P->H * P->W, out_image = O * P->positions;
    float *U = scratch_floats(16 * C * O), *V = scratch_floats(16 * W.VS), *M = scratch_floats(16 * W.MS);
    float *xt = scratch_floats(P->H * P->W * C), *xp = scratch_floats(W.PHt * W.PWt * C);
    float *yt = scratch_floats(P->positions * O);
    memset(xp, 0, (size_t)(W.PHt * W.PWt * C) * sizeof(float));
    CK_NAME(winograd_filter)(w, O, C, U);
    for (int64_t n0 = 0; n0 < images; n0 += W.group) {
        const int64_t count = images - n0 < W.group ? images - n0 : W.group, T = count * W.tiles;
        for (int64_t j = 0; j < count; j++) {
            CK_NAME(winograd_hwc)(P, &W, x + (n0 + j) * in_image, xt, xp);
            CK_NAME(winograd_input)(P, &W, xp, V, j * W.tiles);
        }
        for (int xi = 0; xi < 16; xi++)
            small_gemm(T, O, C, V + xi * W.VS, C, 1, U + xi * C * O, O, M + xi * W.MS, O, CK_TILE_SET, NULL);
        for (int64_t j = 0; j < count; j++)
            CK_NAME(winograd_output)(P, &W, M, j * W.tiles, bias, yt, y + (n0 + j) * out_image);
    }
    free(U); free(V); free(M); free(xt); free(xp); free(yt);
}

// dWᵀ [C·9, O] += the weight gradient of `images` images.
static void CK_NAME(winograd_weight_gradient)(const conv_plan *P, int64_t images, const float *x, const float *dy,
                                              float *dwt) {
    const wino_plan W = CK_NAME(make_wino_plan)(P, images);
    const int64_t C = P->C, O = P->O, in_image = C * P->H * P->W, out_image = O * P->positions;
    float *dU = scratch_floats(16 * C * O), *V = scratch_floats(16 * W.VS), *Z = scratch_floats(16 * W.MS);
    float *xt = scratch_floats(P->H * P->W * C), *xp = scratch_floats(W.PHt * W.PWt * C);
    float *dyt = scratch_floats(P->positions * O);
    memset(xp, 0, (size_t)(W.PHt * W.PWt * C) * sizeof(float));
    memset(dU, 0, (size_t)(16 * C * O) * sizeof(float));
    for (int64_t n0 = 0; n0 < images; n0 += W.group) {
        const int64_t count = images - n0 < W.group ? images - n0 : W.group, T = count * W.tiles;
        for (int64_t j = 0; j < count; j++) {
            CK_NAME(winograd_hwc)(P, &W, x + (n0 + j) * in_image, xt, xp);
            CK_NAME(winograd_input)(P, &W, xp, V, j * W.tiles);
            CK_TRANSPOSE(dy + (n0 + j) * out_image, P->positions, dyt, O, O, P->positions);
            CK_NAME(winograd_z)(P, &W, dyt, P->OW, Z, j * W.tiles);
        }
        // dU[ξ][c][o] += Σ_t V[ξ][t][c] · Z[ξ][t][o]
        for (int xi = 0; xi < 16; xi++)
            small_gemm(C, O, T, V + xi * W.VS, 1, C, Z + xi * W.MS, O, dU + xi * C * O, O, CK_TILE_ADD, NULL);
    }
    CK_NAME(winograd_filter_gradient)(dU, O, C, dwt);
    free(dU); free(V); free(Z); free(xt); free(xp); free(dyt);
}


#pragma clang diagnostic pop

// MARK: - Convolution

void CK_NAME(ck_conv2d_forward)(const ck_conv_geometry *g, int64_t images, const float *x, const float *w,
                       const float *bias, float *y) {
    const conv_plan P = make_plan(g);
    if (images > 0 && ck_conv_winograd_enabled() && CK_NAME(winograd_eligible)(&P)) {
        CK_NAME(winograd_forward)(&P, images, x, w, bias, y);
        return;
    }
    const int64_t in_image = P.C * P.H * P.W, out_image = P.O * P.positions;
    float *col = scratch_floats(P.rows * P.ldcol);
    float *pad = P.padded ? scratch_floats(P.C * P.pplane) : NULL;
    memset(col, 0, (size_t)(P.rows * P.ldcol) * sizeof(float));
    if (pad) memset(pad, 0, (size_t)(P.C * P.pplane) * sizeof(float));
    for (int64_t n = 0; n < images; n++) {
        im2col_image(&P, x + n * in_image, pad, col, P.ldcol);
        small_gemm(P.O, P.positions, P.rows, w, P.rows, 1, col, P.ldcol, y + n * out_image,
                   P.positions, bias ? CK_TILE_BIAS : CK_TILE_SET, bias);
    }
    free(col);
    free(pad);
}

// The input gradient of a stride-1 convolution is itself a stride-1 convolution: of the output
// gradient (O channels, OH×OW, padded by d·(K − 1) − p) with the weight flipped in space and with
// its two channel axes swapped, W′[c, o, u, v] = W[o, c, KH−1−u, KW−1−v]. It then needs no col2im
// (a scatter of overlapping runs) and its GEMM has the long reduction O·KH·KW.
static int CK_NAME(transposed_geometry)(const conv_plan *P, ck_conv_geometry *t) {
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

void CK_NAME(ck_conv2d_backward)(const ck_conv_geometry *g, int64_t images, const float *x, const float *w,
                        const float *dy, float *dx, float *dwt) {
    if (!dx && !dwt) return;
    const conv_plan P = make_plan(g);
    const int64_t in_image = P.C * P.H * P.W, out_image = P.O * P.positions, O = P.O;
    if (dwt && images > 0 && ck_conv_winograd_enabled() && CK_NAME(winograd_eligible)(&P)) {
        CK_NAME(winograd_weight_gradient)(&P, images, x, dy, dwt);
    } else if (dwt) {
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
                CK_TRANSPOSE(dy + (n0 + j) * out_image, P.positions, dyt + j * P.ldcol * O, O, O, P.positions);
            }
            small_gemm(P.rows, O, count * P.ldcol, col, ld, 1, dyt, O, dwt, O, CK_TILE_ADD, NULL);
        }
        free(col);
        free(dyt);
        free(pad);
    }
    if (!dx) return;
    ck_conv_geometry tg;
    if (CK_NAME(transposed_geometry)(&P, &tg)) {
        // W′[c, (o, u, v)] = W[o, c, KH−1−u, KW−1−v]
        const int64_t kk = P.KH * P.KW;
        float *wt = scratch_floats(P.C * O * kk);
        for (int64_t o = 0; o < O; o++)
            for (int64_t c = 0; c < P.C; c++)
                for (int64_t t = 0; t < kk; t++) wt[(c * O + o) * kk + t] = w[(o * P.C + c) * kk + (kk - 1 - t)];
        CK_NAME(ck_conv2d_forward)(&tg, images, dy, wt, NULL, dx);
        free(wt);
        return;
    }
    float *col = scratch_floats(P.rows * P.ldcol);
    float *pad = P.padded ? scratch_floats(P.C * P.pplane) : NULL;
    for (int64_t n = 0; n < images; n++) {
        // dcol[CK, P] = Wᵀ[CK, O] · dy[O, P], then scattered back onto the image.
        small_gemm(P.rows, P.positions, O, w, 1, P.rows, dy + n * out_image, P.positions, col, P.ldcol,
                   CK_TILE_SET, NULL);
        col2im_image(&P, col, pad, dx + n * in_image);
    }
    free(col);
    free(pad);
}

#undef wino_load
#undef wino_store
#undef wino_plan
#undef scratch_floats
#undef small_gemm
#undef make_plan
#undef copy_floats
#undef pad_image
#undef im2col_unit
#undef im2col_image
#undef col2im_image
#undef CK_NAME
#undef CK_CAT
#undef CK_CAT2
#endif
