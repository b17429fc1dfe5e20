// Packing loops shared by every GEMM implementation. Included by each gemm_<isa>.c after it
// defines CK_TARGET (its target attribute, possibly empty), so the same C compiles to that ISA's
// vector code. The panel width is a compile-time constant at every call site (these inline into
// per-width wrappers), which lets the compiler turn the inner loops into full-width moves.
#include <stdint.h>
#include <string.h>

#define CK_INLINE static inline __attribute__((always_inline)) CK_TARGET

// Element (i, p) at src[p·ld + i]: each k step copies W contiguous values.
CK_INLINE void ck_pack_rows_contig(const int W, int64_t len, int64_t kc, const float *src,
                                   int64_t ld, float *restrict dst) {
    for (int64_t i0 = 0; i0 < len; i0 += W, dst += W * kc) {
        const float *s = src + i0;
        int64_t w = len - i0 < W ? len - i0 : W;
        if (w == W) {
            for (int64_t p = 0; p < kc; p++)
                for (int r = 0; r < W; r++) dst[p * W + r] = s[p * ld + r];
        } else {
            for (int64_t p = 0; p < kc; p++) {
                int r = 0;
                for (; r < w; r++) dst[p * W + r] = s[p * ld + r];
                for (; r < W; r++) dst[p * W + r] = 0;
            }
        }
    }
}

// Element (i, p) at src[i·ld + p]: a transposition; the generic loop, used for edge panels and
// by implementations without a vector transpose.
CK_INLINE void ck_pack_rows_kcontig_scalar(const int W, int64_t w, int64_t p0, int64_t kc,
                                           const float *s, int64_t ld, float *restrict dst) {
    for (int64_t p = p0; p < kc; p++) {
        int r = 0;
        for (; r < w; r++) dst[p * W + r] = s[r * ld + p];
        for (; r < W; r++) dst[p * W + r] = 0;
    }
}
