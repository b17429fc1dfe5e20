// The GEMM driver: BLIS-style blocking around the ISA's micro-kernel, thread partitioning, and
// the cases packing would waste (k == 0, matrix-vector shapes).
//
// Loop nest (per thread, on its block of C):
//   jc over n in NC columns      - B block kc×nc packed once, reused by every row block (L3)
//     pc over k in KC            - the first KC pass applies beta, later ones accumulate
//       ic over m in MC rows     - A block mc×kc packed once, reused by every column panel (L2)
//         jr over NR panels      - one B micro-panel stays in L1 while
//           ir over MR panels    - the micro-kernel streams A micro-panels through it
// Threads get disjoint blocks of C (a grid chosen to minimise re-packing) and pack their own
// operands: with two cores the duplicated packing costs well under 1% (packing moves a float in
// about 0.1 ns; each packed float feeds hundreds of FMAs), and no barrier is needed.
#include "ckernels.h"
#include "gemm_internal.h"
#include "ck_alloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Below this many multiply-adds (m·n·k = 128×128×256) a GEMM runs on the calling thread: it
// takes under 80 µs there, and waking a sleeping worker (tens of µs on a loaded machine) would
// eat most of the gain.
#define CK_PARALLEL_MIN_WORK (1 << 22)

static const ck_gemm_impl *active_impl(void) {
    switch (ck_active_isa()) {
#if defined(__x86_64__)
    case CK_ISA_AVX512: return &ck_gemm_impl_avx512;
    case CK_ISA_AVX2: return &ck_gemm_impl_avx2;
#endif
    default: return &ck_gemm_impl_generic;
    }
}

// MARK: - Per-thread packing buffers (kept between calls: GEMMs run back to back)

typedef struct { float *p; size_t cap; } ck_buf;
typedef struct { ck_buf a, b, t; } ck_scratch;

static _Thread_local ck_scratch *tls_scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p) {
    ck_scratch *s = p;
    free(s->a.p);
    free(s->b.p);
    free(s->t.p);
    free(s);
}
static void scratch_key_init(void) { pthread_key_create(&scratch_key, scratch_free); }

static ck_scratch *scratch(void) {
    ck_scratch *s = tls_scratch;
    if (s == NULL) {
        pthread_once(&scratch_once, scratch_key_init);
        s = CK_CALLOC(sizeof *s);
        pthread_setspecific(scratch_key, s);
        tls_scratch = s;
    }
    return s;
}

// 64-byte aligned, with slack for the vector packers' over-reads of padding.
static float *buf_get(ck_buf *b, size_t n) {
    if (b->cap < n) {
        free(b->p);
        b->p = CK_ALIGNED_ALLOC((n + 64) * sizeof(float));
        b->cap = n;
    }
    return b->p;
}

// MARK: - Blocked multiply

typedef struct {
    const ck_gemm_impl *im;
    int ta, tb;
    int64_t m, n, k;
    float alpha, beta;
    const float *a;
    int64_t lda;
    const float *b;
    int64_t ldb;
    float *c;
    int64_t ldc;
    const float *packed_b; // B already in panels (ck_packed_b): no packing of B at all
    int64_t packed_n;      // its padded column count
} ck_problem;

// Splits `total` into equal blocks of at most `max`, rounded up to `align` (so that a k of 300
// becomes 152 + 148, not 256 + 44).
static int64_t balanced_block(int64_t total, int64_t max, int64_t align) {
    max = max / align * align;
    if (max < align) max = align;
    if (total <= max) return (total + align - 1) / align * align; // the common small case: no division by a variable
    int64_t blocks = (total + max - 1) / max;
    int64_t bs = (total + blocks - 1) / blocks;
    bs = (bs + align - 1) / align * align;
    return bs > max ? max : bs;
}

// The k blocking of a product: gemm_block packs B in these blocks, and a pre-packed B
// (ck_sgemm_pack_b) must use the very same ones, so both ask here.
static int64_t k_block(const ck_gemm_impl *im, int64_t k) { return balanced_block(k, im->kc, 8); }

