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

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic int g_winograd = 1;

void ck_conv_set_winograd(int enabled) { atomic_store_explicit(&g_winograd, enabled != 0, memory_order_relaxed); }
int ck_conv_winograd_enabled(void) { return atomic_load_explicit(&g_winograd, memory_order_relaxed); }

// MARK: - Convolution (dispatch; the drivers are in conv_body.c, compiled per instruction set)

void ck_conv2d_forward(const ck_conv_geometry *g, int64_t images, const float *x, const float *w,
                       const float *bias, float *y) {
    if (ck_active_isa() >= CK_ISA_AVX2) ck_conv2d_forward_avx2(g, images, x, w, bias, y);
    else ck_conv2d_forward_generic(g, images, x, w, bias, y);
}

void ck_conv2d_backward(const ck_conv_geometry *g, int64_t images, const float *x, const float *w,
                        const float *dy, float *dx, float *dwt) {
    if (ck_active_isa() >= CK_ISA_AVX2) ck_conv2d_backward_avx2(g, images, x, w, dy, dx, dwt);
    else ck_conv2d_backward_generic(g, images, x, w, dy, dx, dwt);
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
                       int64_t c0, int64_t c1, const float *center, const float *scale, const float *shift, int relu) {
    DISPATCH(ck_channel_affine_generic(x, y, batch, channels, inner, c0, c1, center, scale, shift, relu),
             ck_channel_affine_avx2(x, y, batch, channels, inner, c0, c1, center, scale, shift, relu),
             ck_channel_affine_avx512(x, y, batch, channels, inner, c0, c1, center, scale, shift, relu));
}

void ck_channel_affine2(const float *g, const float *x, float *dx, int64_t batch, int64_t channels, int64_t inner,
                        int64_t c0, int64_t c1, const float *a, const float *b, const float *center, const float *k) {
    DISPATCH(ck_channel_affine2_generic(g, x, dx, batch, channels, inner, c0, c1, a, b, center, k),
             ck_channel_affine2_avx2(g, x, dx, batch, channels, inner, c0, c1, a, b, center, k),
             ck_channel_affine2_avx512(g, x, dx, batch, channels, inner, c0, c1, a, b, center, k));
}

void ck_relu(const float *x, float *y, int64_t n) {
    DISPATCH(ck_relu_generic(x, y, n), ck_relu_avx2(x, y, n), ck_relu_avx512(x, y, n));
}

void ck_relu_backward(const float *g, const float *x, float *dx, int64_t n) {
    DISPATCH(ck_relu_backward_generic(g, x, dx, n), ck_relu_backward_avx2(g, x, dx, n),
             ck_relu_backward_avx512(g, x, dx, n));
}
