// Dynamic int8 GEMM driver: weight packing, per-row activation quantisation, blocking and threads,
// and the portable kernels. The ISA kernels live in qgemm_avx2.c and qgemm_avx512.c.
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

int ck_q8_vnni_active(void) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    static int vnni = -1;
    if (vnni < 0) {
        __builtin_cpu_init();
        vnni = __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512f");
    }
    return vnni && ck_active_isa() >= CK_ISA_AVX512;
#else
    return 0;
#endif
}

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

int64_t ck_q8_packed_a_bytes(int layout, int64_t m, int64_t k) {
    return round_up(m > 0 ? m : 1, mr_of(layout)) * groups(layout, k) * group_of(layout) * width_of(layout) + 64;
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

void ck_q8_quantize_row_generic(int64_t k, const float *x, float *scale, int32_t *zero, uint8_t *q) {
    float lo = 0.0f, hi = 0.0f;
    for (int64_t p = 0; p < k; p++) {
        lo = x[p] < lo ? x[p] : lo;
        hi = x[p] > hi ? x[p] : hi;
    }
    float s = (hi - lo) / 255.0f;
    if (!(s > 0.0f) || !isfinite(s)) {   // all zeros (or non-finite input): everything maps to 0
        *scale = 0.0f;
        *zero = 0;
        memset(q, 0, (size_t)k);
        return;
    }
    const float inv = 1.0f / s;
    int32_t z = (int32_t)lrintf(-lo * inv);
    z = z < 0 ? 0 : (z > 255 ? 255 : z);
    for (int64_t p = 0; p < k; p++) {
        int32_t v = (int32_t)lrintf(x[p] * inv) + z;
        q[p] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
    *scale = s;
    *zero = z;
}

typedef struct {
    int layout;
    int64_t m, k, ldx;
    const float *x;
    void *packed;
    float *sa;
    int32_t *za;
} ck_q8_quant_job;

// One panel of MR rows: quantise each row into a temporary, then interleave into the panel.
static void quantize_panel(void *ctx, int64_t panel) {
    const ck_q8_quant_job *J = ctx;
    const int mr = mr_of(J->layout), G = group_of(J->layout);
    const int64_t kg = groups(J->layout, J->k), kpad = kg * G;
    uint8_t row[4096];
    uint8_t *tmp = kpad <= (int64_t)sizeof row ? row : malloc((size_t)kpad);
    if (tmp == NULL) { fputs("CKernels: out of memory\n", stderr); abort(); }
    const int64_t base = panel * mr * kpad;
    for (int r = 0; r < mr; r++) {
        const int64_t i = panel * mr + r;
        if (i < J->m) {
#if defined(__x86_64__)
            if (ck_active_isa() >= CK_ISA_AVX2) ck_q8_quantize_rows_avx2(J->k, J->x + i * J->ldx, &J->sa[i], &J->za[i], tmp);
            else
#endif
            ck_q8_quantize_row_generic(J->k, J->x + i * J->ldx, &J->sa[i], &J->za[i], tmp);
            for (int64_t p = J->k; p < kpad; p++) tmp[p] = 0;
        } else {
            memset(tmp, 0, (size_t)kpad);
        }
        // Element (r, g·G + q) at (g·MR + r)·G + q.
        if (J->layout == CK_Q8_QUADS) {
            uint8_t *dst = (uint8_t *)J->packed + base;
            for (int64_t g = 0; g < kg; g++) memcpy(dst + (g * mr + r) * 4, tmp + g * 4, 4);
        } else {
            int16_t *dst = (int16_t *)J->packed + base;
            for (int64_t g = 0; g < kg; g++) {
                dst[(g * mr + r) * 2] = tmp[g * 2];
                dst[(g * mr + r) * 2 + 1] = tmp[g * 2 + 1];
            }
        }
    }
    if (tmp != row) free(tmp);
}

void ck_q8_quantize_a(int layout, int64_t m, int64_t k, const float *x, int64_t ldx, void *packed,
                      float *sa, int32_t *za) {
    const int mr = mr_of(layout);
    const int64_t panels = (m + mr - 1) / mr;
    for (int64_t i = m; i < ck_q8_padded_rows(m); i++) { sa[i] = 0.0f; za[i] = 0; }
    ck_q8_quant_job J = { layout, m, k, ldx, x, packed, sa, za };
    // Quantising costs about k operations per row against n·k multiply-adds in the GEMM that
    // follows: only worth threads for many rows.
    if (m >= 96) ck_parallel_for(panels, quantize_panel, &J);
    else for (int64_t p = 0; p < panels; p++) quantize_panel(&J, p);
}

// MARK: - Portable kernels

// The float epilogue shared by the portable kernels.
static void store_tile(const int32_t *acc, int NR, const float *sa, const int32_t *za, const float *sb,
                       const int32_t *bsum, const float *bias, float *y, int64_t ldy, int mr, int nr) {
    for (int r = 0; r < mr; r++) {
        for (int j = 0; j < nr; j++) {
            const int32_t c = acc[r * NR + j] - za[r] * bsum[j];
            y[r * ldy + j] = (float)c * (sa[r] * sb[j]) + (bias ? bias[j] : 0.0f);
        }
    }
}

void ck_q8_tile_pairs_generic(int64_t kg, const void *a, const void *b, const float *sa, const int32_t *za,
                              const float *sb, const int32_t *bsum, const float *bias, float *y, int64_t ldy,
                              int mr, int nr) {
    enum { MR = CK_Q8P_MR, NR = CK_Q8P_NR };
    int32_t acc[MR * NR] = { 0 };
    const int16_t *pa = a, *pb = b;
    for (int64_t g = 0; g < kg; g++, pa += MR * 2, pb += NR * 2)
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++)
                acc[r * NR + j] += (int32_t)pa[r * 2] * pb[j * 2] + (int32_t)pa[r * 2 + 1] * pb[j * 2 + 1];
    store_tile(acc, NR, sa, za, sb, bsum, bias, y, ldy, mr, nr);
}

void ck_q8_tile_quads_generic(int64_t kg, const void *a, const void *b, const float *sa, const int32_t *za,
                              const float *sb, const int32_t *bsum, const float *bias, float *y, int64_t ldy,
                              int mr, int nr) {
    enum { MR = CK_Q8Q_MR, NR = CK_Q8Q_NR };
    int32_t acc[MR * NR] = { 0 };
    const uint8_t *pa = a;
    const int8_t *pb = b;
    for (int64_t g = 0; g < kg; g++, pa += MR * 4, pb += NR * 4)
        for (int r = 0; r < MR; r++)
            for (int j = 0; j < NR; j++)
                for (int q = 0; q < 4; q++) acc[r * NR + j] += (int32_t)pa[r * 4 + q] * pb[j * 4 + q];
    store_tile(acc, NR, sa, za, sb, bsum, bias, y, ldy, mr, nr);
}

// MARK: - Driver

typedef struct {
    ck_q8_tile_fn tile;
    int layout, MR, NR;
    int64_t m, n, kg, nc, tn;
    const uint8_t *pa, *pb;
    int64_t a_panel_bytes, b_panel_bytes;
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
            J->tile(J->kg, J->pa + (i / J->MR) * J->a_panel_bytes, b, J->sa + i, J->za + i, J->sb + j, J->bsum + j,
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
    J.a_panel_bytes = (int64_t)J.MR * kg * G * W;
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
