// Portable versions of the convolution, pooling and batch-norm kernels (any CPU; the compiler's
// baseline vectors).
#define CK_CONV_INTERNAL
#include "ckernels_conv.h"

#include <string.h>

void ck_conv_tile_generic(int64_t mr, int64_t nr, int64_t k, const float *a, int64_t rsa, int64_t csa,
                          const float *b, int64_t ldb, float *c, int64_t ldc, int mode, const float *bias) {
    float acc[6][16];
    for (int64_t i = 0; i < mr; i++)
        for (int64_t j = 0; j < 16; j++) acc[i][j] = mode == CK_TILE_BIAS ? bias[i] : 0.0f;
    for (int64_t p = 0; p < k; p++) {
        const float *bp = b + p * ldb;
        for (int64_t i = 0; i < mr; i++) {
            const float ai = a[i * rsa + p * csa];
            for (int64_t j = 0; j < nr; j++) acc[i][j] += ai * bp[j];
        }
    }
    for (int64_t i = 0; i < mr; i++) {
        float *ci = c + i * ldc;
        if (mode == CK_TILE_ADD) {
            for (int64_t j = 0; j < nr; j++) ci[j] += acc[i][j];
        } else {
            for (int64_t j = 0; j < nr; j++) ci[j] = acc[i][j];
        }
    }
}

void ck_transpose_generic(const float *src, int64_t lds, float *dst, int64_t ldd, int64_t rows, int64_t cols) {
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) dst[j * ldd + i] = src[i * lds + j];
}

// The window's maximum as the vector code finds it: the first maximal tap, or the first NaN.
static inline void best_of4(float t0, float t1, float t2, float t3, float *out, uint8_t *tap) {
    float best = t0;
    uint8_t at = 0;
    const float rest[3] = {t1, t2, t3};
    for (int t = 0; t < 3; t++) {
        if (!(rest[t] <= best) && best == best) { best = rest[t]; at = (uint8_t)(t + 1); }
    }
    *out = best;
    *tap = at;
}

void ck_maxpool2x2_forward_generic(const float *x, float *y, uint8_t *tap, int64_t planes, int64_t h, int64_t w) {
    const int64_t oh = h / 2, ow = w / 2;
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = x + p * h * w;
        for (int64_t i = 0; i < oh; i++) {
            const float *r0 = xp + 2 * i * w, *r1 = r0 + w;
            float *yo = y + (p * oh + i) * ow;
            uint8_t *to = tap + (p * oh + i) * ow;
            for (int64_t j = 0; j < ow; j++) best_of4(r0[2 * j], r0[2 * j + 1], r1[2 * j], r1[2 * j + 1], yo + j, to + j);
        }
    }
}

void ck_maxpool2x2_backward_generic(const float *dy, const uint8_t *tap, float *dx, int64_t planes, int64_t h, int64_t w) {
    const int64_t oh = h / 2, ow = w / 2;
    for (int64_t p = 0; p < planes; p++) {
        float *dp = dx + p * h * w;
        for (int64_t i = 0; i < oh; i++) {
            float *r0 = dp + 2 * i * w, *r1 = r0 + w;
            const float *gi = dy + (p * oh + i) * ow;
            const uint8_t *ti = tap + (p * oh + i) * ow;
            for (int64_t j = 0; j < ow; j++) {
                const float g = gi[j];
                const int t = ti[j];
                r0[2 * j] = t == 0 ? g : 0.0f;
                r0[2 * j + 1] = t == 1 ? g : 0.0f;
                r1[2 * j] = t == 2 ? g : 0.0f;
                r1[2 * j + 1] = t == 3 ? g : 0.0f;
            }
            if (w & 1) { r0[w - 1] = 0; r1[w - 1] = 0; }
        }
        if (h & 1) memset(dp + (h - 1) * w, 0, (size_t)w * sizeof(float));
    }
}

#define CK_CONV_BODY
#define CK_CONV_DRIVERS
#define CK_SUFFIX generic
#define CK_TILE ck_conv_tile_generic
#define CK_TRANSPOSE ck_transpose_generic
#include "conv_body.c"
