// gzip decompression through the system's zlib (libz.so.1), loaded with dlopen on first use like
// the image codecs: nothing is needed to build, and a missing library is a clear run-time error.
#ifndef SIAMESE_GZIP_H
#define SIAMESE_GZIP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Outcome of a decompression.
enum siamese_gzip_status {
    SIAMESE_GZIP_OK = 0,
    /// zlib could not be loaded: `message` names the package.
    SIAMESE_GZIP_NO_LIBRARY = 1,
    /// Not a valid gzip stream (corrupt, truncated): `message` holds zlib's reason.
    SIAMESE_GZIP_INVALID = 2,
    /// The output would exceed `max_output` bytes: decompression stopped there.
    SIAMESE_GZIP_TOO_LARGE = 3,
    /// Out of memory.
    SIAMESE_GZIP_NO_MEMORY = 4,
};

/// Decompresses one gzip member held in memory. On success `*output` (free with free()) holds
/// `*output_size` bytes; bytes after the first member are an error (concatenated members are not
/// read). `message` (NUL-terminated) says why a call failed.
int siamese_gunzip(const void *data, size_t size, size_t max_output, uint8_t **output, size_t *output_size,
                   char *message, size_t message_size);

#ifdef __cplusplus
}
#endif

#endif
