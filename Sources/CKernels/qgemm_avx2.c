// Int8 GEMM tile for AVX2 (layout CK_Q8_PAIRS): 6 rows × 16 columns in 12 ymm int32 accumulators.
// Each step takes two k at once: a row's int16 pair (a0, a1) broadcast as one 32-bit lane meets
// the pairs (b0j, b1j) of 8 columns in vpmaddwd, which sums a0·b0j + a1·b1j exactly in 32 bits.
// The loop is kept rolled: unrolled, the compiler hoists loads and spills accumulators.
// Also the activation quantisers (vectorised min/max and rounding).
#if defined(__x86_64__)
#include "qgemm_internal.h"

#include <immintrin.h>
#include <math.h>

#define CK_TARGET __attribute__((target("avx2,fma")))
#define MR CK_Q8P_MR
#define NR CK_Q8P_NR

#define ROW(r)                                                                                     \
    do {                                                                                           \
        const __m256i av = _mm256_set1_epi32(a##r[g]);                                             \
        c##r##0 = _mm256_add_epi32(c##r##0, _mm256_madd_epi16(av, b0));                            \
        c##r##1 = _mm256_add_epi32(c##r##1, _mm256_madd_epi16(av, b1));                            \
    } while (0)

// Dequantise row r: (acc − za·bsum) · sa·sb + bias, stored whole or through a masked store.
#define STORE(r)                                                                                   \
    do {                                                                                           \
        if ((r) < mr) {                                                                            \
            const __m256i z = _mm256_set1_epi32(za[r]);                                            \
            const __m256 s = _mm256_set1_ps(sa[r]);                                                \
            __m256 v0 = _mm256_cvtepi32_ps(_mm256_sub_epi32(c##r##0, _mm256_mullo_epi32(z, bs0))); \
            __m256 v1 = _mm256_cvtepi32_ps(_mm256_sub_epi32(c##r##1, _mm256_mullo_epi32(z, bs1))); \
            v0 = _mm256_fmadd_ps(v0, _mm256_mul_ps(s, sb0), bias0);                                \
            v1 = _mm256_fmadd_ps(v1, _mm256_mul_ps(s, sb1), bias1);                                \
            float *yr = y + (r) * ldy;                                                             \
            if (nr == NR) {                                                                        \
                _mm256_storeu_ps(yr, v0);                                                          \
                _mm256_storeu_ps(yr + 8, v1);                                                      \
            } else {                                                                               \
                _mm256_maskstore_ps(yr, m0, v0);                                                   \
                _mm256_maskstore_ps(yr + 8, m1, v1);                                               \
            }                                                                                      \
        }                                                                                          \
    } while (0)

CK_TARGET void ck_q8_tile_pairs_avx2(int64_t kg, const void *a, int64_t lda, const void *b, const float *sa, const int32_t *za,
                                     const float *sb, const int32_t *bsum, const float *bias, float *y, int64_t ldy,
                                     int mr, int nr) {
    __m256i c00 = _mm256_setzero_si256(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    // Each int32 of a row is one (a0, a1) pair.
    const int32_t *a0 = a, *a1 = (const int32_t *)((const char *)a + lda), *a2 = (const int32_t *)((const char *)a + 2 * lda);
    const int32_t *a3 = (const int32_t *)((const char *)a + 3 * lda), *a4 = (const int32_t *)((const char *)a + 4 * lda);
    const int32_t *a5 = (const int32_t *)((const char *)a + 5 * lda);
    const __m256i *pb = b;
#pragma clang loop unroll(disable)
    for (int64_t g = 0; g < kg; g++) {
        const __m256i b0 = _mm256_load_si256(pb), b1 = _mm256_load_si256(pb + 1);
        ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5);
        pb += 2;
    }
    const __m256 sb0 = _mm256_loadu_ps(sb), sb1 = _mm256_loadu_ps(sb + 8);
    const __m256i bs0 = _mm256_loadu_si256((const __m256i *)bsum), bs1 = _mm256_loadu_si256((const __m256i *)(bsum + 8));
    const __m256 bias0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps();
    const __m256 bias1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane);
    STORE(0); STORE(1); STORE(2); STORE(3); STORE(4); STORE(5);
}

// One row, unsigned 8-bit with zero point (QUADS): min and max with 8-lane vectors, then
// round-to-nearest-even (as lrintf) and clamp.
CK_TARGET void ck_q8_quantize_u8_avx2(int64_t k, const float *x, float *scale, int32_t *zero, uint8_t *q) {
    __m256 lo = _mm256_setzero_ps(), hi = lo;
    int64_t p = 0;
    for (; p + 8 <= k; p += 8) {
        const __m256 v = _mm256_loadu_ps(x + p);
        lo = _mm256_min_ps(lo, v);
        hi = _mm256_max_ps(hi, v);
    }
    float l[8], h[8];
    _mm256_storeu_ps(l, lo);
    _mm256_storeu_ps(h, hi);
    float mn = 0.0f, mx = 0.0f;
    for (int i = 0; i < 8; i++) { mn = l[i] < mn ? l[i] : mn; mx = h[i] > mx ? h[i] : mx; }
    for (int64_t t = p; t < k; t++) { mn = x[t] < mn ? x[t] : mn; mx = x[t] > mx ? x[t] : mx; }
    const float s = (mx - mn) / 255.0f;
    if (!(s > 0.0f) || !isfinite(s)) {
        ck_q8_quantize_u8_generic(k, x, scale, zero, q);
        return;
    }
    const float inv = 1.0f / s;
    int32_t z = (int32_t)lrintf(-mn * inv);
    z = z < 0 ? 0 : (z > 255 ? 255 : z);
    const __m256 vinv = _mm256_set1_ps(inv);
    const __m256i vz = _mm256_set1_epi32(z), vmin = _mm256_setzero_si256(), vmax = _mm256_set1_epi32(255);
    for (p = 0; p + 8 <= k; p += 8) {
        __m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + p), vinv)); // nearest-even
        v = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(v, vz), vmin), vmax);
        // 8 int32 in [0, 255] → 8 bytes.
        const __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        _mm_storel_epi64((__m128i *)(q + p), _mm_packus_epi16(w, w));
    }
    for (; p < k; p++) {
        int32_t v = (int32_t)lrintf(x[p] * inv) + z;
        q[p] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
    *scale = s;
    *zero = z;
}

