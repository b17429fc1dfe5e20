// gzip decompression over the system zlib, loaded with dlopen (see siamese_gzip.h). The z_stream
// layout is zlib's frozen ABI (unchanged since 1.0); abi_check.c checks it against zlib.h where
// that header is installed.
#include "siamese_gzip.h"
#include "codecs_abi.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*sm_inflate_init2)(sm_z_stream *, int, const char *, int);
typedef int (*sm_inflate)(sm_z_stream *, int);
typedef int (*sm_inflate_end)(sm_z_stream *);

static struct {
    pthread_once_t once;
    int ok;
    char why[256];
    sm_inflate_init2 init;
    sm_inflate inflate;
    sm_inflate_end end;
} zlib = {PTHREAD_ONCE_INIT, 0, "", NULL, NULL, NULL};

static void load_zlib(void) {
    const char *override = getenv("SIAMESE_LIBZ");
    const char *names[] = {override && *override ? override : "libz.so.1", override && *override ? NULL : "libz.1.dylib", NULL};
    void *h = NULL;
    for (int i = 0; names[i] && !h; i++) {
        h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) { const char *e = dlerror(); snprintf(zlib.why, sizeof zlib.why, "%s", e ? e : names[i]); }
    }
    if (!h) return;
    zlib.init = (sm_inflate_init2)dlsym(h, "inflateInit2_");
    zlib.inflate = (sm_inflate)dlsym(h, "inflate");
    zlib.end = (sm_inflate_end)dlsym(h, "inflateEnd");
    if (!zlib.init || !zlib.inflate || !zlib.end) {
        snprintf(zlib.why, sizeof zlib.why, "the library lacks inflateInit2_/inflate/inflateEnd");
        return;
    }
    zlib.ok = 1;
}

int siamese_gunzip(const void *data, size_t size, size_t max_output, uint8_t **output, size_t *output_size,
                   char *message, size_t message_size) {
    *output = NULL;
    *output_size = 0;
    if (message_size) message[0] = 0;
    pthread_once(&zlib.once, load_zlib);
    if (!zlib.ok) {
        snprintf(message, message_size, "gzip support needs zlib at run time (Debian/Ubuntu: apt-get install zlib1g; "
                                        "or set SIAMESE_LIBZ to the library's path): %s", zlib.why);
        return SIAMESE_GZIP_NO_LIBRARY;
    }
    sm_z_stream s;
    memset(&s, 0, sizeof s);
    // 15 + 16: a gzip header and trailer (CRC and length checked by zlib), not a raw zlib stream.
    if (zlib.init(&s, 15 + 16, "1.2.13", (int)sizeof s) != SM_Z_OK) {
        snprintf(message, message_size, "zlib could not start (%s)", s.msg ? s.msg : "inflateInit2 failed");
        return SIAMESE_GZIP_NO_MEMORY;
    }
    size_t capacity = size < 1024 ? 4096 : size * 4, used = 0;
    if (capacity > max_output + 1) capacity = max_output + 1;
    uint8_t *buffer = malloc(capacity);
    if (!buffer) { zlib.end(&s); return SIAMESE_GZIP_NO_MEMORY; }
    const uint8_t *in = data;
    size_t consumed = 0;
    int status = SM_Z_OK;
    while (status != SM_Z_STREAM_END) {
        if (used == capacity) {
            if (capacity > max_output) {
                free(buffer); zlib.end(&s);
                snprintf(message, message_size, "decompresses to more than %zu bytes", max_output);
                return SIAMESE_GZIP_TOO_LARGE;
            }
            size_t grown = capacity * 2 > max_output + 1 ? max_output + 1 : capacity * 2;
            uint8_t *bigger = realloc(buffer, grown);
            if (!bigger) { free(buffer); zlib.end(&s); return SIAMESE_GZIP_NO_MEMORY; }
            buffer = bigger;
            capacity = grown;
        }
        // avail_in / avail_out are 32-bit: feed at most 1 GiB at a time.
        size_t chunk_in = size - consumed > (1u << 30) ? (1u << 30) : size - consumed;
        size_t chunk_out = capacity - used > (1u << 30) ? (1u << 30) : capacity - used;
        s.next_in = in + consumed; s.avail_in = (unsigned)chunk_in;
        s.next_out = buffer + used; s.avail_out = (unsigned)chunk_out;
        status = zlib.inflate(&s, 0);
        consumed += chunk_in - s.avail_in;
        used += chunk_out - s.avail_out;
        if (status == SM_Z_BUF_ERROR && consumed == size && s.avail_out > 0) {
            free(buffer); zlib.end(&s);
            snprintf(message, message_size, "truncated: the gzip stream ends after %zu compressed bytes", size);
            return SIAMESE_GZIP_INVALID;
        }
        if (status != SM_Z_OK && status != SM_Z_STREAM_END && status != SM_Z_BUF_ERROR) {
            snprintf(message, message_size, "not a valid gzip stream at compressed byte %zu (%s)", consumed,
                     s.msg ? s.msg : "zlib error");
            free(buffer); zlib.end(&s);
            return status == SM_Z_MEM_ERROR ? SIAMESE_GZIP_NO_MEMORY : SIAMESE_GZIP_INVALID;
        }
    }
    zlib.end(&s);
    if (used > max_output) {
        free(buffer);
        snprintf(message, message_size, "decompresses to more than %zu bytes", max_output);
        return SIAMESE_GZIP_TOO_LARGE;
    }
    if (consumed != size) {
        free(buffer);
        snprintf(message, message_size, "%zu bytes follow the gzip stream (concatenated members are not read)", size - consumed);
        return SIAMESE_GZIP_INVALID;
    }
    *output = buffer;
    *output_size = used;
    return SIAMESE_GZIP_OK;
}
