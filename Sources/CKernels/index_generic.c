// Portable vector-index kernels: 4 lanes (SSE2 on baseline x86-64, NEON on arm64); see index_simd.h.
#include <stdint.h>
#define CK_IX_TARGET
#define CK_IX_VW 4
#define CK_IX_SUFFIX generic
#define CK_IX_MOVEMASK(m) ((uint32_t)(((m)[0] ? 1u : 0u) | ((m)[1] ? 2u : 0u) | ((m)[2] ? 4u : 0u) | ((m)[3] ? 8u : 0u)))
#include "index_simd.h"
