// Vector-index entry points: forward to the implementation for the ISA in use (index_<isa>.c),
// plus the kernels that do not depend on vector width: Hamming distances and CRC-32C.
#include "ckernels.h"
#include "ckernels_index.h"

#include <pthread.h>

#define CK_IX_DECLARE(isa)                                                                                      \
    float ck_ix_dot_##isa(const float *, const float *, int64_t);                                               \
    float ck_ix_l2sq_##isa(const float *, const float *, int64_t);                                              \
    float ck_ix_negdot_##isa(const float *, const float *, int64_t);                                            \
    void ck_ix_distances_gather_##isa(int, const float *, const float *, int64_t, const uint32_t *, int64_t,    \
                                      int64_t, float *);                                                        \
    void ck_ix_scores_##isa(int, const float *, const float *, int64_t, int64_t, int64_t, float *);              \
    void ck_ix_topk_rows_##isa(const float *, int64_t, int64_t, int64_t, const float *, const uint8_t *,        \
                               int64_t, int64_t, float *, int64_t *, int64_t *);                                \
    void ck_ix_topk_cols_##isa(const float *, int64_t, int64_t, int64_t, int64_t, int64_t, float *, int64_t *,  \
                               int64_t *);                                                                      \
    int64_t ck_ix_pairs_above_##isa(const float *, int64_t, int64_t, int64_t, float, int64_t, int64_t, int,     \
                                    int64_t *, int64_t *, float *, int64_t);                                    \
    void ck_ix_u8_dot_##isa(const float *, const uint8_t *, int64_t, int64_t, int64_t, float *);                \
    void ck_ix_u8_l2_##isa(const float *, const float *, const uint8_t *, int64_t, int64_t, int64_t, float *);

CK_IX_DECLARE(generic)
#if defined(__x86_64__)
CK_IX_DECLARE(avx2)
CK_IX_DECLARE(avx512)
#define CK_IX_DISPATCH(f, ...)                                                                                  \
    switch (ck_active_isa()) {                                                                                  \
    case CK_ISA_AVX512: return f##_avx512(__VA_ARGS__);                                                         \
    case CK_ISA_AVX2: return f##_avx2(__VA_ARGS__);                                                             \
    default: return f##_generic(__VA_ARGS__);                                                                   \
    }
#else
#define CK_IX_DISPATCH(f, ...) return f##_generic(__VA_ARGS__);
#endif

float ck_ix_dot(const float *a, const float *b, int64_t n) { CK_IX_DISPATCH(ck_ix_dot, a, b, n) }
float ck_ix_l2sq(const float *a, const float *b, int64_t n) { CK_IX_DISPATCH(ck_ix_l2sq, a, b, n) }

ck_ix_distance_fn ck_ix_distance_function(int metric) {
#if defined(__x86_64__)
    switch (ck_active_isa()) {
    case CK_ISA_AVX512: return metric == CK_IX_L2 ? ck_ix_l2sq_avx512 : ck_ix_negdot_avx512;
    case CK_ISA_AVX2: return metric == CK_IX_L2 ? ck_ix_l2sq_avx2 : ck_ix_negdot_avx2;
    default: break;
    }
#endif
    return metric == CK_IX_L2 ? ck_ix_l2sq_generic : ck_ix_negdot_generic;
}

void ck_ix_distances_gather(int metric, const float *q, const float *base, int64_t stride, const uint32_t *ids,
                            int64_t count, int64_t dim, float *out) {
    CK_IX_DISPATCH(ck_ix_distances_gather, metric, q, base, stride, ids, count, dim, out)
}

void ck_ix_scores(int metric, const float *q, const float *x, int64_t n, int64_t ldx, int64_t dim, float *out) {
    CK_IX_DISPATCH(ck_ix_scores, metric, q, x, n, ldx, dim, out)
}

void ck_ix_topk_rows(const float *s, int64_t rows, int64_t cols, int64_t lds, const float *col_bias,
                     const uint8_t *col_mask, int64_t id_base, int64_t k, float *heap_scores, int64_t *heap_ids,
                     int64_t *heap_sizes) {
    CK_IX_DISPATCH(ck_ix_topk_rows, s, rows, cols, lds, col_bias, col_mask, id_base, k, heap_scores, heap_ids, heap_sizes)
}

void ck_ix_topk_cols(const float *s, int64_t rows, int64_t cols, int64_t lds, int64_t id_base, int64_t k,
                     float *heap_scores, int64_t *heap_ids, int64_t *heap_sizes) {
    CK_IX_DISPATCH(ck_ix_topk_cols, s, rows, cols, lds, id_base, k, heap_scores, heap_ids, heap_sizes)
}

int64_t ck_ix_pairs_above(const float *s, int64_t rows, int64_t cols, int64_t lds, float threshold, int64_t row_base,
                          int64_t col_base, int upper_only, int64_t *out_a, int64_t *out_b, float *out_score,
                          int64_t capacity) {
    CK_IX_DISPATCH(ck_ix_pairs_above, s, rows, cols, lds, threshold, row_base, col_base, upper_only, out_a, out_b,
                   out_score, capacity)
}

