// CKernels for the vector index (module VectorIndex): distances, exact-search scans with top-k
// selection, quantised scans (int8, binary), CRC-32C, and the small atomic helpers the HNSW graph
// uses for lock-free reads of neighbour lists. Every SIMD entry point dispatches on
// ck_active_isa() (AVX-512, AVX2 + FMA, portable C).
//
// Conventions: vectors are row-major float32; `ld*` are row strides in elements; ids are int64.
// "Scores" are larger-is-better (inner products, or negated squared L2 distances);
// "distances" are smaller-is-better (negated inner products, or squared L2 distances).
#ifndef CKERNELS_INDEX_H
#define CKERNELS_INDEX_H

#include <stddef.h>
#include <stdint.h>
#include <sched.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Metrics as the kernels see them: inner product (cosine uses it on normalised vectors) or squared L2.
enum ck_ix_metric { CK_IX_IP = 0, CK_IX_L2 = 1 };

// MARK: - Distances

/// Σ a[i]·b[i].
float ck_ix_dot(const float *a, const float *b, int64_t n);
/// Σ (a[i] − b[i])².
float ck_ix_l2sq(const float *a, const float *b, int64_t n);

/// A distance function (smaller is closer) for a metric, fixed for the ISA in use at the call:
/// CK_IX_IP gives −a·b, CK_IX_L2 gives ‖a − b‖². Fetch once, call many times.
typedef float (*ck_ix_distance_fn)(const float *a, const float *b, int64_t n);
ck_ix_distance_fn ck_ix_distance_function(int metric);

/// out[j] = distance(q, base + ids[j]·stride) for j < count, prefetching the next rows while
/// computing the current one (graph traversal visits rows in random order).
void ck_ix_distances_gather(int metric, const float *q, const float *base, int64_t stride,
                            const uint32_t *ids, int64_t count, int64_t dim, float *out);

/// out[i] = score(q, x + i·ldx) for i < n: q·x, or −‖q − x‖² for CK_IX_L2.
void ck_ix_scores(int metric, const float *q, const float *x, int64_t n, int64_t ldx, int64_t dim, float *out);

// MARK: - Top-k selection

/// Streams a rows×cols block of scores into per-row bounded min-heaps (the k best so far).
///
/// Row r's heap is heap_scores[r·k ..< r·k + k] / heap_ids[...], holding heap_sizes[r] entries
/// (min at index 0). Column c stands for id id_base + c. score = s[r·lds + c] (+ col_bias[c]
/// when col_bias is not NULL); columns with col_mask[c] == 0 are skipped (col_mask may be NULL).
/// A score enters when the heap is not full or it is strictly greater than the heap's minimum,
/// so among equal scores the earlier column wins. NaN scores never enter.
void ck_ix_topk_rows(const float *s, int64_t rows, int64_t cols, int64_t lds,
                     const float *col_bias, const uint8_t *col_mask, int64_t id_base, int64_t k,
                     float *heap_scores, int64_t *heap_ids, int64_t *heap_sizes);

/// The transposed update: column c's heap (heap_scores[c·k ...]) receives s[r·lds + c] as id
/// id_base + r, for every row r. Used by paraphrase mining for the lower triangle of a block.
void ck_ix_topk_cols(const float *s, int64_t rows, int64_t cols, int64_t lds, int64_t id_base, int64_t k,
                     float *heap_scores, int64_t *heap_ids, int64_t *heap_sizes);

/// Sorts each of `rows` heaps (as left by the functions above) into best-first order in place:
/// descending score, ascending id among equal scores.
void ck_ix_heaps_sort(int64_t rows, int64_t k, float *heap_scores, int64_t *heap_ids, const int64_t *heap_sizes);

/// Appends every (row_base + r, col_base + c, score) with score >= threshold to the output arrays
/// and returns how many there are in all. Only the first `capacity` are written: when the return
/// value exceeds it, call again with larger arrays. With upper_only, only c > r is considered
/// (a diagonal block of a symmetric product).
int64_t ck_ix_pairs_above(const float *s, int64_t rows, int64_t cols, int64_t lds, float threshold,
                          int64_t row_base, int64_t col_base, int upper_only,
                          int64_t *out_a, int64_t *out_b, float *out_score, int64_t capacity);

// MARK: - Quantised scans

/// out[i] = Σ_d qs[d]·codes[i·ldc + d] (uint8 codes widened to float).
void ck_ix_u8_dot(const float *qs, const uint8_t *codes, int64_t n, int64_t ldc, int64_t dim, float *out);
/// out[i] = Σ_d (qshift[d] − scale[d]·codes[i·ldc + d])².
void ck_ix_u8_l2(const float *qshift, const float *scale, const uint8_t *codes, int64_t n, int64_t ldc,
                 int64_t dim, float *out);
/// out[i] = popcount(q XOR codes[i·words ...]) over `words` 64-bit words.
void ck_ix_hamming(const uint64_t *q, const uint64_t *codes, int64_t n, int64_t words, int32_t *out);

// MARK: - Checksums

/// CRC-32C (Castagnoli), continuing from `crc` (start with 0). Hardware instructions when the
/// CPU has SSE 4.2, else tables; both give the same value.
uint32_t ck_ix_crc32c(uint32_t crc, const void *data, size_t length);

// MARK: - Atomics for the HNSW graph (inline so that they compile to plain moves on x86)

static inline uint32_t ck_ix_load_u32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void ck_ix_store_u32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline uint8_t ck_ix_load_u8(const uint8_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void ck_ix_store_u8(uint8_t *p, uint8_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline uint64_t ck_ix_load_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void ck_ix_store_u64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline uint64_t ck_ix_fetch_add_u64(uint64_t *p, uint64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL); }
static inline int ck_ix_cas_u64(uint64_t *p, uint64_t expected, uint64_t desired) {
    return __atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/// A one-word spin lock: 0 free, 1 held. Yields the CPU after a short spin, because with two
/// cores the holder may be descheduled.
static inline void ck_ix_lock(uint32_t *p) {
    for (;;) {
        if (!__atomic_exchange_n(p, 1u, __ATOMIC_ACQUIRE)) return;
        int spins = 0;
        while (__atomic_load_n(p, __ATOMIC_RELAXED)) {
            if (++spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
                __builtin_ia32_pause();
#endif
            } else {
                sched_yield();
                spins = 0;
            }
        }
    }
}
static inline void ck_ix_unlock(uint32_t *p) { __atomic_store_n(p, 0u, __ATOMIC_RELEASE); }

static inline void ck_ix_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

#ifdef __cplusplus
}
#endif
#endif
