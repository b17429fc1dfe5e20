// Dynamic int8 matrix multiply for the linear layers of the text encoders (TextEncoders).
//
//   y[m×n] = sa_i · sb_j · Σ_k (qa_ik − za_i) · qb_jk  (+ bias_j)
//
// qb: weights quantised per output channel ahead of time (signed 8-bit in [-127, 127], scale sb_j,
// no zero point). qa: activations quantised per row at run time (scale sa_i, zero point za_i), with
// the precision the layout's instruction takes:
//   CK_Q8_PAIRS - k in pairs of int16 for vpmaddwd (AVX2, and the portable C kernel). vpmaddwd
//                 multiplies 16-bit values at the same speed as 8-bit ones would go through
//                 vpmaddubsw + vpmaddwd, so activations keep up to 13 bits (symmetric, zero point 0,
//                 as many levels as keep Σ_k in int32 for this k): the error is the weights' alone.
//                 6×16 tiles.
//   CK_Q8_QUADS - k in quads of bytes for vpdpbusd (AVX-512 VNNI): unsigned 8-bit activations with
//                 a zero point (asymmetric, from the row's own range). 8×32 tiles.
// Products are summed exactly in int32, so every kernel of a layout gives the same sums; only the
// float epilogue is ISA-specific (FMA where the ISA has it). A layout stays valid when the ISA in
// use is lowered later (SIAMESE_ISA, ck_set_isa): the portable kernel reads both.
#ifndef CKERNELS_INT8_H
#define CKERNELS_INT8_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ck_q8_layout { CK_Q8_PAIRS = 0, CK_Q8_QUADS = 1 };

/// The layout the fastest kernel for the ISA in use reads.
int ck_q8_preferred_layout(void);
/// "avx512-vnni", "avx2" or "generic": the kernel that ck_q8_gemm uses now for `layout`.
const char *ck_q8_kernel_name(int layout);

/// Rows and columns are padded to these multiples in the per-row and per-column arrays
/// (sa, za: ck_q8_padded_rows(m) entries; sb, bsum, bias: ck_q8_padded_cols(n) entries).
int64_t ck_q8_padded_rows(int64_t m);
int64_t ck_q8_padded_cols(int64_t n);

/// Bytes of packed weights for n outputs × k inputs.
int64_t ck_q8_packed_b_bytes(int layout, int64_t n, int64_t k);
/// Packs w (n×k, row-major, values in [-127, 127]) into `packed` (64-byte aligned,
/// ck_q8_packed_b_bytes long). Also writes bsum[j] = Σ_k w[j][k] for j < n and 0 up to the
/// padded column count.
void ck_q8_pack_b(int layout, int64_t n, int64_t k, const int8_t *w, void *packed, int32_t *bsum);

/// Bytes of quantised activations for m rows × k (rows padded, k padded to the layout's group).
int64_t ck_q8_packed_a_bytes(int layout, int64_t m, int64_t k);
/// Quantises x (m×k, row stride ldx) per row into `packed` (row-major, int16 for PAIRS, bytes for
/// QUADS); writes sa, za (padded rows get scale 0, zero point 0). PAIRS: symmetric,
/// scale = max|x| / L with L = ck_q8_pair_levels(k), zero point 0. QUADS: scale = (max(x, 0) −
/// min(x, 0)) / 255, zero point round(−min / scale), values in [0, 255]. Rows run in parallel on the
/// kernel threads when there are many.
void ck_q8_quantize_a(int layout, int64_t m, int64_t k, const float *x, int64_t ldx, void *packed,
                      float *sa, int32_t *za);
/// Largest |activation| level of the PAIRS layout for depth k: 8191, or fewer when
/// L · 127 · k would not fit in int32.
int32_t ck_q8_pair_levels(int64_t k);

/// y (m×n, row stride ldy) = dequantised product, plus bias when bias is not NULL. Runs on the
/// kernel threads (ck_parallel_for) in blocks of rows and columns.
void ck_q8_gemm(int layout, int64_t m, int64_t n, int64_t k, const void *pa, const float *sa,
                const int32_t *za, const void *pb, const float *sb, const int32_t *bsum,
                const float *bias, float *y, int64_t ldy);

#ifdef __cplusplus
}
#endif
#endif
