// Dynamic int8 matrix multiply for the linear layers of the text encoders (TextEncoders).
//
//   y[m×n] = sa_i · sb_j · Σ_k (qa_ik − za_i) · qb_jk  (+ bias_j)
//
// qa: activations quantised per row at run time (unsigned 8-bit, scale sa_i, zero point za_i);
// qb: weights quantised per output channel ahead of time (signed 8-bit in [-127, 127], scale sb_j,
// no zero point). Products are summed exactly in int32, so every kernel gives bit-identical
// results; only the float epilogue is ISA-specific (it uses FMA where the ISA has it).
//
// Two packed layouts, chosen once per weight matrix:
//   CK_Q8_PAIRS - pairs of k as int16 for vpmaddwd (AVX2 and the portable C kernel); u8 x s8 pairs
//                 are summed in 32 bits, so nothing saturates (unlike vpmaddubsw).
//   CK_Q8_QUADS - quads of k as bytes for vpdpbusd (AVX-512 VNNI), 6×16 → 8×32 tiles.
// A kernel for the other ISA reads each layout through the portable path, so a layout stays
// valid when the ISA in use is lowered later (SIAMESE_ISA, ck_set_isa).
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

/// Bytes of packed activations for m rows × k.
int64_t ck_q8_packed_a_bytes(int layout, int64_t m, int64_t k);
/// Quantises x (m×k, row stride ldx) per row: scale = (max(x, 0) − min(x, 0)) / 255, zero point
/// round(−min / scale), values clamped to [0, 255]; packs them for `layout`; writes sa, za (padded
/// rows get scale 0, zero point 0). Rows run in parallel on the kernel threads when there are many.
void ck_q8_quantize_a(int layout, int64_t m, int64_t k, const float *x, int64_t ldx, void *packed,
                      float *sa, int32_t *za);

/// y (m×n, row stride ldy) = dequantised product, plus bias when bias is not NULL. Runs on the
/// kernel threads (ck_parallel_for) in blocks of rows and columns.
void ck_q8_gemm(int layout, int64_t m, int64_t n, int64_t k, const void *pa, const float *sa,
                const int32_t *za, const void *pb, const float *sb, const int32_t *bsum,
                const float *bias, float *y, int64_t ldy);

#ifdef __cplusplus
}
#endif
#endif
