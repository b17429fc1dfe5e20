// Int8 GEMM tile for AVX-512 VNNI (layout CK_Q8_QUADS): 8 rows × 32 columns in 16 zmm int32
// accumulators. vpdpbusd multiplies a row's four unsigned activation bytes (broadcast) with four
// signed weight bytes of each of 16 columns and adds the four products to the lane, exactly.
#if defined(__x86_64__)
#include "qgemm_internal.h"

#include <immintrin.h>

#define CK_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma")))
#define MR CK_Q8Q_MR
#define NR CK_Q8Q_NR

#define ROW(r)                                                                                     \
    do {                                                                                           \
        const __m512i av = _mm512_set1_epi32(a##r[g]);                                             \
        c##r##0 = _mm512_dpbusd_epi32(c##r##0, av, b0);                                            \
        c##r##1 = _mm512_dpbusd_epi32(c##r##1, av, b1);                                            \
    } while (0)

#define STORE(r)                                                                                   \
    do {                                                                                           \
        if ((r) < mr) {                                                                            \
            const __m512i z = _mm512_set1_epi32(za[r]);                                            \
            const __m512 s = _mm512_set1_ps(sa[r]);                                                \
            __m512 v0 = _mm512_cvtepi32_ps(_mm512_sub_epi32(c##r##0, _mm512_mullo_epi32(z, bs0))); \
            __m512 v1 = _mm512_cvtepi32_ps(_mm512_sub_epi32(c##r##1, _mm512_mullo_epi32(z, bs1))); \
            v0 = _mm512_fmadd_ps(v0, _mm512_mul_ps(s, sb0), bias0);                                \
            v1 = _mm512_fmadd_ps(v1, _mm512_mul_ps(s, sb1), bias1);                                \
            float *yr = y + (r) * ldy;                                                             \
            _mm512_mask_storeu_ps(yr, m0, v0);                                                     \
            _mm512_mask_storeu_ps(yr + 16, m1, v1);                                                \
        }                                                                                          \
    } while (0)

CK_TARGET void ck_q8_tile_quads_vnni(int64_t kg, const void *a, int64_t lda, const void *b, const float *sa, const int32_t *za,
                                     const float *sb, const int32_t *bsum, const float *bias, float *y, int64_t ldy,
                                     int mr, int nr) {
    __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m512i c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    // Each int32 of a row is four activation bytes.
#define ROWPTR(r) const int32_t *a##r = (const int32_t *)((const char *)a + (r) * lda)
    ROWPTR(0); ROWPTR(1); ROWPTR(2); ROWPTR(3); ROWPTR(4); ROWPTR(5); ROWPTR(6); ROWPTR(7);
#undef ROWPTR
    const __m512i *pb = b;
    for (int64_t g = 0; g < kg; g++) {
        const __m512i b0 = _mm512_load_si512(pb), b1 = _mm512_load_si512(pb + 1);
        ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5); ROW(6); ROW(7);
        pb += 2;
    }
    const __m512 sb0 = _mm512_loadu_ps(sb), sb1 = _mm512_loadu_ps(sb + 16);
    const __m512i bs0 = _mm512_loadu_si512(bsum), bs1 = _mm512_loadu_si512(bsum + 16);
    const __m512 bias0 = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
    const __m512 bias1 = bias ? _mm512_loadu_ps(bias + 16) : _mm512_setzero_ps();
    const __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : (nr <= 16 ? (__mmask16)0 : (__mmask16)((1u << (nr - 16)) - 1));
    STORE(0); STORE(1); STORE(2); STORE(3); STORE(4); STORE(5); STORE(6); STORE(7);
}
#endif
