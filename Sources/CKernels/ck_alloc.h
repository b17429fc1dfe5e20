// Private to CKernels: the one allocation check of the kernels. A kernel has no error channel and
// cannot go on without its scratch buffer, so a failed allocation names the file, the line and
// the size on stderr, then aborts (a bare abort() or a NULL dereference said nothing).
#ifndef CK_ALLOC_H
#define CK_ALLOC_H

#include <stddef.h>

// 64-byte aligned memory of at least `bytes` bytes (rounded up to a multiple of 64); free() it.
void *ck_aligned_alloc_or_die(size_t bytes, const char *file, int line);
// Zeroed memory of `bytes` bytes; free() it.
void *ck_calloc_or_die(size_t bytes, const char *file, int line);

#define CK_ALIGNED_ALLOC(bytes) ck_aligned_alloc_or_die((bytes), __FILE__, __LINE__)
#define CK_CALLOC(bytes) ck_calloc_or_die((bytes), __FILE__, __LINE__)

#endif
