// Private to CKernels: what an instruction-set-specific GEMM implementation provides to the
// blocking driver in gemm.c.
#ifndef CK_GEMM_INTERNAL_H
#define CK_GEMM_INTERNAL_H

#include <stdint.h>

/// C[mr×nr] (row stride ldc) = alpha·Apanel·Bpanel + beta·C, where Apanel holds kc columns of
/// MR values and Bpanel kc rows of NR values (both packed and zero-padded, B 64-byte aligned).
/// mr ≤ MR and nr ≤ NR: edge tiles are stored with masks, so nothing outside them is touched.
/// beta == 0 must not read C.
typedef void (*ck_ukernel_fn)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                              float alpha, float beta, int mr, int nr);

/// Packs a block of `len` rows × kc of an operand into panels of W rows (MR for A, NR for B),
/// each panel kc groups of W values, zero-padding the last panel. Element (i, p) of the block is
/// src[p·ld + i] when `kcontig` is 0 and src[i·ld + p] when it is 1 (contiguous along k).
typedef void (*ck_pack_fn)(int kcontig, int64_t len, int64_t kc, const float *src, int64_t ld,
                           float *dst);

typedef struct {
    int mr, nr;
    int kc, mc, nc; // cache blocks: kc·nr floats in L1, mc·kc in L2, kc·nc in L3
    ck_ukernel_fn kernel;
    ck_pack_fn pack_a; // panels of mr
    ck_pack_fn pack_b; // panels of nr
} ck_gemm_impl;

extern const ck_gemm_impl ck_gemm_impl_generic;
#if defined(__x86_64__)
extern const ck_gemm_impl ck_gemm_impl_avx2;
extern const ck_gemm_impl ck_gemm_impl_avx512;
#endif

#endif
