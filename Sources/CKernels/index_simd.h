// Vector-index kernels, written once with GCC/Clang vector extensions and compiled per ISA: each
// index_<isa>.c defines CK_IX_TARGET (target attribute), CK_IX_VW (float lanes), CK_IX_SUFFIX and
// CK_IX_MOVEMASK (lane comparison mask → bits), then includes this file.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CK_IX_CAT2(a, b) a##_##b
#define CK_IX_CAT(a, b) CK_IX_CAT2(a, b)
#define CK_IX_NAME(f) CK_IX_CAT(f, CK_IX_SUFFIX)
#define CK_IX_INLINE static inline __attribute__((always_inline)) CK_IX_TARGET

typedef float ixvf __attribute__((vector_size(CK_IX_VW * 4)));
typedef int32_t ixvi __attribute__((vector_size(CK_IX_VW * 4)));
typedef uint8_t ixvb __attribute__((vector_size(CK_IX_VW)));

CK_IX_INLINE ixvf ix_load(const float *p) { ixvf v; memcpy(&v, p, sizeof v); return v; }
CK_IX_INLINE ixvf ix_splat(float s) { return (ixvf){0} + s; }
CK_IX_INLINE ixvf ix_load_u8(const uint8_t *p) {
    ixvb b;
    memcpy(&b, p, sizeof b);
    return __builtin_convertvector(b, ixvf);
}
CK_IX_INLINE float ix_hsum(ixvf v) {
    float s = 0;
    for (int i = 0; i < CK_IX_VW; i++) s += v[i];
    return s;
}

// MARK: - Dense distances

CK_IX_INLINE float ix_dot(const float *a, const float *b, int64_t n) {
    ixvf s0 = ix_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 4 * CK_IX_VW <= n; i += 4 * CK_IX_VW) {
        s0 += ix_load(a + i) * ix_load(b + i);
        s1 += ix_load(a + i + CK_IX_VW) * ix_load(b + i + CK_IX_VW);
        s2 += ix_load(a + i + 2 * CK_IX_VW) * ix_load(b + i + 2 * CK_IX_VW);
        s3 += ix_load(a + i + 3 * CK_IX_VW) * ix_load(b + i + 3 * CK_IX_VW);
    }
    for (; i + CK_IX_VW <= n; i += CK_IX_VW) s0 += ix_load(a + i) * ix_load(b + i);
    float s = ix_hsum((s0 + s1) + (s2 + s3));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

CK_IX_INLINE float ix_l2sq(const float *a, const float *b, int64_t n) {
    ixvf s0 = ix_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 4 * CK_IX_VW <= n; i += 4 * CK_IX_VW) {
        ixvf d0 = ix_load(a + i) - ix_load(b + i);
        ixvf d1 = ix_load(a + i + CK_IX_VW) - ix_load(b + i + CK_IX_VW);
        ixvf d2 = ix_load(a + i + 2 * CK_IX_VW) - ix_load(b + i + 2 * CK_IX_VW);
        ixvf d3 = ix_load(a + i + 3 * CK_IX_VW) - ix_load(b + i + 3 * CK_IX_VW);
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
    }
    for (; i + CK_IX_VW <= n; i += CK_IX_VW) {
        ixvf d = ix_load(a + i) - ix_load(b + i);
        s0 += d * d;
    }
    float s = ix_hsum((s0 + s1) + (s2 + s3));
    for (; i < n; i++) {
        float d = a[i] - b[i];
        s += d * d;
    }
    return s;
}

CK_IX_TARGET float CK_IX_NAME(ck_ix_dot)(const float *a, const float *b, int64_t n) { return ix_dot(a, b, n); }
CK_IX_TARGET float CK_IX_NAME(ck_ix_l2sq)(const float *a, const float *b, int64_t n) { return ix_l2sq(a, b, n); }
CK_IX_TARGET float CK_IX_NAME(ck_ix_negdot)(const float *a, const float *b, int64_t n) { return -ix_dot(a, b, n); }

// Prefetches the first lines of a row; the hardware prefetcher follows the rest.
CK_IX_INLINE void ix_prefetch_row(const float *p, int64_t dim) {
    const char *c = (const char *)p;
    int64_t bytes = dim * 4;
    for (int64_t o = 0; o < bytes && o < 512; o += 64) __builtin_prefetch(c + o, 0, 3);
}

CK_IX_TARGET void CK_IX_NAME(ck_ix_distances_gather)(int metric, const float *q, const float *base, int64_t stride,
                                                     const uint32_t *ids, int64_t count, int64_t dim, float *out) {
    if (count <= 0) return;
    ix_prefetch_row(base + (int64_t)ids[0] * stride, dim);
    for (int64_t j = 0; j < count; j++) {
        if (j + 1 < count) ix_prefetch_row(base + (int64_t)ids[j + 1] * stride, dim);
        const float *x = base + (int64_t)ids[j] * stride;
        out[j] = metric == 1 ? ix_l2sq(q, x, dim) : -ix_dot(q, x, dim);
    }
}

