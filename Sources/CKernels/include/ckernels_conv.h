// Kernels of the small-image layers of a CNN: convolution image by image with an L1-resident
// column matrix, 2×2 max pooling, batch-norm sums and affine maps, ReLU.
//
// Every entry point picks its instruction set at run time from ck_active_isa() (AVX2+FMA,
// AVX-512 or a portable fallback), like the GEMM. All are safe to call from several threads at
// once on disjoint outputs.
#ifndef CKERNELS_CONV_H
#define CKERNELS_CONV_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A 2-D convolution over NCHW data (1-D is height 1): input C×H×W per image, weight
/// [O, C, KH, KW], output O×OH×OW per image, PyTorch's cross-correlation.
typedef struct ck_conv_geometry {
    int64_t channels, height, width;
    int64_t out_channels, kernel_h, kernel_w;
    int64_t stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
    int64_t out_h, out_w;
} ck_conv_geometry;

/// Forward pass of `images` images starting at x (and y): per image, its column matrix
/// [C·KH·KW, OH·OW] is built in a scratch buffer that stays in L1/L2, and y = W·col (+ bias[o]
/// when bias is not NULL) is written straight into the NCHW output.
void ck_conv2d_forward(const ck_conv_geometry *g, int64_t images, const float *x, const float *w,
                       const float *bias, float *y);

/// Backward pass of `images` images starting at x, dy (and dx): when dx is not NULL it is
/// overwritten with the input gradient (col2im of Wᵀ·dy); when dwt is not NULL the weight
/// gradient is ADDED to it, transposed: dwt is [C·KH·KW, O].
void ck_conv2d_backward(const ck_conv_geometry *g, int64_t images, const float *x, const float *w,
                        const float *dy, float *dx, float *dwt);

/// Whether 3×3 stride-1 convolutions with channel counts that are multiples of 8 use Winograd's
/// F(2×2, 3×3) (the default: fewer multiplications) or the im2col tiles. Thread-safe; for tests and
/// comparisons.
void ck_conv_set_winograd(int enabled);
int ck_conv_winograd_enabled(void);

/// 2×2 max pooling with stride 2 and no padding over `planes` planes of h×w (h, w ≥ 2): output
/// planes of ⌊h/2⌋×⌊w/2⌋, and per output the tap (0..3, row-major in the window) that holds the
/// maximum: the first maximal one, and the first NaN when there is one.
void ck_maxpool2x2_forward(const float *x, float *y, uint8_t *tap, int64_t planes, int64_t h, int64_t w);

/// The gradient of ck_maxpool2x2_forward: every element of dx is written (the output gradient
/// on each window's chosen tap, 0 elsewhere, 0 in a last row or column no window covers).
void ck_maxpool2x2_backward(const float *dy, const uint8_t *tap, float *dx, int64_t planes, int64_t h, int64_t w);

/// Per channel c in [c0, c1) of x [batch, channels, inner]: sum[c] = Σ (x − shift[c]) and
/// sumsq[c] = Σ (x − shift[c])², over the batch and the inner axis (float vectors within a run of
/// `inner` values, double across runs).
void ck_channel_moments(const float *x, int64_t batch, int64_t channels, int64_t inner, int64_t c0, int64_t c1,
                        const float *shift, double *sum, double *sumsq);

/// Per channel c in [c0, c1): sum_g[c] = Σ g and sum_gx[c] = Σ g·(x − shift[c]).
void ck_channel_grad_sums(const float *g, const float *x, int64_t batch, int64_t channels, int64_t inner,
                          int64_t c0, int64_t c1, const float *shift, double *sum_g, double *sum_gx);

/// Per channel c in [c0, c1): y = (x − center[c])·scale[c] + shift[c]; with relu != 0, max(that, 0).
void ck_channel_affine(const float *x, float *y, int64_t batch, int64_t channels, int64_t inner,
                       int64_t c0, int64_t c1, const float *center, const float *scale, const float *shift, int relu);

/// Per channel c in [c0, c1): dx = a[c]·g + b[c]·(x − center[c]) + k[c].
void ck_channel_affine2(const float *g, const float *x, float *dx, int64_t batch, int64_t channels, int64_t inner,
                        int64_t c0, int64_t c1, const float *a, const float *b, const float *center, const float *k);