static void macro_kernel(const ck_gemm_impl *im, int64_t mc, int64_t nc, int64_t kc,
                         const float *pa, const float *pb, float *c, int64_t ldc, float alpha,
                         float beta) {
    const int MR = im->mr, NR = im->nr;
    ck_ukernel_fn kernel = im->kernel;
    for (int64_t jr = 0; jr < nc; jr += NR) {
        const int nr = nc - jr < NR ? (int)(nc - jr) : NR;
        const float *bp = pb + jr * kc;
        for (int64_t ir = 0; ir < mc; ir += MR) {
            const int mr = mc - ir < MR ? (int)(mc - ir) : MR;
            kernel(kc, pa + ir * kc, bp, c + ir * ldc + jr, ldc, alpha, beta, mr, nr);
        }
    }
}

// C[i0..<i1, j0..<j1] on the calling thread.
static void gemm_block(const ck_problem *P, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    const ck_gemm_impl *im = P->im;
    const int64_t m = i1 - i0, n = j1 - j0, k = P->k;
    if (m <= 0 || n <= 0) return;
    const int64_t kcb = k_block(im, k);
    const int64_t mcb = balanced_block(m, im->mc, im->mr);
    const int64_t ncb = balanced_block(n, im->nc, im->nr);
    const int64_t ncb_padded = (ncb + im->nr - 1) / im->nr * im->nr;
    ck_scratch *s = scratch();
    float *pa = buf_get(&s->a, (size_t)(mcb * kcb));
    float *pb = P->packed_b ? NULL : buf_get(&s->b, (size_t)(ncb_padded * kcb));

    for (int64_t jc = 0; jc < n; jc += ncb) {
        const int64_t nc = n - jc < ncb ? n - jc : ncb;
        const int64_t j = j0 + jc;
        for (int64_t pc = 0; pc < k; pc += kcb) {
            const int64_t kc = k - pc < kcb ? k - pc : kcb;
            const float *bp;
            if (P->packed_b) {
                // Block pc of the pre-packed B starts after pc rows of every panel; panel j/NR of
                // it after j/NR panels of kc×NR (j is a multiple of NR: see gemm_run's grid).
                bp = P->packed_b + pc * P->packed_n + j * kc;
            } else {
                const float *bsrc = P->tb ? P->b + j * P->ldb + pc : P->b + pc * P->ldb + j;
                im->pack_b(P->tb, nc, kc, bsrc, P->ldb, pb);
                bp = pb;
            }
            const float beta = pc == 0 ? P->beta : 1.0f;
            for (int64_t ic = 0; ic < m; ic += mcb) {
                const int64_t mc = m - ic < mcb ? m - ic : mcb;
                const int64_t i = i0 + ic;
                const float *asrc = P->ta ? P->a + pc * P->lda + i : P->a + i * P->lda + pc;
                im->pack_a(!P->ta, mc, kc, asrc, P->lda, pa);
                macro_kernel(im, mc, nc, kc, pa, bp, P->c + i * P->ldc + j, P->ldc, P->alpha, beta);
            }
        }
    }
}

// MARK: - Shapes that skip packing

static void scale_c(int64_t m, int64_t n, float beta, float *c, int64_t ldc) {
    if (beta == 1.0f) return;
    for (int64_t i = 0; i < m; i++) {
        float *cr = c + i * ldc;
        if (beta == 0.0f) memset(cr, 0, (size_t)n * sizeof(float));
        else for (int64_t j = 0; j < n; j++) cr[j] *= beta;
    }
}

// Returns a contiguous copy of v[i·stride] (or v itself when stride is 1).
static const float *contiguous(const float *v, int64_t stride, int64_t len, ck_buf *tmp) {
    if (stride == 1) return v;
    float *t = buf_get(tmp, (size_t)len);
    for (int64_t i = 0; i < len; i++) t[i] = v[i * stride];
    return t;
}