void ck_ix_u8_dot(const float *qs, const uint8_t *codes, int64_t n, int64_t ldc, int64_t dim, float *out) {
    CK_IX_DISPATCH(ck_ix_u8_dot, qs, codes, n, ldc, dim, out)
}

void ck_ix_u8_l2(const float *qshift, const float *scale, const uint8_t *codes, int64_t n, int64_t ldc, int64_t dim,
                 float *out) {
    CK_IX_DISPATCH(ck_ix_u8_l2, qshift, scale, codes, n, ldc, dim, out)
}

// MARK: - Sorting heaps into best-first order

static int ix_better(float sa, int64_t ia, float sb, int64_t ib) { return sa > sb || (sa == sb && ia < ib); }

void ck_ix_heaps_sort(int64_t rows, int64_t k, float *heap_scores, int64_t *heap_ids, const int64_t *heap_sizes) {
    for (int64_t r = 0; r < rows; r++) {
        float *v = heap_scores + r * k;
        int64_t *id = heap_ids + r * k;
        int64_t n = heap_sizes[r];
        // k is small (tens to hundreds): insertion sort.
        for (int64_t i = 1; i < n; i++) {
            float sv = v[i];
            int64_t si = id[i];
            int64_t j = i;
            while (j > 0 && ix_better(sv, si, v[j - 1], id[j - 1])) {
                v[j] = v[j - 1];
                id[j] = id[j - 1];
                j--;
            }
            v[j] = sv;
            id[j] = si;
        }
    }
}

// MARK: - Hamming distances

static void hamming_generic(const uint64_t *q, const uint64_t *codes, int64_t n, int64_t words, int32_t *out) {
    for (int64_t i = 0; i < n; i++) {
        const uint64_t *c = codes + i * words;
        int32_t d = 0;
        for (int64_t w = 0; w < words; w++) d += __builtin_popcountll(q[w] ^ c[w]);
        out[i] = d;
    }
}

#if defined(__x86_64__)
__attribute__((target("popcnt"))) static void hamming_popcnt(const uint64_t *q, const uint64_t *codes, int64_t n,
                                                             int64_t words, int32_t *out) {
    if (words == 4 || words == 6 || words == 8 || words == 12 || words == 16) {
        // Common code sizes (256, 384, 512, 768, 1024 bits): a fixed trip count unrolls fully.
#define HAMMING_FIXED(W)                                                                                        \
    for (int64_t i = 0; i < n; i++) {                                                                           \
        const uint64_t *c = codes + i * W;                                                                      \
        int64_t d = 0;                                                                                          \
        for (int w = 0; w < W; w++) d += __builtin_popcountll(q[w] ^ c[w]);                                    \
        out[i] = (int32_t)d;                                                                                    \
    }                                                                                                           \
    return;
        switch (words) {
        case 4: HAMMING_FIXED(4)
        case 6: HAMMING_FIXED(6)
        case 8: HAMMING_FIXED(8)
        case 12: HAMMING_FIXED(12)
        default: HAMMING_FIXED(16)
        }
#undef HAMMING_FIXED
    }
    for (int64_t i = 0; i < n; i++) {
        const uint64_t *c = codes + i * words;
        int64_t d = 0;
        for (int64_t w = 0; w < words; w++) d += __builtin_popcountll(q[w] ^ c[w]);
        out[i] = (int32_t)d;
    }
}
#endif

void ck_ix_hamming(const uint64_t *q, const uint64_t *codes, int64_t n, int64_t words, int32_t *out) {
#if defined(__x86_64__)
    // Every AVX2 CPU has POPCNT; "generic" (forced or detected) keeps the portable loop.
    if (ck_active_isa() >= CK_ISA_AVX2) {
        hamming_popcnt(q, codes, n, words, out);
        return;
    }
#endif
    hamming_generic(q, codes, n, words, out);
}

// MARK: - CRC-32C

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int j = 0; j < 8; j++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++) crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
}

static uint32_t crc32c_table(uint32_t crc, const uint8_t *p, size_t n) {
    pthread_once(&crc_once, crc_init);
    while (n >= 8) {
        uint64_t v;
        __builtin_memcpy(&v, p, 8);
        v ^= crc;
        crc = crc_table[7][v & 0xFF] ^ crc_table[6][(v >> 8) & 0xFF] ^ crc_table[5][(v >> 16) & 0xFF] ^
              crc_table[4][(v >> 24) & 0xFF] ^ crc_table[3][(v >> 32) & 0xFF] ^ crc_table[2][(v >> 40) & 0xFF] ^
              crc_table[1][(v >> 48) & 0xFF] ^ crc_table[0][v >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ crc_table[0][(crc ^ *p++) & 0xFF];
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t v;
        __builtin_memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t ck_ix_crc32c(uint32_t crc, const void *data, size_t length) {
    crc = ~crc;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("sse4.2")) return ~crc32c_hw(crc, (const uint8_t *)data, length);
#endif
    return ~crc32c_table(crc, (const uint8_t *)data, length);
}