/// y = x for x > 0 or NaN, else +0 (Swift's max(x, 0)).
void ck_relu(const float *x, float *y, int64_t n);
/// dx = g where x > 0, else 0.
void ck_relu_backward(const float *g, const float *x, float *dx, int64_t n);

#ifdef CK_CONV_INTERNAL
// Shared between conv.c and the per-ISA files; not part of the Swift interface.

/// C[mr×nr] (=, +=, = bias[i] +) Σ_p A[i, p]·B[p, j] for mr ≤ 6, nr ≤ 16: A[i, p] at
/// a[i·rsa + p·csa], B[p, j] at b[p·ldb + j], C[i, j] at c[i·ldc + j].
enum { CK_TILE_SET = 0, CK_TILE_ADD = 1, CK_TILE_BIAS = 2 };
typedef void (*ck_conv_tile_fn)(int64_t mr, int64_t nr, int64_t k, const float *a, int64_t rsa, int64_t csa,
                                const float *b, int64_t ldb, float *c, int64_t ldc, int mode, const float *bias);
void ck_conv_tile_generic(int64_t mr, int64_t nr, int64_t k, const float *a, int64_t rsa, int64_t csa,
                          const float *b, int64_t ldb, float *c, int64_t ldc, int mode, const float *bias);
void ck_conv_tile_avx2(int64_t mr, int64_t nr, int64_t k, const float *a, int64_t rsa, int64_t csa,
                       const float *b, int64_t ldb, float *c, int64_t ldc, int mode, const float *bias);

/// dst[j·ldd + i] = src[i·lds + j] for i < rows, j < cols.
typedef void (*ck_transpose_fn)(const float *src, int64_t lds, float *dst, int64_t ldd, int64_t rows, int64_t cols);
void ck_transpose_generic(const float *src, int64_t lds, float *dst, int64_t ldd, int64_t rows, int64_t cols);
void ck_transpose_avx2(const float *src, int64_t lds, float *dst, int64_t ldd, int64_t rows, int64_t cols);

void ck_conv2d_forward_generic(const ck_conv_geometry *g, int64_t images, const float *x, const float *w,
                               const float *bias, float *y);
void ck_conv2d_forward_avx2(const ck_conv_geometry *g, int64_t images, const float *x, const float *w,
                            const float *bias, float *y);
void ck_conv2d_backward_generic(const ck_conv_geometry *g, int64_t images, const float *x, const float *w,
                                const float *dy, float *dx, float *dwt);
void ck_conv2d_backward_avx2(const ck_conv_geometry *g, int64_t images, const float *x, const float *w,
                             const float *dy, float *dx, float *dwt);

void ck_maxpool2x2_forward_generic(const float *x, float *y, uint8_t *tap, int64_t planes, int64_t h, int64_t w);
void ck_maxpool2x2_forward_avx2(const float *x, float *y, uint8_t *tap, int64_t planes, int64_t h, int64_t w);
void ck_maxpool2x2_backward_generic(const float *dy, const uint8_t *tap, float *dx, int64_t planes, int64_t h, int64_t w);
void ck_maxpool2x2_backward_avx2(const float *dy, const uint8_t *tap, float *dx, int64_t planes, int64_t h, int64_t w);

// The elementwise loops, compiled once per instruction set from conv_body.c.
#define CK_CONV_LOOPS(S) \
    void ck_channel_moments_##S(const float *, int64_t, int64_t, int64_t, int64_t, int64_t, const float *, double *, double *); \
    void ck_channel_grad_sums_##S(const float *, const float *, int64_t, int64_t, int64_t, int64_t, int64_t, const float *, double *, double *); \
    void ck_channel_affine_##S(const float *, float *, int64_t, int64_t, int64_t, int64_t, int64_t, const float *, const float *, const float *, int); \
    void ck_channel_affine2_##S(const float *, const float *, float *, int64_t, int64_t, int64_t, int64_t, int64_t, const float *, const float *, const float *, const float *); \
    void ck_relu_##S(const float *, float *, int64_t); \
    void ck_relu_backward_##S(const float *, const float *, float *, int64_t);
CK_CONV_LOOPS(generic)
CK_CONV_LOOPS(avx2)
CK_CONV_LOOPS(avx512)
#undef CK_CONV_LOOPS
#endif

#ifdef __cplusplus
}
#endif

#endif
