// AVX-512 versions of the batch-norm and ReLU loops (the convolution tile and the pooling use the
// AVX2 code on these CPUs).
#define CK_CONV_INTERNAL
#include "ckernels_conv.h"

#define CK_CONV_BODY
#define CK_SUFFIX avx512
#if defined(__x86_64__) && defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx2,fma"))), apply_to = function)
#include "conv_body.c"
#pragma clang attribute pop
#else
#include "conv_body.c"
#endif
