// PNG and JPEG decoders over the system libraries, loaded with dlopen (see image_codecs.h).
#include "image_codecs.h"
#include "codecs_abi.h"

#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_message(siamese_decoded_image *out, const char *format, ...) {
    va_list args;
    va_start(args, format);
    vsnprintf(out->message, sizeof out->message, format, args);
    va_end(args);
}

static void reset(siamese_decoded_image *out) {
    out->width = out->height = out->channels = 0;
    out->pixels = NULL;
    out->message[0] = 0;
}

/// Opens the first library that loads: the path in `override_variable` when it is set (for a
/// library outside the loader's path), else each name in turn. The last dlerror is kept.
static void *open_library(const char *override_variable, const char *const *names, char *why, size_t why_size) {
    const char *override = getenv(override_variable);
    const char *only[2] = {override, NULL};  // lives as long as the loop below
    if (override && *override) names = only;
    for (; *names; names++) {
        void *handle = dlopen(*names, RTLD_NOW | RTLD_LOCAL);
        if (handle) return handle;
        const char *e = dlerror();
        snprintf(why, why_size, "%s", e ? e : *names);
    }
    return NULL;
}

// MARK: - libpng

static struct {
    pthread_once_t once;
    int ok;
    char why[256];
    sm_png_begin_read_from_memory begin_read_from_memory;
    sm_png_finish_read finish_read;
    sm_png_free free_image;
} png = {PTHREAD_ONCE_INIT, 0, "", NULL, NULL, NULL};

static void load_png(void) {
    static const char *const names[] = {"libpng16.so.16", "libpng16.16.dylib", NULL};
    void *h = open_library("SIAMESE_LIBPNG", names, png.why, sizeof png.why);
    if (!h) return;
    png.begin_read_from_memory = (sm_png_begin_read_from_memory)dlsym(h, "png_image_begin_read_from_memory");
    png.finish_read = (sm_png_finish_read)dlsym(h, "png_image_finish_read");
    png.free_image = (sm_png_free)dlsym(h, "png_image_free");
    if (!png.begin_read_from_memory || !png.finish_read || !png.free_image) {
        snprintf(png.why, sizeof png.why, "the library lacks libpng 1.6's simplified read API (png_image_begin_read_from_memory)");
        return;
    }
    png.ok = 1;
}

int siamese_decode_png(const void *data, size_t size, uint64_t max_pixels, siamese_decoded_image *out) {
    reset(out);
    pthread_once(&png.once, load_png);
    if (!png.ok) {
        set_message(out, "PNG support needs libpng 1.6 at run time (Debian/Ubuntu: apt-get install libpng16-16; "
                         "or set SIAMESE_LIBPNG to the library's path): %s", png.why);
        return SIAMESE_IMAGE_NO_LIBRARY;
    }
    sm_png_image image;
    memset(&image, 0, sizeof image);
    image.version = SM_PNG_IMAGE_VERSION;
    if (!png.begin_read_from_memory(&image, data, size)) {
        set_message(out, "not a valid PNG: %s", image.message);
        png.free_image(&image);
        return SIAMESE_IMAGE_INVALID;
    }
    uint64_t pixels = (uint64_t)image.width * image.height;  // each side < 2^32: no overflow
    if (image.width == 0 || image.height == 0 || image.width > INT32_MAX / 4 || image.height > INT32_MAX / 4
        || pixels > max_pixels) {
        set_message(out, "image is %u×%u = %llu pixels, over the limit of %llu pixels", image.width, image.height,
                    (unsigned long long)pixels, (unsigned long long)max_pixels);
        png.free_image(&image);
        return SIAMESE_IMAGE_TOO_LARGE;
    }
    int color = (image.format & SM_PNG_FORMAT_FLAG_COLOR) != 0;
    int alpha = (image.format & SM_PNG_FORMAT_FLAG_ALPHA) != 0;
    // 8-bit output, with the file's alpha kept in the buffer so that libpng stores the colour
    // values as they are (no compositing); it is dropped below. 16-bit data without gamma
    // information is sRGB like 8-bit data, not linear (libpng's default would re-encode it).
    image.format = (color ? SM_PNG_FORMAT_FLAG_COLOR : 0) | (alpha ? SM_PNG_FORMAT_FLAG_ALPHA : 0);
    image.flags |= SM_PNG_IMAGE_FLAG_16BIT_sRGB;
    int stored = (color ? 3 : 1) + alpha;
    size_t bytes = (size_t)pixels * (size_t)stored;
    uint8_t *buffer = malloc(bytes ? bytes : 1);
    if (!buffer) {
        set_message(out, "out of memory for a %u×%u image", image.width, image.height);
        png.free_image(&image);
        return SIAMESE_IMAGE_NO_MEMORY;
    }
    if (!png.finish_read(&image, NULL, buffer, (int32_t)(image.width * (uint32_t)stored), NULL)) {
        set_message(out, "not a valid PNG: %s", image.message);
        free(buffer);
        png.free_image(&image);
        return SIAMESE_IMAGE_INVALID;
    }
    png.free_image(&image);  // finish_read already released it; harmless and keeps the contract simple
    int channels = color ? 3 : 1;
    if (alpha) {
        // In place: the destination index never passes the source index.
        for (size_t p = 0; p < (size_t)pixels; p++)
            for (int c = 0; c < channels; c++) buffer[p * channels + c] = buffer[p * stored + c];
    }
    out->width = (int32_t)image.width;
    out->height = (int32_t)image.height;
    out->channels = channels;
    out->pixels = buffer;
    return SIAMESE_IMAGE_OK;
}

