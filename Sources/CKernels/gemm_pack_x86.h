// Vectorised packing for x86 (AVX2 moves; also used by the AVX-512 implementation). Included
// after gemm_pack.h by gemm_avx2.c and gemm_avx512.c with their CK_TARGET.
//
// Operands stored contiguously along k (row-major A, transposed B) must be transposed into
// panels; a scalar loop does that at about one element per cycle, which for shapes such as
// 4096×1536·1536×384 costs several percent of the multiply. 8×8 register transposes cost a
// fraction of that.
#include <immintrin.h>

CK_INLINE void ck_transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
    __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
    __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// Stores the first n (constant after inlining) lanes of v.
CK_INLINE void ck_store_first(const int n, float *d, __m256 v) {
    if (n == 8) {
        _mm256_storeu_ps(d, v);
    } else {
        __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
        if (n >= 4) {
            _mm_storeu_ps(d, lo);
            if (n == 6) _mm_storel_pi((__m64 *)(d + 4), hi);
            else for (int r = 4; r < n; r++) d[r] = ((float *)&hi)[r - 4];
        } else {
            for (int r = 0; r < n; r++) d[r] = ((float *)&lo)[r];
        }
    }
}

// Element (i, p) at src[i·ld + p], panels of W rows.
CK_INLINE void ck_pack_rows_kcontig_x86(const int W, int64_t len, int64_t kc, const float *src,
                                        int64_t ld, float *restrict dst) {
    for (int64_t i0 = 0; i0 < len; i0 += W, dst += W * kc) {
        const float *s = src + i0 * ld;
        int64_t w = len - i0 < W ? len - i0 : W;
        if (w < W) {
            ck_pack_rows_kcontig_scalar(W, w, 0, kc, s, ld, dst);
            continue;
        }
        int64_t p = 0;
        for (; p + 8 <= kc; p += 8) {
            for (int rb = 0; rb < W; rb += 8) {
                __m256 r[8];
                for (int q = 0; q < 8; q++)
                    r[q] = rb + q < W ? _mm256_loadu_ps(s + (rb + q) * ld + p) : _mm256_setzero_ps();
                ck_transpose8(r);
                const int n = W - rb < 8 ? W - rb : 8;
                for (int q = 0; q < 8; q++) ck_store_first(n, dst + (p + q) * W + rb, r[q]);
            }
        }
        ck_pack_rows_kcontig_scalar(W, W, p, kc, s, ld, dst);
    }
}
