// Portable vector math: 4 lanes, SSE2 on baseline x86-64, NEON on arm64.
#define CK_TARGET
#define CK_VW 4
#define CK_SUFFIX generic
#include "vmath_impl.h"
