// Vector-index kernels for AVX2 + FMA (8 lanes); see index_simd.h.
#if defined(__x86_64__)
#include <immintrin.h>
#define CK_IX_TARGET __attribute__((target("avx2,fma")))
#define CK_IX_VW 8
#define CK_IX_SUFFIX avx2
#define CK_IX_MOVEMASK(m) ((uint32_t)_mm256_movemask_ps((__m256)(m)))
#include "index_simd.h"
#endif
