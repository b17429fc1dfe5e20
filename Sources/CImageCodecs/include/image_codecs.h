// PNG and JPEG decoding through the system's libpng 1.6 and libjpeg 6.2 (libjpeg-turbo), loaded
// with dlopen on first use. Nothing here needs their headers or libraries at build or link time:
// the package builds on a machine with only a Swift toolchain, and a missing library is a clear
// run-time error that names the Debian package to install. The few ABI pieces used are declared
// in codecs_abi.h and checked against the real headers by abi_check.c wherever those are present.
#ifndef SIAMESE_IMAGE_CODECS_H
#define SIAMESE_IMAGE_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Outcome of a decode.
enum siamese_image_status {
    SIAMESE_IMAGE_OK = 0,
    /// The system library could not be loaded (or lacks a function): `message` names the package.
    SIAMESE_IMAGE_NO_LIBRARY = 1,
    /// The bytes are not a valid image of the format: `message` holds the library's reason.
    SIAMESE_IMAGE_INVALID = 2,
    /// The header declares more pixels than allowed: nothing was allocated for the raster.
    SIAMESE_IMAGE_TOO_LARGE = 3,
    /// Out of memory for the raster.
    SIAMESE_IMAGE_NO_MEMORY = 4,
};

/// A decoded image: 8-bit samples, interleaved (RGBRGB… or one gray byte per pixel), top row first.
typedef struct {
    int32_t width;
    int32_t height;
    /// 1 (grayscale) or 3 (RGB). Alpha is dropped (see siamese_decode_png).
    int32_t channels;
    /// width × height × channels bytes, owned by the caller after a successful decode: release
    /// with siamese_image_free. NULL after a failure.
    uint8_t *pixels;
    /// Why a decode failed (NUL-terminated; empty on success).
    char message[320];
} siamese_decoded_image;

/// Decodes a PNG held in memory with libpng's simplified API. Grayscale files (with or without
/// alpha) give 1 channel, colour and palette files 3. Alpha is dropped: the stored colour values
/// are kept as they are, as Pillow's convert("RGB") does. 16-bit files are scaled to 8 bits and,
/// without a gAMA/sRGB chunk, taken as sRGB-encoded like 8-bit ones (no gamma change). A file
/// that declares more than `max_pixels` pixels is refused before the raster is allocated.
int siamese_decode_png(const void *data, size_t size, uint64_t max_pixels, siamese_decoded_image *out);

/// Decodes a JPEG held in memory with libjpeg's classic API (errors caught with setjmp/longjmp,
/// so a corrupt file is an error, never an exit). Grayscale JPEGs give 1 channel, others 3 (RGB).
/// Corrupt-data warnings (a truncated file among them) are errors too: libjpeg would otherwise
/// fill the missing part with gray and return an image nobody asked for. Images over
/// `max_pixels` are refused after the header, before any decoding buffer is allocated.
int siamese_decode_jpeg(const void *data, size_t size, uint64_t max_pixels, siamese_decoded_image *out);

/// Frees the raster of a decoded image (safe on a failed or already freed one).
void siamese_image_free(siamese_decoded_image *image);

#ifdef __cplusplus
}
#endif

#endif
