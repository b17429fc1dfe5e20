// Compile-time proof that codecs_abi.h matches the real libpng 1.6 and libjpeg 6.2 headers, on
// any machine that has them (the -dev packages). Without them this file compiles to nothing and
// the declarations stand on the libraries' frozen ABIs alone.
#include "codecs_abi.h"

#include <stddef.h>
#include <stdio.h>

#if defined(__has_include)
#if __has_include(<png.h>)
#include <png.h>
#if PNG_LIBPNG_VER_SONUM == 16
_Static_assert(sizeof(png_image) == sizeof(sm_png_image), "png_image size");
_Static_assert(offsetof(png_image, version) == offsetof(sm_png_image, version), "png_image.version");
_Static_assert(offsetof(png_image, width) == offsetof(sm_png_image, width), "png_image.width");
_Static_assert(offsetof(png_image, height) == offsetof(sm_png_image, height), "png_image.height");
_Static_assert(offsetof(png_image, format) == offsetof(sm_png_image, format), "png_image.format");
_Static_assert(offsetof(png_image, flags) == offsetof(sm_png_image, flags), "png_image.flags");
_Static_assert(offsetof(png_image, warning_or_error) == offsetof(sm_png_image, warning_or_error), "png_image.warning_or_error");
_Static_assert(offsetof(png_image, message) == offsetof(sm_png_image, message), "png_image.message");
_Static_assert(sizeof(((png_image *)0)->message) == sizeof(((sm_png_image *)0)->message), "png_image.message size");
_Static_assert(PNG_IMAGE_VERSION == SM_PNG_IMAGE_VERSION, "PNG_IMAGE_VERSION");
_Static_assert(PNG_FORMAT_FLAG_ALPHA == SM_PNG_FORMAT_FLAG_ALPHA, "PNG_FORMAT_FLAG_ALPHA");
_Static_assert(PNG_FORMAT_FLAG_COLOR == SM_PNG_FORMAT_FLAG_COLOR, "PNG_FORMAT_FLAG_COLOR");
_Static_assert(PNG_IMAGE_FLAG_16BIT_sRGB == SM_PNG_IMAGE_FLAG_16BIT_sRGB, "PNG_IMAGE_FLAG_16BIT_sRGB");
_Static_assert(PNG_IMAGE_WARNING == SM_PNG_IMAGE_WARNING && PNG_IMAGE_ERROR == SM_PNG_IMAGE_ERROR, "PNG_IMAGE_ERROR");
#endif
#endif

#if __has_include(<zlib.h>)
#include <zlib.h>
_Static_assert(sizeof(z_stream) == sizeof(sm_z_stream), "z_stream size");
_Static_assert(offsetof(z_stream, avail_out) == offsetof(sm_z_stream, avail_out), "z_stream.avail_out");
_Static_assert(offsetof(z_stream, msg) == offsetof(sm_z_stream, msg), "z_stream.msg");
_Static_assert(offsetof(z_stream, reserved) == offsetof(sm_z_stream, reserved), "z_stream.reserved");
_Static_assert(Z_OK == SM_Z_OK && Z_STREAM_END == SM_Z_STREAM_END && Z_BUF_ERROR == SM_Z_BUF_ERROR && Z_MEM_ERROR == SM_Z_MEM_ERROR, "zlib codes");
#endif

#if __has_include(<jpeglib.h>)
#include <jpeglib.h>
#if JPEG_LIB_VERSION == 62 && BITS_IN_JSAMPLE == 8
#define SM_SAME_OFFSET(field) \
    _Static_assert(offsetof(struct jpeg_decompress_struct, field) == offsetof(sm_jpeg_decompress_head, field), "jpeg_decompress_struct." #field)
_Static_assert(sizeof(struct jpeg_decompress_struct) == SM_JPEG_DECOMPRESS_SIZE, "jpeg_decompress_struct size");
_Static_assert(sizeof(sm_jpeg_decompress) == SM_JPEG_DECOMPRESS_SIZE, "sm_jpeg_decompress padding");
SM_SAME_OFFSET(err);
SM_SAME_OFFSET(image_width);
SM_SAME_OFFSET(image_height);
SM_SAME_OFFSET(num_components);
SM_SAME_OFFSET(jpeg_color_space);
SM_SAME_OFFSET(out_color_space);
SM_SAME_OFFSET(output_width);
SM_SAME_OFFSET(output_height);
SM_SAME_OFFSET(output_components);
_Static_assert(sizeof(struct jpeg_error_mgr) == sizeof(sm_jpeg_error_mgr), "jpeg_error_mgr size");
_Static_assert(offsetof(struct jpeg_error_mgr, error_exit) == offsetof(sm_jpeg_error_mgr, error_exit), "error_exit");
_Static_assert(offsetof(struct jpeg_error_mgr, emit_message) == offsetof(sm_jpeg_error_mgr, emit_message), "emit_message");
_Static_assert(offsetof(struct jpeg_error_mgr, output_message) == offsetof(sm_jpeg_error_mgr, output_message), "output_message");
_Static_assert(offsetof(struct jpeg_error_mgr, format_message) == offsetof(sm_jpeg_error_mgr, format_message), "format_message");
_Static_assert(sizeof(boolean) == sizeof(int) && sizeof(JDIMENSION) == sizeof(unsigned int), "boolean, JDIMENSION");
_Static_assert(JMSG_LENGTH_MAX == SM_JMSG_LENGTH_MAX, "JMSG_LENGTH_MAX");
_Static_assert(JCS_GRAYSCALE == SM_JCS_GRAYSCALE && JCS_RGB == SM_JCS_RGB, "J_COLOR_SPACE");
_Static_assert(JPEG_HEADER_OK == SM_JPEG_HEADER_OK, "JPEG_HEADER_OK");
#endif
#endif
#endif

/// Keeps the translation unit non-empty where no header is installed.
int siamese_image_codecs_abi_checked(void);
int siamese_image_codecs_abi_checked(void) {
#if defined(PNG_LIBPNG_VER_SONUM) || defined(JPEG_LIB_VERSION)
    return 1;
#else
    return 0;
#endif
}
