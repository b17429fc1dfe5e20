// The portable int8 GEMM pieces (activation quantisers and tile kernels), used on CPUs without
// AVX2 and as the reference the vector kernels are tested against; the AVX2 and AVX-512 VNNI
// versions live in qgemm_avx2.c and qgemm_avx512.c, the driver and packing in qgemm.c.
#include "ckernels_int8.h"
#include "qgemm_internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

// MARK: - Activations

void ck_q8_quantize_u8_generic(int64_t k, const float *x, float *scale, int32_t *zero, uint8_t *q) {
    float lo = 0.0f, hi = 0.0f;
    for (int64_t p = 0; p < k; p++) {
        lo = x[p] < lo ? x[p] : lo;
        hi = x[p] > hi ? x[p] : hi;
    }
    const float s = (hi - lo) / 255.0f;
    if (!(s > 0.0f) || !isfinite(s)) {   // all zeros (or non-finite input): everything maps to 0
        *scale = 0.0f;
        *zero = 0;
        memset(q, 0, (size_t)k);
        return;
    }
    const float inv = 1.0f / s;
    int32_t z = (int32_t)lrintf(-lo * inv);
    z = z < 0 ? 0 : (z > 255 ? 255 : z);
    for (int64_t p = 0; p < k; p++) {
        int32_t v = (int32_t)lrintf(x[p] * inv) + z;
        q[p] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
    *scale = s;
    *zero = z;
}

void ck_q8_quantize_s16_generic(int64_t k, int32_t levels, const float *x, float *scale, int16_t *q) {
    float m = 0.0f;
    for (int64_t p = 0; p < k; p++) {
        const float a = fabsf(x[p]);
        m = a > m ? a : m;
    }
    const float s = m / (float)levels;
    if (!(s > 0.0f) || !isfinite(s)) {
        *scale = 0.0f;
        memset(q, 0, (size_t)k * sizeof(int16_t));
        return;
    }
    const float inv = 1.0f / s;
    for (int64_t p = 0; p < k; p++) {
        int32_t v = (int32_t)lrintf(x[p] * inv);
        q[p] = (int16_t)(v < -levels ? -levels : (v > levels ? levels : v));
    }
    *scale = s;
}

// MARK: - Portable kernels

// The float epilogue shared by the portable kernels.
static void store_tile(const int32_t *acc, int NR, const float *sa, const int32_t *za, const float *sb,
                       const int32_t *bsum, const float *bias, float *y, int64_t ldy, int mr, int nr) {
    for (int r = 0; r < mr; r++) {
        for (int j = 0; j < nr; j++) {
            const int32_t c = acc[r * NR + j] - za[r] * bsum[j];
            y[r * ldy + j] = (float)c * (sa[r] * sb[j]) + (bias ? bias[j] : 0.0f);
        }
    }
}

void ck_q8_tile_pairs_generic(int64_t kg, const void *a, int64_t lda, const void *b, const float *sa, const int32_t *za,
                              const float *sb, const int32_t *bsum, const float *bias, float *y, int64_t ldy,
                              int mr, int nr) {
    enum { MR = CK_Q8P_MR, NR = CK_Q8P_NR };
    int32_t acc[MR * NR] = { 0 };
    const int16_t *pb = b;
    for (int r = 0; r < mr; r++) {
        const int16_t *pa = (const int16_t *)((const uint8_t *)a + r * lda);
        for (int64_t g = 0; g < kg; g++)
            for (int j = 0; j < NR; j++)
                acc[r * NR + j] += (int32_t)pa[g * 2] * pb[(g * NR + j) * 2] + (int32_t)pa[g * 2 + 1] * pb[(g * NR + j) * 2 + 1];
    }
    store_tile(acc, NR, sa, za, sb, bsum, bias, y, ldy, mr, nr);
}

void ck_q8_tile_quads_generic(int64_t kg, const void *a, int64_t lda, const void *b, const float *sa, const int32_t *za,
                              const float *sb, const int32_t *bsum, const float *bias, float *y, int64_t ldy,
                              int mr, int nr) {
    enum { MR = CK_Q8Q_MR, NR = CK_Q8Q_NR };
    int32_t acc[MR * NR] = { 0 };
    const int8_t *pb = b;
    for (int r = 0; r < mr; r++) {
        const uint8_t *pa = (const uint8_t *)a + r * lda;
        for (int64_t g = 0; g < kg; g++)
            for (int j = 0; j < NR; j++)
                for (int q = 0; q < 4; q++) acc[r * NR + j] += (int32_t)pa[g * 4 + q] * pb[(g * NR + j) * 4 + q];
    }
    store_tile(acc, NR, sa, za, sb, bsum, bias, y, ldy, mr, nr);
}
