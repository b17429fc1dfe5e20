// AVX2 + FMA versions of the convolution, pooling and batch-norm kernels. Every function carries
// its own target attribute; the dispatcher calls them only when the CPU has AVX2 and FMA.
#define CK_CONV_INTERNAL
#include "ckernels_conv.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <string.h>

#define TGT __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))

// MARK: - Micro-kernel

// One tile of up to 6 rows × (8·NV) columns; MASKED: the last vector is partial (nr < 8·NV).
// A is read through strides (broadcast one element per row and step), B one row per step.
INLINE TGT void tile_body(const int MR, const int NV, const int MASKED, int64_t nr, int64_t k,
                          const float *a, int64_t rsa, int64_t csa, const float *b, int64_t ldb,
                          float *c, int64_t ldc, int mode, const float *bias) {
    __m256i mask = _mm256_setzero_si256();
    if (MASKED) {
        const int64_t rem = nr - 8 * (NV - 1);
        mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    __m256 c0[6], c1[6];
    for (int i = 0; i < MR; i++) {
        c0[i] = mode == CK_TILE_BIAS ? _mm256_broadcast_ss(bias + i) : _mm256_setzero_ps();
        c1[i] = c0[i];
    }
    const float *a0 = a, *a1 = a + rsa, *a2 = a + 2 * rsa, *a3 = a + 3 * rsa, *a4 = a + 4 * rsa, *a5 = a + 5 * rsa;
    for (int64_t p = 0; p < k; p++) {
        __m256 b0, b1 = _mm256_setzero_ps();
        if (NV == 1) {
            b0 = MASKED ? _mm256_maskload_ps(b, mask) : _mm256_loadu_ps(b);
        } else {
            b0 = _mm256_loadu_ps(b);
            b1 = MASKED ? _mm256_maskload_ps(b + 8, mask) : _mm256_loadu_ps(b + 8);
        }
        const float *ap[6] = {a0, a1, a2, a3, a4, a5};
        for (int i = 0; i < MR; i++) {
            const __m256 ai = _mm256_broadcast_ss(ap[i]);
            c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
            if (NV == 2) c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
        }
        a0 += csa; a1 += csa; a2 += csa; a3 += csa; a4 += csa; a5 += csa;
        b += ldb;
    }
    for (int i = 0; i < MR; i++) {
        float *ci = c + i * ldc;
        if (NV == 1) {
            if (MASKED) {
                __m256 v = c0[i];
                if (mode == CK_TILE_ADD) v = _mm256_add_ps(v, _mm256_maskload_ps(ci, mask));
                _mm256_maskstore_ps(ci, mask, v);
            } else {
                __m256 v = c0[i];
                if (mode == CK_TILE_ADD) v = _mm256_add_ps(v, _mm256_loadu_ps(ci));
                _mm256_storeu_ps(ci, v);
            }
        } else {
            __m256 v0 = c0[i], v1 = c1[i];
            if (mode == CK_TILE_ADD) {
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(ci));
                v1 = _mm256_add_ps(v1, MASKED ? _mm256_maskload_ps(ci + 8, mask) : _mm256_loadu_ps(ci + 8));
            }
            _mm256_storeu_ps(ci, v0);
            if (MASKED) _mm256_maskstore_ps(ci + 8, mask, v1); else _mm256_storeu_ps(ci + 8, v1);
        }
    }
}

#define TILE_VARIANT(MR, NV, MASKED) \
    static TGT void tile_##MR##_##NV##_##MASKED(int64_t nr, int64_t k, const float *a, int64_t rsa, int64_t csa, \
                                                const float *b, int64_t ldb, float *c, int64_t ldc, int mode, const float *bias) { \
        tile_body(MR, NV, MASKED, nr, k, a, rsa, csa, b, ldb, c, ldc, mode, bias); \
    }
#define TILE_ROWS(MR) TILE_VARIANT(MR, 1, 0) TILE_VARIANT(MR, 1, 1) TILE_VARIANT(MR, 2, 0) TILE_VARIANT(MR, 2, 1)
TILE_ROWS(1) TILE_ROWS(2) TILE_ROWS(3) TILE_ROWS(4) TILE_ROWS(5) TILE_ROWS(6)

typedef void (*tile_variant)(int64_t, int64_t, const float *, int64_t, int64_t, const float *, int64_t, float *, int64_t,
                             int, const float *);