// MARK: - libjpeg

static struct {
    pthread_once_t once;
    int ok;
    char why[256];
    sm_jpeg_std_error std_error;
    sm_jpeg_CreateDecompress create_decompress;
    sm_jpeg_mem_src mem_src;
    sm_jpeg_read_header read_header;
    sm_jpeg_start_decompress start_decompress;
    sm_jpeg_read_scanlines read_scanlines;
    sm_jpeg_finish_decompress finish_decompress;
    sm_jpeg_destroy_decompress destroy_decompress;
} jpeg = {PTHREAD_ONCE_INIT, 0, "", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};

static void load_jpeg(void) {
    static const char *const names[] = {"libjpeg.so.62", "libjpeg.62.dylib", NULL};
    void *h = open_library("SIAMESE_LIBJPEG", names, jpeg.why, sizeof jpeg.why);
    if (!h) return;
#define SM_LOAD(field, symbol)                                                                 \
    jpeg.field = (__typeof__(jpeg.field))dlsym(h, symbol);                                     \
    if (!jpeg.field) {                                                                         \
        snprintf(jpeg.why, sizeof jpeg.why, "the library lacks %s (libjpeg 6.2 ABI with in-memory source expected)", symbol); \
        return;                                                                                \
    }
    SM_LOAD(std_error, "jpeg_std_error")
    SM_LOAD(create_decompress, "jpeg_CreateDecompress")
    SM_LOAD(mem_src, "jpeg_mem_src")
    SM_LOAD(read_header, "jpeg_read_header")
    SM_LOAD(start_decompress, "jpeg_start_decompress")
    SM_LOAD(read_scanlines, "jpeg_read_scanlines")
    SM_LOAD(finish_decompress, "jpeg_finish_decompress")
    SM_LOAD(destroy_decompress, "jpeg_destroy_decompress")
#undef SM_LOAD
    jpeg.ok = 1;
}

/// The error manager with the jump back into siamese_decode_jpeg.
typedef struct {
    sm_jpeg_error_mgr pub;  // first: libjpeg sees a pointer to this
    jmp_buf jump;
    char message[SM_JMSG_LENGTH_MAX];
} jpeg_error_context;

static void jpeg_fail(void *cinfo) {
    jpeg_error_context *e = (jpeg_error_context *)((sm_jpeg_decompress *)cinfo)->head.err;
    e->pub.format_message(cinfo, e->message);
    longjmp(e->jump, 1);
}

/// Warnings (level −1: corrupt or truncated data that libjpeg would paper over) fail the decode;
/// trace messages (level ≥ 0) are ignored. Nothing is ever printed.
static void jpeg_message(void *cinfo, int level) {
    if (level < 0) jpeg_fail(cinfo);
}

static void jpeg_output(void *cinfo) { (void)cinfo; }

