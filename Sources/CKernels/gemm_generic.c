// Portable GEMM for CPUs without AVX2 (and for arm64): a 4×8 tile written with GCC/Clang
// vector extensions, which compile to SSE on baseline x86-64 and to NEON on arm64 without any
// target-specific code. Eight 4-wide accumulators fit the 16 SSE registers.
#include "gemm_internal.h"

#define CK_TARGET
#include "gemm_pack.h"

#define MR 4
#define NR 8

typedef float v4f __attribute__((vector_size(16)));

static inline v4f load4(const float *p) {
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void store4(float *p, v4f v) { memcpy(p, &v, sizeof v); }

static void kernel_4x8(int64_t kc, const float *restrict a, const float *restrict b,
                       float *restrict c, int64_t ldc, float alpha, float beta, int mr, int nr) {
    v4f acc[MR][2] = {{{0}}};
    for (int64_t p = 0; p < kc; p++) {
        const v4f b0 = load4(b), b1 = load4(b + 4);
        for (int r = 0; r < MR; r++) {
            const float av = a[r];
            acc[r][0] += av * b0;
            acc[r][1] += av * b1;
        }
        a += MR;
        b += NR;
    }
    if (mr == MR && nr == NR) {
        for (int r = 0; r < MR; r++) {
            float *cr = c + r * ldc;
            for (int h = 0; h < 2; h++) {
                v4f v = alpha * acc[r][h];
                if (beta != 0.0f) v += beta * load4(cr + 4 * h);
                store4(cr + 4 * h, v);
            }
        }
        return;
    }
    for (int r = 0; r < mr; r++) {
        float *cr = c + r * ldc;
        for (int j = 0; j < nr; j++) {
            float v = alpha * acc[r][j / 4][j % 4];
            cr[j] = beta == 0.0f ? v : v + beta * cr[j];
        }
    }
}

static void pack_a(int kcontig, int64_t len, int64_t kc, const float *src, int64_t ld, float *dst) {
    if (kcontig) {
        for (int64_t i0 = 0; i0 < len; i0 += MR, dst += MR * kc) {
            int64_t w = len - i0 < MR ? len - i0 : MR;
            ck_pack_rows_kcontig_scalar(MR, w, 0, kc, src + i0 * ld, ld, dst);
        }
    } else {
        ck_pack_rows_contig(MR, len, kc, src, ld, dst);
    }
}

static void pack_b(int kcontig, int64_t len, int64_t kc, const float *src, int64_t ld, float *dst) {
    if (kcontig) {
        for (int64_t i0 = 0; i0 < len; i0 += NR, dst += NR * kc) {
            int64_t w = len - i0 < NR ? len - i0 : NR;
            ck_pack_rows_kcontig_scalar(NR, w, 0, kc, src + i0 * ld, ld, dst);
        }
    } else {
        ck_pack_rows_contig(NR, len, kc, src, ld, dst);
    }
}

const ck_gemm_impl ck_gemm_impl_generic = {
    .mr = MR, .nr = NR, .kc = 256, .mc = 128, .nc = 2048,
    .kernel = kernel_4x8, .pack_a = pack_a, .pack_b = pack_b,
};