#define TILE_ROW_TABLE(MR) {tile_##MR##_1_0, tile_##MR##_1_1, tile_##MR##_2_0, tile_##MR##_2_1}
static const tile_variant tiles[6][4] = {
    TILE_ROW_TABLE(1), TILE_ROW_TABLE(2), TILE_ROW_TABLE(3), TILE_ROW_TABLE(4), TILE_ROW_TABLE(5), TILE_ROW_TABLE(6),
};

void ck_conv_tile_avx2(int64_t mr, int64_t nr, int64_t k, const float *a, int64_t rsa, int64_t csa,
                       const float *b, int64_t ldb, float *c, int64_t ldc, int mode, const float *bias) {
    const int nv = nr > 8 ? 2 : 1;
    const int masked = nr != 8 * nv;
    tiles[mr - 1][(nv - 1) * 2 + masked](nr, k, a, rsa, csa, b, ldb, c, ldc, mode, bias);
}

// MARK: - Transpose

INLINE TGT void transpose8(const float *src, int64_t lds, float *dst, int64_t ldd) {
    __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + lds), r2 = _mm256_loadu_ps(src + 2 * lds),
           r3 = _mm256_loadu_ps(src + 3 * lds), r4 = _mm256_loadu_ps(src + 4 * lds), r5 = _mm256_loadu_ps(src + 5 * lds),
           r6 = _mm256_loadu_ps(src + 6 * lds), r7 = _mm256_loadu_ps(src + 7 * lds);
    __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
           t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
           t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE), s2 = _mm256_shuffle_ps(t1, t3, 0x44),
           s3 = _mm256_shuffle_ps(t1, t3, 0xEE), s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE),
           s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(s0, s4, 0x20));
    _mm256_storeu_ps(dst + ldd, _mm256_permute2f128_ps(s1, s5, 0x20));
    _mm256_storeu_ps(dst + 2 * ldd, _mm256_permute2f128_ps(s2, s6, 0x20));
    _mm256_storeu_ps(dst + 3 * ldd, _mm256_permute2f128_ps(s3, s7, 0x20));
    _mm256_storeu_ps(dst + 4 * ldd, _mm256_permute2f128_ps(s0, s4, 0x31));
    _mm256_storeu_ps(dst + 5 * ldd, _mm256_permute2f128_ps(s1, s5, 0x31));
    _mm256_storeu_ps(dst + 6 * ldd, _mm256_permute2f128_ps(s2, s6, 0x31));
    _mm256_storeu_ps(dst + 7 * ldd, _mm256_permute2f128_ps(s3, s7, 0x31));
}

TGT void ck_transpose_avx2(const float *src, int64_t lds, float *dst, int64_t ldd, int64_t rows, int64_t cols) {
    const int64_t r8 = rows & ~(int64_t)7, c8 = cols & ~(int64_t)7;
    for (int64_t i = 0; i < r8; i += 8)
        for (int64_t j = 0; j < c8; j += 8) transpose8(src + i * lds + j, lds, dst + j * ldd + i, ldd);
    // Edges: the last rows (all columns) and the last columns (of the first r8 rows).
    for (int64_t i = r8; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) dst[j * ldd + i] = src[i * lds + j];
    for (int64_t i = 0; i < r8; i++)
        for (int64_t j = c8; j < cols; j++) dst[j * ldd + i] = src[i * lds + j];
}

// MARK: - 2×2 max pooling

// The running selection of the scalar code on 8 windows at once: take a tap when it is not ≤ the
// best so far (so a NaN is taken) and the best is not NaN (so the first NaN stays).
INLINE TGT void best8(__m256 t0, __m256 t1, __m256 t2, __m256 t3, __m256 *best, __m256i *tap) {
    __m256 b = t0;
    __m256i at = _mm256_setzero_si256();
    const __m256 ts[3] = {t1, t2, t3};
    for (int t = 0; t < 3; t++) {
        const __m256 take = _mm256_and_ps(_mm256_cmp_ps(ts[t], b, _CMP_NLE_UQ), _mm256_cmp_ps(b, b, _CMP_ORD_Q));
        b = _mm256_blendv_ps(b, ts[t], take);
        at = _mm256_blendv_epi8(at, _mm256_set1_epi32(t + 1), _mm256_castps_si256(take));
    }
    *best = b;
    *tap = at;
}