// One row, symmetric int16 within ±levels (PAIRS).
CK_TARGET void ck_q8_quantize_s16_avx2(int64_t k, int32_t levels, const float *x, float *scale, int16_t *q) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 mx = _mm256_setzero_ps();
    int64_t p = 0;
    for (; p + 8 <= k; p += 8) mx = _mm256_max_ps(mx, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + p)));
    float h[8];
    _mm256_storeu_ps(h, mx);
    float m = 0.0f;
    for (int i = 0; i < 8; i++) m = h[i] > m ? h[i] : m;
    for (int64_t t = p; t < k; t++) m = fabsf(x[t]) > m ? fabsf(x[t]) : m;
    const float s = m / (float)levels;
    if (!(s > 0.0f) || !isfinite(s)) {
        ck_q8_quantize_s16_generic(k, levels, x, scale, q);
        return;
    }
    const float inv = 1.0f / s;
    const __m256 vinv = _mm256_set1_ps(inv);
    const __m256i lo = _mm256_set1_epi32(-levels), hi = _mm256_set1_epi32(levels);
    for (p = 0; p + 8 <= k; p += 8) {
        __m256i v = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + p), vinv));
        v = _mm256_min_epi32(_mm256_max_epi32(v, lo), hi);
        _mm_storeu_si128((__m128i *)(q + p), _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
    }
    for (; p < k; p++) {
        int32_t v = (int32_t)lrintf(x[p] * inv);
        q[p] = (int16_t)(v < -levels ? -levels : (v > levels ? levels : v));
    }
    *scale = s;
}
#endif