CK_IX_TARGET void CK_IX_NAME(ck_ix_scores)(int metric, const float *q, const float *x, int64_t n, int64_t ldx, int64_t dim,
                                           float *out) {
    if (metric == 1) {
        for (int64_t i = 0; i < n; i++) out[i] = -ix_l2sq(q, x + i * ldx, dim);
        return;
    }
    int64_t i = 0;
    // Four rows at a time share each load of q.
    for (; i + 4 <= n; i += 4) {
        const float *x0 = x + i * ldx, *x1 = x0 + ldx, *x2 = x1 + ldx, *x3 = x2 + ldx;
        ixvf s0 = ix_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
        int64_t d = 0;
        for (; d + CK_IX_VW <= dim; d += CK_IX_VW) {
            ixvf qv = ix_load(q + d);
            s0 += qv * ix_load(x0 + d);
            s1 += qv * ix_load(x1 + d);
            s2 += qv * ix_load(x2 + d);
            s3 += qv * ix_load(x3 + d);
        }
        float r0 = ix_hsum(s0), r1 = ix_hsum(s1), r2 = ix_hsum(s2), r3 = ix_hsum(s3);
        for (; d < dim; d++) {
            r0 += q[d] * x0[d];
            r1 += q[d] * x1[d];
            r2 += q[d] * x2[d];
            r3 += q[d] * x3[d];
        }
        out[i] = r0;
        out[i + 1] = r1;
        out[i + 2] = r2;
        out[i + 3] = r3;
    }
    for (; i < n; i++) out[i] = ix_dot(q, x + i * ldx, dim);
}

// MARK: - Bounded heaps (min at 0; "worse" = lower score, then larger id)

CK_IX_INLINE int ix_worse(float sa, int64_t ia, float sb, int64_t ib) { return sa < sb || (sa == sb && ia > ib); }

// Offers (score, id) to a heap of capacity k holding *n entries; returns the new admission threshold.
CK_IX_INLINE float ix_heap_offer(float *hv, int64_t *hi, int64_t *n, int64_t k, float score, int64_t id) {
    int64_t size = *n;
    if (size < k) {
        int64_t j = size++;
        while (j > 0) {
            int64_t p = (j - 1) >> 1;
            if (!ix_worse(score, id, hv[p], hi[p])) break;
            hv[j] = hv[p];
            hi[j] = hi[p];
            j = p;
        }
        hv[j] = score;
        hi[j] = id;
        *n = size;
        return size < k ? -INFINITY : hv[0];
    }
    if (!ix_worse(hv[0], hi[0], score, id)) return hv[0];
    int64_t j = 0;
    for (;;) {
        int64_t l = 2 * j + 1;
        if (l >= size) break;
        int64_t r = l + 1, m = l;
        if (r < size && ix_worse(hv[r], hi[r], hv[l], hi[l])) m = r;
        if (!ix_worse(hv[m], hi[m], score, id)) break;
        hv[j] = hv[m];
        hi[j] = hi[m];
        j = m;
    }
    hv[j] = score;
    hi[j] = id;
    return hv[0];
}

CK_IX_TARGET void CK_IX_NAME(ck_ix_topk_rows)(const float *s, int64_t rows, int64_t cols, int64_t lds,
                                              const float *col_bias, const uint8_t *col_mask, int64_t id_base, int64_t k,
                                              float *heap_scores, int64_t *heap_ids, int64_t *heap_sizes) {
    if (k <= 0) return;
    for (int64_t r = 0; r < rows; r++) {
        float *hv = heap_scores + r * k;
        int64_t *hi = heap_ids + r * k;
        int64_t n = heap_sizes[r];
        const float *row = s + r * lds;
        float thr = n < k ? -INFINITY : hv[0];
        int64_t c = 0;
        for (; c + CK_IX_VW <= cols; c += CK_IX_VW) {
            ixvf v = ix_load(row + c);
            if (col_bias) v += ix_load(col_bias + c);
            // >= lets an equal score with a smaller id (from an earlier block) be considered.
            ixvi m = v >= ix_splat(thr);
            uint32_t bits = CK_IX_MOVEMASK(m);
            while (bits) {
                int b = __builtin_ctz(bits);
                bits &= bits - 1;
                int64_t col = c + b;
                if (col_mask && !col_mask[col]) continue;
                thr = ix_heap_offer(hv, hi, &n, k, v[b], id_base + col);
            }
        }
        for (; c < cols; c++) {
            float v = row[c] + (col_bias ? col_bias[c] : 0.0f);
            if (!(v >= thr)) continue;
            if (col_mask && !col_mask[c]) continue;
            thr = ix_heap_offer(hv, hi, &n, k, v, id_base + c);
        }
        heap_sizes[r] = n;
    }
}

