// CKernels: the hot loops of Siamese, in C so that they can use AVX2/FMA and AVX-512 through
// per-function target attributes, chosen at run time (no special compiler flags needed).
// All matrices are row-major Float32.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - Instruction set

/// Instruction-set levels, in increasing order.
enum ck_isa { CK_ISA_GENERIC = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2 };

/// The best level this CPU supports (detected once).
int ck_detected_isa(void);
/// The level in use: the detected one unless lowered by ck_set_isa (or SIAMESE_ISA=generic|avx2|avx512).
int ck_active_isa(void);
/// Lowers (or restores) the level in use; a request above the detected level is clamped. Returns the level now in use.
int ck_set_isa(int isa);
/// "generic", "avx2" or "avx512".
const char *ck_isa_name(int isa);
/// The level for a name above, or -1 for an unknown name.
int ck_isa_from_name(const char *name);

// MARK: - Threads

/// Threads the kernels use (>= 1). Defaults to SIAMESE_THREADS when it is a positive integer,
/// else to the CPUs this process may run on.
int ck_get_threads(void);
/// Sets the thread count (clamped to 1...256). Safe to call at any time from any thread.
void ck_set_threads(int n);

typedef void (*ck_task_fn)(void *ctx, int64_t index);
/// Calls fn(ctx, i) for every i in 0..<count on up to ck_get_threads() threads (the caller
/// included) and returns when all calls have returned. Indices are handed out dynamically.
/// Runs inline when count == 1, when one thread is configured, when called from inside a task,
/// or while another caller's parallel loop holds the pool.
void ck_parallel_for(int64_t count, ck_task_fn fn, void *ctx);

// MARK: - GEMM

/// C[m×n] = alpha·op(A)·op(B) + beta·C, row-major. op(A) is m×k: A is stored k×m when transA
/// (lda >= m), else m×k (lda >= k); likewise op(B) is k×n. beta == 0 never reads C.
void ck_sgemm(int transA, int transB, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb,
              float beta, float *c, int64_t ldc);

/// `batch` independent GEMMs; matrix i starts at a + i·strideA, b + i·strideB, c + i·strideC
/// (a stride of 0 broadcasts that operand; strideC must separate the outputs).
void ck_sgemm_batched(int64_t batch, int transA, int transB, int64_t m, int64_t n, int64_t k,
                      float alpha, const float *a, int64_t lda, int64_t strideA,
                      const float *b, int64_t ldb, int64_t strideB,
                      float beta, float *c, int64_t ldc, int64_t strideC);

/// B (op(B) is k×n) packed once into the layout of the GEMM implementation in use, for many
/// products with it: weight matrices at inference. Opaque; NULL when k or n is not positive or
/// memory runs out. The source may be freed afterwards.
typedef struct ck_packed_b ck_packed_b;
ck_packed_b *ck_sgemm_pack_b(int transB, int64_t k, int64_t n, const float *b, int64_t ldb);
void ck_sgemm_packed_b_free(ck_packed_b *p);
/// The bytes its panels take.
int64_t ck_sgemm_packed_b_bytes(const ck_packed_b *p);
/// C[m×n] = alpha·op(A)·B + beta·C with B pre-packed (same semantics as ck_sgemm). Runs the
/// implementation B was packed for, even if ck_set_isa changed the level since.
void ck_sgemm_with_packed_b(int transA, int64_t m, float alpha, const float *a, int64_t lda,
                            const ck_packed_b *b, float beta, float *c, int64_t ldc);

// MARK: - Vector math (y may alias x)

void ck_vexp(const float *x, float *y, int64_t n);
void ck_vtanh(const float *x, float *y, int64_t n);
void ck_verf(const float *x, float *y, int64_t n);
void ck_vsigmoid(const float *x, float *y, int64_t n);
void ck_vgelu_erf(const float *x, float *y, int64_t n);
void ck_vgelu_tanh(const float *x, float *y, int64_t n);
/// Row-wise softmax of a rows×cols contiguous matrix. A row whose maximum is -Inf (all -Inf)
/// gives all zeros; a row holding NaN or +Inf gives NaN.
void ck_softmax_rows(const float *x, float *y, int64_t rows, int64_t cols);
/// Row-wise log-softmax. A row whose maximum is -Inf gives all -Inf; NaN or +Inf gives NaN.
void ck_log_softmax_rows(const float *x, float *y, int64_t rows, int64_t cols);
/// 1 when no element is NaN or ±Inf, else 0.
int ck_all_finite(const float *x, int64_t n);
float ck_dot(const float *x, const float *y, int64_t n);
/// y += a·x
void ck_axpy(float a, const float *x, float *y, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
