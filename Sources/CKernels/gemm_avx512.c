// AVX-512 GEMM: a 12×32 register tile (24 zmm accumulators, two B vectors, A values broadcast
// straight from memory into the FMAs), with 4- and 8-row variants for short edge tiles.
#if defined(__x86_64__)
#include "gemm_internal.h"

#define CK_TARGET __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
#include "gemm_pack.h"
#include "gemm_pack_x86.h"

// Cache blocks (overridable at compile time for tuning experiments).
#ifndef CK_AVX512_KC
#define CK_AVX512_KC 512
#endif
#ifndef CK_AVX512_MC
#define CK_AVX512_MC 144
#endif
#ifndef CK_AVX512_NC
#define CK_AVX512_NC 2048
#endif

#define MR 12
#define NR 32

// The same rows of the next B panel (the macro-kernel's next column step), two lines per k step,
// into L2: a pre-packed weight streams from memory, and the later row tiles of this panel run
// from cache while it arrives.
#define CK_PREFETCH_NEXT_PANEL(p) do { __builtin_prefetch((p), 0, 2); __builtin_prefetch((p) + 16, 0, 2); } while (0)

#define ROW(r)                                                                                     \
    do {                                                                                           \
        const __m512 av = _mm512_set1_ps(a[r]);                                                    \
        c##r##_0 = _mm512_fmadd_ps(av, b0, c##r##_0);                                              \
        c##r##_1 = _mm512_fmadd_ps(av, b1, c##r##_1);                                              \
    } while (0)

#define STORE(r)                                                                                   \
    do {                                                                                           \
        float *cr = c + (r) * ldc;                                                                 \
        if (beta == 0.0f) {                                                                        \
            _mm512_storeu_ps(cr, _mm512_mul_ps(va, c##r##_0));                                     \
            _mm512_storeu_ps(cr + 16, _mm512_mul_ps(va, c##r##_1));                                \
        } else {                                                                                   \
            _mm512_storeu_ps(cr, _mm512_fmadd_ps(va, c##r##_0, _mm512_mul_ps(vb, _mm512_loadu_ps(cr)))); \
            _mm512_storeu_ps(cr + 16,                                                              \
                             _mm512_fmadd_ps(va, c##r##_1, _mm512_mul_ps(vb, _mm512_loadu_ps(cr + 16)))); \
        }                                                                                          \
    } while (0)

// Edge tile: rows below mr, columns below nr (masked loads and stores).
#define STORE_EDGE(r)                                                                              \
    do {                                                                                           \
        if ((r) < mr) {                                                                            \
            float *cr = c + (r) * ldc;                                                             \
            __m512 v0 = _mm512_mul_ps(va, c##r##_0), v1 = _mm512_mul_ps(va, c##r##_1);             \
            if (beta != 0.0f) {                                                                    \
                v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, cr), v0);                       \
                v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, cr + 16), v1);                  \
            }                                                                                      \
            _mm512_mask_storeu_ps(cr, m0, v0);                                                     \
            _mm512_mask_storeu_ps(cr + 16, m1, v1);                                                \
        }                                                                                          \
    } while (0)

#define DECL(r) __m512 c##r##_0 = _mm512_setzero_ps(), c##r##_1 = _mm512_setzero_ps()

// Short edge tiles (a GEMM of a few rows: one sentence through a transformer) with 4 or 8 rows
// instead of 12, reading the same MR-wide A panels: 14 rows cost 12 + 4 rows of FMAs, not 24.
#define EDGE_MASKS                                                                                 \
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);                           \
    const __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);               \
    const __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1)

CK_TARGET static void kernel_4x32(int64_t kc, const float *restrict a, const float *restrict b,
                                  float *restrict c, int64_t ldc, float alpha, float beta, int mr,
                                  int nr) {
    DECL(0); DECL(1); DECL(2); DECL(3);
#pragma clang loop unroll_count(4)
    for (int64_t p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        ROW(0); ROW(1); ROW(2); ROW(3);
        a += MR;
        b += NR;
    }
    EDGE_MASKS;
    STORE_EDGE(0); STORE_EDGE(1); STORE_EDGE(2); STORE_EDGE(3);
}

CK_TARGET static void kernel_8x32(int64_t kc, const float *restrict a, const float *restrict b,
                                  float *restrict c, int64_t ldc, float alpha, float beta, int mr,
                                  int nr) {
    DECL(0); DECL(1); DECL(2); DECL(3); DECL(4); DECL(5); DECL(6); DECL(7);
#pragma clang loop unroll_count(2)
    for (int64_t p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5); ROW(6); ROW(7);
        a += MR;
        b += NR;
    }
    EDGE_MASKS;
    STORE_EDGE(0); STORE_EDGE(1); STORE_EDGE(2); STORE_EDGE(3);
    STORE_EDGE(4); STORE_EDGE(5); STORE_EDGE(6); STORE_EDGE(7);
}

CK_TARGET static void kernel_12x32(int64_t kc, const float *restrict a, const float *restrict b,
                                   float *restrict c, int64_t ldc, float alpha, float beta, int mr,
                                   int nr) {
    if (mr <= 4) { kernel_4x32(kc, a, b, c, ldc, alpha, beta, mr, nr); return; }
    if (mr <= 8) { kernel_8x32(kc, a, b, c, ldc, alpha, beta, mr, nr); return; }
    DECL(0); DECL(1); DECL(2); DECL(3); DECL(4); DECL(5);
    DECL(6); DECL(7); DECL(8); DECL(9); DECL(10); DECL(11);
    // The tile of C will be written (and read when beta != 0): fetch its lines now, so that they
    // arrive while the k loop runs instead of stalling the stores at the end.
    for (int r = 0; r < MR; r++) {
        __builtin_prefetch(c + r * ldc, 1, 3);
        __builtin_prefetch(c + r * ldc + NR - 1, 1, 3);
    }
#pragma clang loop unroll_count(2)
    for (int64_t p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5);
        ROW(6); ROW(7); ROW(8); ROW(9); ROW(10); ROW(11);
        CK_PREFETCH_NEXT_PANEL(b + kc * NR);
        a += MR;
        b += NR;
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    if (mr == MR && nr == NR) {
        STORE(0); STORE(1); STORE(2); STORE(3); STORE(4); STORE(5);
        STORE(6); STORE(7); STORE(8); STORE(9); STORE(10); STORE(11);
    } else {
        const __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
        const __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr <= 16 ? 0 : (__mmask16)((1u << (nr - 16)) - 1);
        STORE_EDGE(0); STORE_EDGE(1); STORE_EDGE(2); STORE_EDGE(3); STORE_EDGE(4); STORE_EDGE(5);
        STORE_EDGE(6); STORE_EDGE(7); STORE_EDGE(8); STORE_EDGE(9); STORE_EDGE(10); STORE_EDGE(11);
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

const ck_gemm_impl ck_gemm_impl_avx512 = {
    .mr = MR, .nr = NR, .kc = CK_AVX512_KC, .mc = CK_AVX512_MC, .nc = CK_AVX512_NC,
    .kernel = kernel_12x32, .pack_a = pack_a, .pack_b = pack_b,
};
#endif