INLINE TGT void store_taps8(uint8_t *dst, __m256i at) {
    // 8 int32 in 0..3 → 8 bytes.
    const __m128i lo = _mm256_castsi256_si128(at), hi = _mm256_extracti128_si256(at, 1);
    const __m128i w16 = _mm_packs_epi32(lo, hi);
    const __m128i b8 = _mm_packus_epi16(w16, w16);
    _mm_storel_epi64((__m128i *)dst, b8);
}

INLINE TGT __m256i load_taps8(const uint8_t *src) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)src));
}

TGT void ck_maxpool2x2_forward_avx2(const float *x, float *y, uint8_t *tap, int64_t planes, int64_t h, int64_t w) {
    if ((h & 1) || (w != 8 && w != 4)) { ck_maxpool2x2_forward_generic(x, y, tap, planes, h, w); return; }
    // Rows of w pairs: `pairs` pairs of input rows, each giving w/2 outputs.
    const int64_t pairs = planes * h / 2;
    int64_t r = 0;
    if (w == 8) {
        // Two row pairs (4 rows of 8) give 8 outputs.
        for (; r + 2 <= pairs; r += 2) {
            const float *s = x + r * 16;
            const __m256 ta = _mm256_loadu_ps(s), ba = _mm256_loadu_ps(s + 8), tb = _mm256_loadu_ps(s + 16),
                         bb = _mm256_loadu_ps(s + 24);
            // Evens/odds of the two top rows and of the two bottom rows, in the order
            // [a0 a1 b0 b1 | a2 a3 b2 b3], put right by a 64-bit permute at the end.
            const __m256 t0 = _mm256_shuffle_ps(ta, tb, 0x88), t1 = _mm256_shuffle_ps(ta, tb, 0xDD);
            const __m256 t2 = _mm256_shuffle_ps(ba, bb, 0x88), t3 = _mm256_shuffle_ps(ba, bb, 0xDD);
            __m256 best;
            __m256i at;
            best8(t0, t1, t2, t3, &best, &at);
            best = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(best), 0xD8));
            at = _mm256_permute4x64_epi64(at, 0xD8);
            _mm256_storeu_ps(y + r * 4, best);
            store_taps8(tap + r * 4, at);
        }
    } else {
        // Four row pairs (8 rows of 4) give 8 outputs.
        for (; r + 4 <= pairs; r += 4) {
            const float *s = x + r * 8;
            const __m256 v0 = _mm256_loadu_ps(s), v1 = _mm256_loadu_ps(s + 8), v2 = _mm256_loadu_ps(s + 16),
                         v3 = _mm256_loadu_ps(s + 24);
            // Each v is one pair [top 4 | bottom 4]; evens hold tap 0 (low half) and tap 2 (high).
            const __m256 e01 = _mm256_shuffle_ps(v0, v1, 0x88), o01 = _mm256_shuffle_ps(v0, v1, 0xDD);
            const __m256 e23 = _mm256_shuffle_ps(v2, v3, 0x88), o23 = _mm256_shuffle_ps(v2, v3, 0xDD);
            const __m256 t0 = _mm256_permute2f128_ps(e01, e23, 0x20), t2 = _mm256_permute2f128_ps(e01, e23, 0x31);
            const __m256 t1 = _mm256_permute2f128_ps(o01, o23, 0x20), t3 = _mm256_permute2f128_ps(o01, o23, 0x31);
            __m256 best;
            __m256i at;
            best8(t0, t1, t2, t3, &best, &at);
            _mm256_storeu_ps(y + r * 2, best);
            store_taps8(tap + r * 2, at);
        }
    }
    // The last row pairs: the generic loop over whole "planes" of 2 rows.
    if (r < pairs) ck_maxpool2x2_forward_generic(x + r * 2 * w, y + r * w / 2, tap + r * w / 2, pairs - r, 2, w);
}

