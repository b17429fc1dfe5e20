// The few pieces of the libpng 1.6 and libjpeg 6.2 ABIs that the decoders use, declared here so
// that the package builds without either library's headers. Both ABIs are frozen by their
// sonames (libpng16.so.16, libjpeg.so.62): a library with another layout has another soname and
// is not loaded. abi_check.c compares every size, offset and constant below with the real headers
// when they are installed (as on the machines that build and test this package), so a mistake
// here stops the build instead of corrupting memory.
#ifndef SIAMESE_CODECS_ABI_H
#define SIAMESE_CODECS_ABI_H

#include <stddef.h>
#include <stdint.h>

// MARK: - libpng 1.6, simplified API (png.h, "Simplified API" section)

#define SM_PNG_IMAGE_VERSION 1
#define SM_PNG_FORMAT_FLAG_ALPHA 0x01U
#define SM_PNG_FORMAT_FLAG_COLOR 0x02U
#define SM_PNG_IMAGE_FLAG_16BIT_sRGB 0x04U
#define SM_PNG_IMAGE_WARNING 1
#define SM_PNG_IMAGE_ERROR 2

/// `png_image`: a versioned struct the simplified API documents as stable.
typedef struct {
    void *opaque;
    uint32_t version;
    uint32_t width;
    uint32_t height;
    uint32_t format;
    uint32_t flags;
    uint32_t colormap_entries;
    uint32_t warning_or_error;
    char message[64];
} sm_png_image;

typedef int (*sm_png_begin_read_from_memory)(sm_png_image *image, const void *memory, size_t size);
typedef int (*sm_png_finish_read)(sm_png_image *image, const void *background, void *buffer, int32_t row_stride, void *colormap);
typedef void (*sm_png_free)(sm_png_image *image);

// MARK: - libjpeg 6.2 (JPEG_LIB_VERSION 62, 8-bit samples: jpeglib.h, jmorecfg.h)

#define SM_JPEG_LIB_VERSION 62
#define SM_JMSG_LENGTH_MAX 200
#define SM_JCS_GRAYSCALE 1
#define SM_JCS_RGB 2
#define SM_JPEG_HEADER_OK 1

/// `struct jpeg_error_mgr`, complete: the decoder allocates it and replaces three methods.
typedef struct sm_jpeg_error_mgr {
    void (*error_exit)(void *cinfo);
    void (*emit_message)(void *cinfo, int msg_level);
    void (*output_message)(void *cinfo);
    void (*format_message)(void *cinfo, char *buffer);
    void (*reset_error_mgr)(void *cinfo);
    int msg_code;
    union { int i[8]; char s[80]; } msg_parm;
    int trace_level;
    long num_warnings;
    const char *const *jpeg_message_table;
    int last_jpeg_message;
    const char *const *addon_message_table;
    int first_addon_message;
    int last_addon_message;
} sm_jpeg_error_mgr;

/// The head of `struct jpeg_decompress_struct`, up to the last field the decoder touches
/// (`boolean` is `int`, `JDIMENSION` `unsigned int`, enums `int`, as in jmorecfg.h on Unix).
typedef struct {
    sm_jpeg_error_mgr *err;           // jpeg_common_fields
    void *mem;
    void *progress;
    void *client_data;
    int is_decompressor;
    int global_state;
    void *src;
    unsigned int image_width;
    unsigned int image_height;
    int num_components;
    int jpeg_color_space;
    int out_color_space;
    unsigned int scale_num, scale_denom;
    double output_gamma;
    int buffered_image;
    int raw_data_out;
    int dct_method;
    int do_fancy_upsampling;
    int do_block_smoothing;
    int quantize_colors;
    int dither_mode;
    int two_pass_quantize;
    int desired_number_of_colors;
    int enable_1pass_quant;
    int enable_external_quant;
    int enable_2pass_quant;
    unsigned int output_width;
    unsigned int output_height;
    int out_color_components;
    int output_components;
} sm_jpeg_decompress_head;

/// sizeof(struct jpeg_decompress_struct) with the 6.2 ABI on LP64 (x86-64, arm64 Linux): the
/// library refuses any other size passed to jpeg_CreateDecompress, with an error, not a crash.
#define SM_JPEG_DECOMPRESS_SIZE 632

/// The whole decompress object: the declared head, padded to the library's size.
typedef union {
    sm_jpeg_decompress_head head;
    unsigned char bytes[SM_JPEG_DECOMPRESS_SIZE];
    double align_double;
    void *align_pointer;
} sm_jpeg_decompress;

typedef sm_jpeg_error_mgr *(*sm_jpeg_std_error)(sm_jpeg_error_mgr *err);
typedef void (*sm_jpeg_CreateDecompress)(sm_jpeg_decompress *cinfo, int version, size_t structsize);
typedef void (*sm_jpeg_mem_src)(sm_jpeg_decompress *cinfo, const unsigned char *buffer, unsigned long size);
typedef int (*sm_jpeg_read_header)(sm_jpeg_decompress *cinfo, int require_image);
typedef int (*sm_jpeg_start_decompress)(sm_jpeg_decompress *cinfo);
typedef unsigned int (*sm_jpeg_read_scanlines)(sm_jpeg_decompress *cinfo, unsigned char **scanlines, unsigned int max_lines);
typedef int (*sm_jpeg_finish_decompress)(sm_jpeg_decompress *cinfo);
typedef void (*sm_jpeg_destroy_decompress)(sm_jpeg_decompress *cinfo);

// MARK: - zlib

/// zlib's z_stream (zlib.h), unchanged since zlib 1.0; inflateInit2_ checks sizeof it is given.
typedef struct {
    const unsigned char *next_in;
    unsigned int avail_in;
    unsigned long total_in;
    unsigned char *next_out;
    unsigned int avail_out;
    unsigned long total_out;
    const char *msg;
    void *state;
    void *zalloc;
    void *zfree;
    void *opaque;
    int data_type;
    unsigned long adler;
    unsigned long reserved;
} sm_z_stream;

#define SM_Z_OK 0
#define SM_Z_STREAM_END 1
#define SM_Z_MEM_ERROR (-4)
#define SM_Z_BUF_ERROR (-5)

#endif
