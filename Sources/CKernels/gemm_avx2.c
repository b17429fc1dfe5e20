// AVX2 + FMA GEMM: a 6×16 register tile (12 ymm accumulators, two B vectors and one broadcast
// A value live), the shape that keeps both FMA pipes of Zen 3 / Haswell busy while needing
// only 8 loads per 12 FMAs.
#if defined(__x86_64__)
#include "gemm_internal.h"

#define CK_TARGET __attribute__((target("avx2,fma")))
#include "gemm_pack.h"
#include "gemm_pack_x86.h"

// Cache blocks (overridable at compile time for tuning experiments).
#ifndef CK_AVX2_KC
#define CK_AVX2_KC 384
#endif
#ifndef CK_AVX2_MC
#define CK_AVX2_MC 144
#endif
#ifndef CK_AVX2_NC
#define CK_AVX2_NC 2048
#endif

#define MR 6
#define NR 16

#define ROW(r)                                                                                     \
    do {                                                                                           \
        const __m256 av = _mm256_broadcast_ss(a + (r));                                            \
        c##r##0 = _mm256_fmadd_ps(av, b0, c##r##0);                                                \
        c##r##1 = _mm256_fmadd_ps(av, b1, c##r##1);                                                \
    } while (0)

#define STORE(r)                                                                                   \
    do {                                                                                           \
        float *cr = c + (r) * ldc;                                                                 \
        if (beta == 0.0f) {                                                                        \
            _mm256_storeu_ps(cr, _mm256_mul_ps(va, c##r##0));                                      \
            _mm256_storeu_ps(cr + 8, _mm256_mul_ps(va, c##r##1));                                  \
        } else {                                                                                   \
            _mm256_storeu_ps(cr, _mm256_fmadd_ps(va, c##r##0, _mm256_mul_ps(vb, _mm256_loadu_ps(cr)))); \
            _mm256_storeu_ps(cr + 8,                                                               \
                             _mm256_fmadd_ps(va, c##r##1, _mm256_mul_ps(vb, _mm256_loadu_ps(cr + 8)))); \
        }                                                                                          \
    } while (0)

// Edge tile: rows below mr, columns below nr (masked loads and stores).
#define STORE_EDGE(r)                                                                              \
    do {                                                                                           \
        if ((r) < mr) {                                                                            \
            float *cr = c + (r) * ldc;                                                             \
            __m256 v0 = _mm256_mul_ps(va, c##r##0), v1 = _mm256_mul_ps(va, c##r##1);               \
            if (beta != 0.0f) {                                                                    \
                v0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr, m0), v0);                          \
                v1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cr + 8, m1), v1);                      \
            }                                                                                      \
            _mm256_maskstore_ps(cr, m0, v0);                                                       \
            _mm256_maskstore_ps(cr + 8, m1, v1);                                                   \
        }                                                                                          \
    } while (0)

// A short edge tile (one or two rows left over) with 2 rows instead of 6, reading the same
// MR-wide A panels: a few-row GEMM (one sentence through a transformer) wastes less.
CK_TARGET static void kernel_2x16(int64_t kc, const float *restrict a, const float *restrict b,
                                  float *restrict c, int64_t ldc, float alpha, float beta, int mr,
                                  int nr) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00;
#pragma clang loop unroll_count(4)
    for (int64_t p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        ROW(0); ROW(1);
        a += MR;
        b += NR;
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane);
    STORE_EDGE(0); STORE_EDGE(1);
}

CK_TARGET static void kernel_6x16(int64_t kc, const float *restrict a, const float *restrict b,
                                  float *restrict c, int64_t ldc, float alpha, float beta, int mr,
                                  int nr) {
    if (mr <= 2) { kernel_2x16(kc, a, b, c, ldc, alpha, beta, mr, nr); return; }
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    // The tile of C will be written (and read when beta != 0): fetch its lines now, so that they
    // arrive while the k loop runs instead of stalling the stores at the end.
    for (int r = 0; r < MR; r++) {
        __builtin_prefetch(c + r * ldc, 1, 3);
        __builtin_prefetch(c + r * ldc + NR - 1, 1, 3);
    }
#pragma clang loop unroll_count(4)
    for (int64_t p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5);
        // The same row of the next B panel, into L2 (see gemm_avx512.c).
        __builtin_prefetch(b + kc * NR, 0, 2);
        a += MR;
        b += NR;
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    if (mr == MR && nr == NR) {
        STORE(0); STORE(1); STORE(2); STORE(3); STORE(4); STORE(5);
    } else {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr), lane);
        const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(nr - 8), lane);
        STORE_EDGE(0); STORE_EDGE(1); STORE_EDGE(2); STORE_EDGE(3); STORE_EDGE(4); STORE_EDGE(5);
    }
}

CK_TARGET static void pack_a(int kcontig, int64_t len, int64_t kc, const float *src, int64_t ld,
                             float *dst) {
    if (kcontig) ck_pack_rows_kcontig_x86(MR, len, kc, src, ld, dst);
    else ck_pack_rows_contig(MR, len, kc, src, ld, dst);
}

CK_TARGET static void pack_b(int kcontig, int64_t len, int64_t kc, const float *src, int64_t ld,
                             float *dst) {
    if (kcontig) ck_pack_rows_kcontig_x86(NR, len, kc, src, ld, dst);
    else ck_pack_rows_contig(NR, len, kc, src, ld, dst);
}

const ck_gemm_impl ck_gemm_impl_avx2 = {
    .mr = MR, .nr = NR, .kc = CK_AVX2_KC, .mc = CK_AVX2_MC, .nc = CK_AVX2_NC,
    .kernel = kernel_6x16, .pack_a = pack_a, .pack_b = pack_b,
};
#endif
