// Dynamic int8 GEMM driver: weight packing, per-row activation quantisation, blocking and threads.
// The kernels live in qgemm_generic.c (portable), qgemm_avx2.c and qgemm_avx512.c.
//
// Blocking: the output is cut into blocks of CK_Q8_MC rows × CK_Q8_NC columns handed to the
// kernel threads one at a time. Inside a block each B panel (all of k for NR columns, at most
// 48 KiB for k = 1536) stays in L1/L2 while the A panels of the block (in L2) stream past it.
// k is not blocked: the int32 sums stay in registers for all of k and are dequantised once.
#include "ckernels.h"
#include "ckernels_int8.h"
#include "qgemm_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CK_Q8_MC 96
#define CK_Q8_NC 128

static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

int ck_q8_vnni_active(void) { return ck_vnni_detected() && ck_active_isa() >= CK_ISA_AVX512; }

int ck_q8_preferred_layout(void) { return ck_q8_vnni_active() ? CK_Q8_QUADS : CK_Q8_PAIRS; }

static ck_q8_tile_fn tile_for(int layout) {
#if defined(__x86_64__)
    if (layout == CK_Q8_QUADS) return ck_q8_vnni_active() ? ck_q8_tile_quads_vnni : ck_q8_tile_quads_generic;
    return ck_active_isa() >= CK_ISA_AVX2 ? ck_q8_tile_pairs_avx2 : ck_q8_tile_pairs_generic;
#else
    return layout == CK_Q8_QUADS ? ck_q8_tile_quads_generic : ck_q8_tile_pairs_generic;
#endif
}

const char *ck_q8_kernel_name(int layout) {
    ck_q8_tile_fn f = tile_for(layout);
#if defined(__x86_64__)
    if (f == ck_q8_tile_quads_vnni) return "avx512-vnni";
    if (f == ck_q8_tile_pairs_avx2) return "avx2";
#endif
    (void)f;
    return "generic";
}

static int mr_of(int layout) { return layout == CK_Q8_QUADS ? CK_Q8Q_MR : CK_Q8P_MR; }
static int nr_of(int layout) { return layout == CK_Q8_QUADS ? CK_Q8Q_NR : CK_Q8P_NR; }
// k values per group, and bytes per value in the packed form.
static int group_of(int layout) { return layout == CK_Q8_QUADS ? 4 : 2; }
static int width_of(int layout) { return layout == CK_Q8_QUADS ? 1 : 2; }

int64_t ck_q8_padded_rows(int64_t m) { return round_up(m > 0 ? m : 1, 24); }
int64_t ck_q8_padded_cols(int64_t n) { return round_up(n > 0 ? n : 1, 32); }

static int64_t groups(int layout, int64_t k) { return (k + group_of(layout) - 1) / group_of(layout); }

int64_t ck_q8_packed_b_bytes(int layout, int64_t n, int64_t k) {
    return round_up(n, nr_of(layout)) * groups(layout, k) * group_of(layout) * width_of(layout) + 64;
}

// Row stride of quantised A in bytes: k padded to whole groups, then to 64 bytes so every row
// starts on a cache line.
static int64_t a_row_bytes(int layout, int64_t k) { return round_up(groups(layout, k) * group_of(layout) * width_of(layout), 64); }

int64_t ck_q8_packed_a_bytes(int layout, int64_t m, int64_t k) {
    return ck_q8_padded_rows(m) * a_row_bytes(layout, k) + 64;
}

int32_t ck_q8_pair_levels(int64_t k) {
    const int64_t fit = (int64_t)2147483647 / (127 * round_up(k > 0 ? k : 1, 2));
    return (int32_t)(fit < 8191 ? (fit < 1 ? 1 : fit) : 8191);
}

// MARK: - Packing

// Panel p of W holds, for each group g, NR columns × G values (column-major within the group):
// element (j, g·G + q) of the panel at offset (g·NR + j)·G + q. Missing columns and k are zero.
void ck_q8_pack_b(int layout, int64_t n, int64_t k, const int8_t *w, void *packed, int32_t *bsum) {
    const int nr = nr_of(layout), G = group_of(layout);
    const int64_t kg = groups(layout, k), np = round_up(n, nr);
    for (int64_t j = 0; j < ck_q8_padded_cols(n); j++) {
        int32_t s = 0;
        if (j < n) for (int64_t p = 0; p < k; p++) s += w[j * k + p];
        bsum[j] = s;
    }
    for (int64_t jp = 0; jp < np; jp += nr) {
        const int64_t base = jp * kg * G;
        for (int64_t g = 0; g < kg; g++) {
            for (int j = 0; j < nr; j++) {
                for (int q = 0; q < G; q++) {
                    const int64_t col = jp + j, kk = g * G + q;
                    const int8_t v = (col < n && kk < k) ? w[col * k + kk] : 0;
                    const int64_t at = base + (g * nr + j) * G + q;
                    if (layout == CK_Q8_QUADS) ((int8_t *)packed)[at] = v;
                    else ((int16_t *)packed)[at] = v;
                }
            }
        }
    }
}

// MARK: - Activations

typedef struct {
    int layout;
    int32_t levels;
    int64_t m, k, ldx, row_bytes, chunk;
    const float *x;
    uint8_t *packed;
    float *sa;
    int32_t *za;
} ck_q8_quant_job;

