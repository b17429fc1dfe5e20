// Vector math for AVX-512 (16 lanes).
#if defined(__x86_64__)
#define CK_TARGET __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")))
#define CK_VW 16
#define CK_SUFFIX avx512
#include "vmath_impl.h"
#endif