CK_IX_TARGET void CK_IX_NAME(ck_ix_topk_cols)(const float *s, int64_t rows, int64_t cols, int64_t lds, int64_t id_base,
                                              int64_t k, float *heap_scores, int64_t *heap_ids, int64_t *heap_sizes) {
    if (k <= 0 || cols <= 0) return;
    float stack_thr[1024];
    float *thr = cols <= 1024 ? stack_thr : (float *)malloc((size_t)cols * sizeof(float));
    if (!thr) abort();
    for (int64_t c = 0; c < cols; c++) thr[c] = heap_sizes[c] < k ? -INFINITY : heap_scores[c * k];
    for (int64_t r = 0; r < rows; r++) {
        const float *row = s + r * lds;
        int64_t c = 0;
        for (; c + CK_IX_VW <= cols; c += CK_IX_VW) {
            ixvf v = ix_load(row + c);
            ixvi m = v >= ix_load(thr + c);
            uint32_t bits = CK_IX_MOVEMASK(m);
            while (bits) {
                int b = __builtin_ctz(bits);
                bits &= bits - 1;
                int64_t col = c + b;
                thr[col] = ix_heap_offer(heap_scores + col * k, heap_ids + col * k, heap_sizes + col, k, v[b], id_base + r);
            }
        }
        for (; c < cols; c++) {
            float v = row[c];
            if (v >= thr[c]) thr[c] = ix_heap_offer(heap_scores + c * k, heap_ids + c * k, heap_sizes + c, k, v, id_base + r);
        }
    }
    if (thr != stack_thr) free(thr);
}

CK_IX_TARGET int64_t CK_IX_NAME(ck_ix_pairs_above)(const float *s, int64_t rows, int64_t cols, int64_t lds, float threshold,
                                                   int64_t row_base, int64_t col_base, int upper_only,
                                                   int64_t *out_a, int64_t *out_b, float *out_score, int64_t capacity) {
    int64_t found = 0;
    ixvf t = ix_splat(threshold);
    for (int64_t r = 0; r < rows; r++) {
        const float *row = s + r * lds;
        int64_t c = upper_only ? r + 1 : 0;
        for (; c < cols && (c & (CK_IX_VW - 1)); c++) {
            if (row[c] >= threshold) {
                if (found < capacity) { out_a[found] = row_base + r; out_b[found] = col_base + c; out_score[found] = row[c]; }
                found++;
            }
        }
        for (; c + CK_IX_VW <= cols; c += CK_IX_VW) {
            ixvf v = ix_load(row + c);
            uint32_t bits = CK_IX_MOVEMASK(v >= t);
            while (bits) {
                int b = __builtin_ctz(bits);
                bits &= bits - 1;
                if (found < capacity) { out_a[found] = row_base + r; out_b[found] = col_base + c + b; out_score[found] = v[b]; }
                found++;
            }
        }
        for (; c < cols; c++) {
            if (row[c] >= threshold) {
                if (found < capacity) { out_a[found] = row_base + r; out_b[found] = col_base + c; out_score[found] = row[c]; }
                found++;
            }
        }
    }
    return found;
}

// MARK: - Quantised scans

CK_IX_TARGET void CK_IX_NAME(ck_ix_u8_dot)(const float *qs, const uint8_t *codes, int64_t n, int64_t ldc, int64_t dim,
                                           float *out) {
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *c = codes + i * ldc;
        if (i + 2 < n) __builtin_prefetch(codes + (i + 2) * ldc, 0, 0);
        ixvf s0 = ix_splat(0.0f), s1 = s0;
        int64_t d = 0;
        for (; d + 2 * CK_IX_VW <= dim; d += 2 * CK_IX_VW) {
            s0 += ix_load(qs + d) * ix_load_u8(c + d);
            s1 += ix_load(qs + d + CK_IX_VW) * ix_load_u8(c + d + CK_IX_VW);
        }
        for (; d + CK_IX_VW <= dim; d += CK_IX_VW) s0 += ix_load(qs + d) * ix_load_u8(c + d);
        float r = ix_hsum(s0 + s1);
        for (; d < dim; d++) r += qs[d] * (float)c[d];
        out[i] = r;
    }
}

CK_IX_TARGET void CK_IX_NAME(ck_ix_u8_l2)(const float *qshift, const float *scale, const uint8_t *codes, int64_t n,
                                          int64_t ldc, int64_t dim, float *out) {
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *c = codes + i * ldc;
        if (i + 2 < n) __builtin_prefetch(codes + (i + 2) * ldc, 0, 0);
        ixvf s0 = ix_splat(0.0f), s1 = s0;
        int64_t d = 0;
        for (; d + 2 * CK_IX_VW <= dim; d += 2 * CK_IX_VW) {
            ixvf e0 = ix_load(qshift + d) - ix_load(scale + d) * ix_load_u8(c + d);
            ixvf e1 = ix_load(qshift + d + CK_IX_VW) - ix_load(scale + d + CK_IX_VW) * ix_load_u8(c + d + CK_IX_VW);
            s0 += e0 * e0;
            s1 += e1 * e1;
        }
        for (; d + CK_IX_VW <= dim; d += CK_IX_VW) {
            ixvf e = ix_load(qshift + d) - ix_load(scale + d) * ix_load_u8(c + d);
            s0 += e * e;
        }
        float r = ix_hsum(s0 + s1);
        for (; d < dim; d++) {
            float e = qshift[d] - scale[d] * (float)c[d];
            r += e * e;
        }
        out[i] = r;
    }
}
