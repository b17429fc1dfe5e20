// Vector-index kernels for AVX-512 (16 lanes); see index_simd.h.
#if defined(__x86_64__)
#include <immintrin.h>
#define CK_IX_TARGET __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
#define CK_IX_VW 16
#define CK_IX_SUFFIX avx512
#define CK_IX_MOVEMASK(m) ((uint32_t)_mm512_movepi32_mask((__m512i)(m)))
#include "index_simd.h"
#endif
