// JPEG decoding through libjpeg-turbo (Debian: libjpeg62-turbo-dev), wrapped in C because libjpeg
// reports errors by longjmp, which Swift code cannot catch.
#ifndef SERKD_CJPEG_H
#define SERKD_CJPEG_H
#include <stddef.h>

/// What a JPEG's header says about the pixels `serkd_jpeg_decode` will produce.
typedef struct {
    int width;
    int height;
    /// 1 (grayscale), 3 (RGB, converted from YCbCr by libjpeg) or 4 (CMYK as stored).
    int channels;
    /// 1 when 4-channel samples are stored inverted, as Adobe software writes them (APP14 marker).
    int inverted_cmyk;
} serkd_jpeg_info;

/// Why a call failed: libjpeg's message and how far into the data it had read.
typedef struct {
    char message[200];
    size_t offset;
} serkd_jpeg_error;

/// Reads the header of the JPEG in `data[0..<size]` without decoding pixels.
/// Returns 0, or -1 with `error` filled in.
int serkd_jpeg_read_header(const unsigned char *data, size_t size, serkd_jpeg_info *info,
                           serkd_jpeg_error *error);

/// Decodes the JPEG into `pixels`, which must hold exactly width × height × channels bytes as
/// `serkd_jpeg_read_header` reported (rows top to bottom, channels interleaved). Data that ends
/// before the image does is an error, not a grey bottom. Returns 0, or -1 with `error` filled in.
int serkd_jpeg_decode(const unsigned char *data, size_t size, unsigned char *pixels,
                      size_t pixel_bytes, serkd_jpeg_error *error);

#endif
