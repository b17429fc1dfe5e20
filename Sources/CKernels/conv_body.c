// Code written once and compiled once per instruction set: conv_generic.c, conv_avx2.c and
// conv_avx512.c include this file with CK_SUFFIX set and (for the x86 levels) a target attribute on
// every function. With CK_CONV_BODY: the elementwise loops of batch norm and ReLU. With
// CK_CONV_DRIVERS (and CK_TILE / CK_TRANSPOSE naming the file's register tile and transpose): the
// convolution drivers. Compiled on its own, it is empty.
#ifdef CK_CONV_BODY

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
    float *lanes = (float *)aligned_alloc(64, (size_t)(2 * nc * CK_LANES) * sizeof(float));
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
    float *lanes = (float *)aligned_alloc(64, (size_t)(2 * nc * CK_LANES) * sizeof(float));
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
    size_t bytes = (size_t)(n > 0 ? n : 1) * sizeof(float);
    bytes = (bytes + 63) & ~(size_t)63;
    return (float *)aligned_alloc(64, bytes);
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

// MARK: - Convolution

void CK_NAME(ck_conv2d_forward)(const ck_conv_geometry *g, int64_t images, const float *x, const float *w,
                       const float *bias, float *y) {
    const conv_plan P = make_plan(g);
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