// m == 1 or n == 1: one dot product or axpy per output, reading each operand once, instead of
// packing a whole operand to use 1/MR or 1/NR of the micro-kernel.
static void gemv(const ck_problem *P) {
    ck_scratch *s = scratch();
    const int64_t m = P->m, n = P->n, k = P->k;
    const int64_t len = m == 1 ? n : m;            // outputs
    const int64_t cstride = m == 1 ? 1 : P->ldc;   // between outputs
    float *y = buf_get(&s->t, (size_t)len);
    if (m == 1 && n == 1) {
        const float *x = contiguous(P->a, P->ta ? P->lda : 1, k, &s->a); // op(A) row 0
        const float *v = contiguous(P->b, P->tb ? 1 : P->ldb, k, &s->b); // op(B) column 0
        y[0] = ck_dot(x, v, k);
    } else if (m == 1) {
        const float *x = contiguous(P->a, P->ta ? P->lda : 1, k, &s->a); // op(A) row 0
        if (P->tb) {
            for (int64_t j = 0; j < n; j++) y[j] = ck_dot(x, P->b + j * P->ldb, k);
        } else {
            memset(y, 0, (size_t)n * sizeof(float));
            for (int64_t p = 0; p < k; p++) ck_axpy(x[p], P->b + p * P->ldb, y, n);
        }
    } else {
        const float *x = contiguous(P->b, P->tb ? 1 : P->ldb, k, &s->a); // op(B) column 0
        if (!P->ta) {
            for (int64_t i = 0; i < m; i++) y[i] = ck_dot(P->a + i * P->lda, x, k);
        } else {
            memset(y, 0, (size_t)m * sizeof(float));
            for (int64_t p = 0; p < k; p++) ck_axpy(x[p], P->a + p * P->lda, y, m);
        }
    }
    for (int64_t i = 0; i < len; i++) {
        float *ci = P->c + i * cstride;
        *ci = P->beta == 0.0f ? P->alpha * y[i] : P->alpha * y[i] + P->beta * *ci;
    }
}

// MARK: - Entry points

typedef struct {
    const ck_problem *P;
    int64_t tn, mchunk, nchunk;
} ck_grid;

static void grid_task(void *ctx, int64_t t) {
    const ck_grid *g = ctx;
    const int64_t bi = t / g->tn, bj = t % g->tn;
    const int64_t i0 = bi * g->mchunk, j0 = bj * g->nchunk;
    const int64_t i1 = i0 + g->mchunk < g->P->m ? i0 + g->mchunk : g->P->m;
    const int64_t j1 = j0 + g->nchunk < g->P->n ? j0 + g->nchunk : g->P->n;
    gemm_block(g->P, i0, i1, j0, j1);
}

static void gemm_run(const ck_problem *P, int threads) {
    const int64_t m = P->m, n = P->n, k = P->k;
    if (m <= 0 || n <= 0) return;
    if (k == 0 || P->alpha == 0.0f) { scale_c(m, n, P->beta, P->c, P->ldc); return; }
    if ((m == 1 || n == 1) && !P->packed_b) { gemv(P); return; }
    // A pre-packed B is a weight in a chain of products (a transformer layer), where the
    // workers are still awake from the previous one: a quarter of the threshold pays there.
    const double min_work = P->packed_b ? CK_PARALLEL_MIN_WORK / 4 : CK_PARALLEL_MIN_WORK;
    if (threads > 1 && (double)m * (double)n * (double)k < min_work) threads = 1;
    const int MR = P->im->mr, NR = P->im->nr;
    // A grid tm×tn of blocks, one per thread: thread rows re-pack B, thread columns re-pack A,
    // so minimise tn·m + tm·n, keeping at least two micro-tiles per block along each split
    // dimension (an unsplit one may be short: a few rows times a wide weight splits by columns).
    int64_t best_tm = 1, best_tn = 1;
    for (int t = threads; t > 1 && best_tm * best_tn == 1; t--) {
        double best = 0;
        for (int tm = 1; tm <= t; tm++) {
            if (t % tm != 0) continue;
            int tn = t / tm;
            if ((tm > 1 && m < (int64_t)tm * 2 * MR) || (tn > 1 && n < (int64_t)tn * 2 * NR)) continue;
            double cost = (double)tn * (double)m + (double)tm * (double)n;
            if (best_tm * best_tn == 1 || cost < best) { best = cost; best_tm = tm; best_tn = tn; }
        }
    }
    if (best_tm * best_tn == 1) { gemm_block(P, 0, m, 0, n); return; }
    ck_grid g = { .P = P, .tn = best_tn };
    g.mchunk = ((m + best_tm - 1) / best_tm + MR - 1) / MR * MR;
    g.nchunk = ((n + best_tn - 1) / best_tn + NR - 1) / NR * NR;
    ck_parallel_for(best_tm * best_tn, grid_task, &g);
}

