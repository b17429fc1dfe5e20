// The kernels' checked allocations (see ck_alloc.h).
#include "ck_alloc.h"

#include <stdio.h>
#include <stdlib.h>

static void out_of_memory(size_t bytes, const char *file, int line) {
    fprintf(stderr, "CKernels: out of memory allocating %zu bytes at %s:%d\n", bytes, file, line);
    abort();
}

void *ck_aligned_alloc_or_die(size_t bytes, const char *file, int line) {
    const size_t rounded = ((bytes > 0 ? bytes : 1) + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, rounded);
    if (p == NULL) out_of_memory(rounded, file, line);
    return p;
}

void *ck_calloc_or_die(size_t bytes, const char *file, int line) {
    void *p = calloc(1, bytes > 0 ? bytes : 1);
    if (p == NULL) out_of_memory(bytes, file, line);
    return p;
}