TGT void ck_maxpool2x2_backward_avx2(const float *dy, const uint8_t *tap, float *dx, int64_t planes, int64_t h, int64_t w) {
    if ((h & 1) || (w != 8 && w != 4)) { ck_maxpool2x2_backward_generic(dy, tap, dx, planes, h, w); return; }
    const int64_t pairs = planes * h / 2;
    int64_t r = 0;
    const __m256 zero = _mm256_setzero_ps();
    for (; r + (w == 8 ? 2 : 4) <= pairs; r += (w == 8 ? 2 : 4)) {
        // 8 outputs of gradient and their taps: out[j] = g where tap == t.
        const __m256 g = _mm256_loadu_ps(dy + r * w / 2);
        const __m256i at = load_taps8(tap + r * w / 2);
        __m256 m[4];
        for (int t = 0; t < 4; t++)
            m[t] = _mm256_blendv_ps(zero, g, _mm256_castsi256_ps(_mm256_cmpeq_epi32(at, _mm256_set1_epi32(t))));
        // Interleave tap 0/1 into top rows and 2/3 into bottom rows: unpack gives
        // [o0 o0' o1 o1' | o4 o4' o5 o5'] and [o2 o2' o3 o3' | o6 o6' o7 o7'].
        const __m256 tlo = _mm256_unpacklo_ps(m[0], m[1]), thi = _mm256_unpackhi_ps(m[0], m[1]);
        const __m256 blo = _mm256_unpacklo_ps(m[2], m[3]), bhi = _mm256_unpackhi_ps(m[2], m[3]);
        // Top elements of outputs 0..3 and 4..7, bottom likewise, each 8 floats in order.
        const __m256 top03 = _mm256_permute2f128_ps(tlo, thi, 0x20), top47 = _mm256_permute2f128_ps(tlo, thi, 0x31);
        const __m256 bot03 = _mm256_permute2f128_ps(blo, bhi, 0x20), bot47 = _mm256_permute2f128_ps(blo, bhi, 0x31);
        float *d = dx + r * 2 * w;
        if (w == 8) {
            // Outputs 0..3 are pair r (top row, bottom row), 4..7 pair r + 1.
            _mm256_storeu_ps(d, top03);
            _mm256_storeu_ps(d + 8, bot03);
            _mm256_storeu_ps(d + 16, top47);
            _mm256_storeu_ps(d + 24, bot47);
        } else {
            // Outputs 2q, 2q+1 are pair r + q: [top 4 | bottom 4].
            _mm256_storeu_ps(d, _mm256_permute2f128_ps(top03, bot03, 0x20));
            _mm256_storeu_ps(d + 8, _mm256_permute2f128_ps(top03, bot03, 0x31));
            _mm256_storeu_ps(d + 16, _mm256_permute2f128_ps(top47, bot47, 0x20));
            _mm256_storeu_ps(d + 24, _mm256_permute2f128_ps(top47, bot47, 0x31));
        }
    }
    if (r < pairs) ck_maxpool2x2_backward_generic(dy + r * w / 2, tap + r * w / 2, dx + r * 2 * w, pairs - r, 2, w);
}

#define CK_CONV_BODY
#define CK_CONV_DRIVERS
#define CK_SUFFIX avx2
#define CK_TILE ck_conv_tile_avx2
#define CK_TRANSPOSE ck_transpose_avx2
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "conv_body.c"
#pragma clang attribute pop

#else
// Not x86: the dispatcher never calls these.
void ck_conv_tile_avx2(int64_t mr, int64_t nr, int64_t k, const float *a, int64_t rsa, int64_t csa,
                       const float *b, int64_t ldb, float *c, int64_t ldc, int mode, const float *bias) {
    ck_conv_tile_generic(mr, nr, k, a, rsa, csa, b, ldb, c, ldc, mode, bias);
}
void ck_transpose_avx2(const float *src, int64_t lds, float *dst, int64_t ldd, int64_t rows, int64_t cols) {
    ck_transpose_generic(src, lds, dst, ldd, rows, cols);
}
void ck_maxpool2x2_forward_avx2(const float *x, float *y, uint8_t *tap, int64_t planes, int64_t h, int64_t w) {
    ck_maxpool2x2_forward_generic(x, y, tap, planes, h, w);
}
void ck_maxpool2x2_backward_avx2(const float *dy, const uint8_t *tap, float *dx, int64_t planes, int64_t h, int64_t w) {
    ck_maxpool2x2_backward_generic(dy, tap, dx, planes, h, w);
}
#define CK_CONV_BODY
#define CK_CONV_DRIVERS
#define CK_SUFFIX avx2
#define CK_TILE ck_conv_tile_generic
#define CK_TRANSPOSE ck_transpose_generic
#include "conv_body.c"
#endif