void ck_sgemm(int transA, int transB, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb,
              float beta, float *c, int64_t ldc) {
    ck_problem P = { active_impl(), transA != 0, transB != 0, m, n, k, alpha, beta, a, lda, b, ldb, c, ldc, NULL, 0 };
    gemm_run(&P, ck_get_threads());
}

// MARK: - Pre-packed B

// B packed once in the micro-kernel's panels, block by block along k exactly as gemm_block
// would pack it, so that a product with it packs only A. Weight matrices of inference are the
// case: packing a transposed 384×1536 matrix costs more than multiplying it by a few rows.
struct ck_packed_b {
    const ck_gemm_impl *im; // the layout belongs to this implementation
    int64_t k, n, padded_n;
    float *data;
};

ck_packed_b *ck_sgemm_pack_b(int transB, int64_t k, int64_t n, const float *b, int64_t ldb) {
    if (k <= 0 || n <= 0) return NULL;
    ck_packed_b *p = calloc(1, sizeof *p);
    if (p == NULL) return NULL;
    p->im = active_impl();
    p->k = k;
    p->n = n;
    p->padded_n = (n + p->im->nr - 1) / p->im->nr * p->im->nr;
    // Slack as buf_get keeps: the vector packers may over-read padding.
    size_t bytes = (((size_t)(p->padded_n * k) + 64) * sizeof(float) + 63) & ~(size_t)63;
    p->data = aligned_alloc(64, bytes);
    if (p->data == NULL) { free(p); return NULL; }
    const int64_t kcb = k_block(p->im, k);
    for (int64_t pc = 0; pc < k; pc += kcb) {
        const int64_t kc = k - pc < kcb ? k - pc : kcb;
        const float *src = transB ? b + pc : b + pc * ldb;
        p->im->pack_b(transB != 0, n, kc, src, ldb, p->data + pc * p->padded_n);
    }
    return p;
}

void ck_sgemm_packed_b_free(ck_packed_b *p) {
    if (p == NULL) return;
    free(p->data);
    free(p);
}

int64_t ck_sgemm_packed_b_bytes(const ck_packed_b *p) {
    return p == NULL ? 0 : p->padded_n * p->k * (int64_t)sizeof(float);
}

void ck_sgemm_with_packed_b(int transA, int64_t m, float alpha, const float *a, int64_t lda,
                            const ck_packed_b *b, float beta, float *c, int64_t ldc) {
    ck_problem P = { b->im, transA != 0, 0, m, b->n, b->k, alpha, beta, a, lda, NULL, 0, c, ldc,
                     b->data, b->padded_n };
    gemm_run(&P, ck_get_threads());
}

typedef struct {
    ck_problem P;
    int64_t sa, sb, sc;
} ck_batch;

static void batch_task(void *ctx, int64_t i) {
    const ck_batch *bt = ctx;
    ck_problem P = bt->P;
    P.a += i * bt->sa;
    P.b += i * bt->sb;
    P.c += i * bt->sc;
    gemm_run(&P, 1);
}

void ck_sgemm_batched(int64_t batch, int transA, int transB, int64_t m, int64_t n, int64_t k,
                      float alpha, const float *a, int64_t lda, int64_t strideA,
                      const float *b, int64_t ldb, int64_t strideB,
                      float beta, float *c, int64_t ldc, int64_t strideC) {
    if (batch <= 0 || m <= 0 || n <= 0) return;
    ck_batch bt = { { active_impl(), transA != 0, transB != 0, m, n, k, alpha, beta, a, lda, b, ldb, c, ldc, NULL, 0 },
                    strideA, strideB, strideC };
    const int threads = ck_get_threads();
    const double work = (double)m * (double)n * (double)k;
    // Whole GEMMs per thread when there are enough of them (no partition overhead, dynamic
    // balance); otherwise each GEMM in turn uses every thread.
    if (threads > 1 && work * (double)batch >= CK_PARALLEL_MIN_WORK
        && (batch >= 2 * threads || work < CK_PARALLEL_MIN_WORK)) {
        ck_parallel_for(batch, batch_task, &bt);
        return;
    }
    for (int64_t i = 0; i < batch; i++) {
        ck_problem P = bt.P;
        P.a += i * strideA;
        P.b += i * strideB;
        P.c += i * strideC;
        gemm_run(&P, threads);
    }
}