int siamese_decode_jpeg(const void *data, size_t size, uint64_t max_pixels, siamese_decoded_image *out) {
    reset(out);
    pthread_once(&jpeg.once, load_jpeg);
    if (!jpeg.ok) {
        set_message(out, "JPEG support needs libjpeg 6.2 at run time (Debian/Ubuntu: apt-get install libjpeg62-turbo; "
                         "or set SIAMESE_LIBJPEG to the library's path): %s", jpeg.why);
        return SIAMESE_IMAGE_NO_LIBRARY;
    }
    if (size > (size_t)(unsigned long)-1) {
        set_message(out, "not a valid JPEG: too large for libjpeg");
        return SIAMESE_IMAGE_INVALID;
    }
    sm_jpeg_decompress cinfo;
    jpeg_error_context error;
    memset(&cinfo, 0, sizeof cinfo);
    memset(&error, 0, sizeof error);
    // Changed between setjmp and a longjmp back, so volatile (C11 7.13.2.1).
    uint8_t *volatile buffer = NULL;
    volatile int status = SIAMESE_IMAGE_INVALID;
    cinfo.head.err = jpeg.std_error(&error.pub);
    error.pub.error_exit = jpeg_fail;
    error.pub.emit_message = jpeg_message;
    error.pub.output_message = jpeg_output;
    if (setjmp(error.jump)) {
        set_message(out, "not a valid JPEG: %s", error.message);
        free(buffer);
        jpeg.destroy_decompress(&cinfo);
        return status;
    }
    jpeg.create_decompress(&cinfo, SM_JPEG_LIB_VERSION, SM_JPEG_DECOMPRESS_SIZE);
    jpeg.mem_src(&cinfo, (const unsigned char *)data, (unsigned long)size);
    if (jpeg.read_header(&cinfo, 1) != SM_JPEG_HEADER_OK) {
        snprintf(error.message, sizeof error.message, "no image in the data");
        longjmp(error.jump, 1);
    }
    uint64_t pixels = (uint64_t)cinfo.head.image_width * cinfo.head.image_height;
    if (pixels == 0) {
        snprintf(error.message, sizeof error.message, "the header declares an empty image");
        longjmp(error.jump, 1);
    }
    if (pixels > max_pixels) {
        set_message(out, "image is %u×%u = %llu pixels, over the limit of %llu pixels", cinfo.head.image_width,
                    cinfo.head.image_height, (unsigned long long)pixels, (unsigned long long)max_pixels);
        jpeg.destroy_decompress(&cinfo);
        return SIAMESE_IMAGE_TOO_LARGE;
    }
    int gray = cinfo.head.jpeg_color_space == SM_JCS_GRAYSCALE;
    cinfo.head.out_color_space = gray ? SM_JCS_GRAYSCALE : SM_JCS_RGB;
    jpeg.start_decompress(&cinfo);
    unsigned int width = cinfo.head.output_width, height = cinfo.head.output_height;
    int channels = cinfo.head.output_components;
    if (channels != (gray ? 1 : 3) || (uint64_t)width * height > max_pixels || width == 0 || height == 0) {
        snprintf(error.message, sizeof error.message, "unexpected output %u×%u×%d", width, height, channels);
        longjmp(error.jump, 1);
    }
    size_t row = (size_t)width * (size_t)channels;
    buffer = malloc(row * height);
    if (!buffer) {
        status = SIAMESE_IMAGE_NO_MEMORY;
        snprintf(error.message, sizeof error.message, "out of memory for a %u×%u image", width, height);
        longjmp(error.jump, 1);
    }
    unsigned int done = 0;
    while (done < height) {
        unsigned char *line = buffer + (size_t)done * row;
        unsigned int n = jpeg.read_scanlines(&cinfo, &line, 1);
        if (n == 0) {  // only a suspending source returns 0; the memory source never should
            snprintf(error.message, sizeof error.message, "decoding stopped at row %u of %u", done, height);
            longjmp(error.jump, 1);
        }
        done += n;
    }
    jpeg.finish_decompress(&cinfo);
    jpeg.destroy_decompress(&cinfo);
    out->width = (int32_t)width;
    out->height = (int32_t)height;
    out->channels = channels;
    out->pixels = buffer;
    return SIAMESE_IMAGE_OK;
}

void siamese_image_free(siamese_decoded_image *image) {
    if (!image) return;
    free(image->pixels);
    image->pixels = NULL;
}
