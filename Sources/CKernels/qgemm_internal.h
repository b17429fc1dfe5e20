// Private to the int8 GEMM (qgemm*.c): tile geometry of each layout and the kernel signature.
#ifndef CK_QGEMM_INTERNAL_H
#define CK_QGEMM_INTERNAL_H

#include <stdint.h>

// AVX-512 VNNI present (detected once, in cpu.c beside the other instruction-set checks): 1 or 0.
int ck_vnni_detected(void);

// CK_Q8_PAIRS: 6 rows × 16 columns per tile, k in pairs (int16).
#define CK_Q8P_MR 6
#define CK_Q8P_NR 16
// CK_Q8_QUADS: 8 rows × 32 columns per tile, k in quads (bytes).
#define CK_Q8Q_MR 8
#define CK_Q8Q_NR 32

/// One tile: y[mr×nr] from MR rows of quantised A (row r at a + r·lda bytes; kg groups each), a
/// packed B panel (kg groups of NR) and the row/column factors of the tile's first row/column
/// (arrays padded, so full-width reads are in bounds). mr ≤ MR, nr ≤ NR: only that part of y is
/// written. Rows of A past mr exist (padding) and are read but not stored.
typedef void (*ck_q8_tile_fn)(int64_t kg, const void *a, int64_t lda, const void *b, const float *sa, const int32_t *za,
                              const float *sb, const int32_t *bsum, const float *bias, float *y, int64_t ldy,
                              int mr, int nr);

void ck_q8_tile_pairs_generic(int64_t kg, const void *a, int64_t lda, const void *b, const float *sa, const int32_t *za,
                              const float *sb, const int32_t *bsum, const float *bias, float *y, int64_t ldy,
                              int mr, int nr);
void ck_q8_tile_quads_generic(int64_t kg, const void *a, int64_t lda, const void *b, const float *sa, const int32_t *za,
                              const float *sb, const int32_t *bsum, const float *bias, float *y, int64_t ldy,
                              int mr, int nr);
#if defined(__x86_64__)
void ck_q8_tile_pairs_avx2(int64_t kg, const void *a, int64_t lda, const void *b, const float *sa, const int32_t *za,
                           const float *sb, const int32_t *bsum, const float *bias, float *y, int64_t ldy,
                           int mr, int nr);
void ck_q8_tile_quads_vnni(int64_t kg, const void *a, int64_t lda, const void *b, const float *sa, const int32_t *za,
                           const float *sb, const int32_t *bsum, const float *bias, float *y, int64_t ldy,
                           int mr, int nr);
void ck_q8_quantize_u8_avx2(int64_t k, const float *x, float *scale, int32_t *zero, uint8_t *q);
void ck_q8_quantize_s16_avx2(int64_t k, int32_t levels, const float *x, float *scale, int16_t *q);
#endif
/// One row of k values: unsigned 8-bit with zero point (QUADS), or symmetric int16 within
/// ±levels (PAIRS). Writes the row's scale (and zero point).
void ck_q8_quantize_u8_generic(int64_t k, const float *x, float *scale, int32_t *zero, uint8_t *q);
void ck_q8_quantize_s16_generic(int64_t k, int32_t levels, const float *x, float *scale, int16_t *q);

/// 1 when the CPU has AVX-512 VNNI (with BW and VL) and the ISA in use is AVX-512.
int ck_q8_vnni_active(void);

#endif