// Rows [i·chunk, (i+1)·chunk): quantised straight into their rows of A (padding stays zero).
static void quantize_rows(void *ctx, int64_t index) {
    const ck_q8_quant_job *J = ctx;
    const int64_t i0 = index * J->chunk, i1 = i0 + J->chunk < J->m ? i0 + J->chunk : J->m;
    const int avx2 = ck_active_isa() >= CK_ISA_AVX2;
    for (int64_t i = i0; i < i1; i++) {
        uint8_t *row = J->packed + i * J->row_bytes;
        const float *x = J->x + i * J->ldx;
        memset(row, 0, (size_t)J->row_bytes);
        if (J->layout == CK_Q8_QUADS) {
#if defined(__x86_64__)
            if (avx2) { ck_q8_quantize_u8_avx2(J->k, x, &J->sa[i], &J->za[i], row); continue; }
#endif
            ck_q8_quantize_u8_generic(J->k, x, &J->sa[i], &J->za[i], row);
        } else {
            J->za[i] = 0;
#if defined(__x86_64__)
            if (avx2) { ck_q8_quantize_s16_avx2(J->k, J->levels, x, &J->sa[i], (int16_t *)row); continue; }
#endif
            ck_q8_quantize_s16_generic(J->k, J->levels, x, &J->sa[i], (int16_t *)row);
        }
        (void)avx2;
    }
}

void ck_q8_quantize_a(int layout, int64_t m, int64_t k, const float *x, int64_t ldx, void *packed,
                      float *sa, int32_t *za) {
    const int64_t row_bytes = a_row_bytes(layout, k);
    const int64_t padded = ck_q8_padded_rows(m);
    for (int64_t i = m; i < padded; i++) { sa[i] = 0.0f; za[i] = 0; }
    memset((uint8_t *)packed + m * row_bytes, 0, (size_t)((padded - m) * row_bytes));
    ck_q8_quant_job J = { layout, ck_q8_pair_levels(k), m, k, ldx, row_bytes, 32, x, packed, sa, za };
    // About k operations per row against n·k multiply-adds in the GEMM that follows: threads only
    // pay for many rows.
    const int64_t chunks = (m + J.chunk - 1) / J.chunk;
    if (m >= 128) ck_parallel_for(chunks, quantize_rows, &J);
    else for (int64_t c = 0; c < chunks; c++) quantize_rows(&J, c);
}

// MARK: - Driver

typedef struct {
    ck_q8_tile_fn tile;
    int layout, MR, NR;
    int64_t m, n, kg, nc, tn;
    const uint8_t *pa, *pb;
    int64_t lda, b_panel_bytes;
    const float *sa, *sb, *bias;
    const int32_t *za, *bsum;
    float *y;
    int64_t ldy;
} ck_q8_job;

static void gemm_block(void *ctx, int64_t t) {
    const ck_q8_job *J = ctx;
    const int64_t bi = t / J->tn, bj = t % J->tn;
    const int64_t i0 = bi * CK_Q8_MC, i1 = i0 + CK_Q8_MC < J->m ? i0 + CK_Q8_MC : J->m;
    const int64_t j0 = bj * J->nc, j1 = j0 + J->nc < J->n ? j0 + J->nc : J->n;
    for (int64_t j = j0; j < j1; j += J->NR) {
        const int nr = j1 - j < J->NR ? (int)(j1 - j) : J->NR;
        const uint8_t *b = J->pb + (j / J->NR) * J->b_panel_bytes;
        for (int64_t i = i0; i < i1; i += J->MR) {
            const int mr = i1 - i < J->MR ? (int)(i1 - i) : J->MR;
            J->tile(J->kg, J->pa + i * J->lda, J->lda, b, J->sa + i, J->za + i, J->sb + j, J->bsum + j,
                    J->bias ? J->bias + j : NULL, J->y + i * J->ldy + j, J->ldy, mr, nr);
        }
    }
}

void ck_q8_gemm(int layout, int64_t m, int64_t n, int64_t k, const void *pa, const float *sa,
                const int32_t *za, const void *pb, const float *sb, const int32_t *bsum,
                const float *bias, float *y, int64_t ldy) {
    if (m <= 0 || n <= 0) return;
    const int64_t kg = groups(layout, k), G = group_of(layout), W = width_of(layout);
    ck_q8_job J = {
        .tile = tile_for(layout), .layout = layout, .MR = mr_of(layout), .NR = nr_of(layout),
        .m = m, .n = n, .kg = kg,
        .pa = pa, .pb = pb,
        .sa = sa, .sb = sb, .bias = bias, .za = za, .bsum = bsum, .y = y, .ldy = ldy,
    };
    // Few rows (one short input): narrower column blocks, so that every thread gets several.
    J.nc = CK_Q8_NC;
    if (m <= CK_Q8_MC) {
        J.nc = round_up((n + 7) / 8, 32);
        if (J.nc > CK_Q8_NC) J.nc = CK_Q8_NC;
    }
    J.tn = (n + J.nc - 1) / J.nc;
    J.lda = a_row_bytes(layout, k);
    J.b_panel_bytes = (int64_t)J.NR * kg * G * W;
    // MC and the column blocks are multiples of every MR and NR, so blocks never split a panel.
    const int64_t blocks = ((m + CK_Q8_MC - 1) / CK_Q8_MC) * J.tn;
    // Small products (one short sentence through a narrow layer) are not worth waking a thread.
    if ((double)m * (double)n * (double)k < 1.0e6 || blocks == 1) {
        for (int64_t t = 0; t < blocks; t++) gemm_block(&J, t);
    } else {
        ck_parallel_for(blocks, gemm_block, &J);
    }
}
