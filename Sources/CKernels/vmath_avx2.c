// Vector math for AVX2 + FMA (8 lanes).
#if defined(__x86_64__)
#define CK_TARGET __attribute__((target("avx2,fma")))
#define CK_VW 8
#define CK_SUFFIX avx2
#include "vmath_impl.h"
#endif
