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

/// Instruction-set levels, in increasing order.
enum ck_isa { CK_ISA_GENERIC = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2 };

/// The best level this CPU supports (detected once).
int ck_detected_isa(void);
/// The level in use: the detected one unless lowered by ck_set_isa (or SIAMESE_ISA=generic|avx2|avx512).
int ck_active_isa(void);
/// Lowers (or restores) the level in use; a request above the detected level is clamped. Returns the level now in use.
int ck_set_isa(int isa);

#ifdef __cplusplus
}
#endif
#endif
