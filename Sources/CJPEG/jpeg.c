// JPEG decoding through libjpeg-turbo (Debian: libjpeg62-turbo-dev), wrapped in C because libjpeg
// reports errors by longjmp, which Swift code cannot catch.
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "CJPEG.h"

// Progressive files may hold any number of scans, each costing a pass over the coefficients; real
// encoders write at most a few dozen, so a file with more is treated as hostile.
#define SERKD_JPEG_MAX_SCANS 500

typedef struct {
    struct jpeg_error_mgr base;
    struct jpeg_progress_mgr progress;
    jmp_buf escape;
    const unsigned char *data;
    size_t size;
    serkd_jpeg_error *error;
} serkd_decoder;

// Records libjpeg's message and the read position, then unwinds to the setjmp in the caller.
static void serkd_fail(j_common_ptr cinfo) {
    serkd_decoder *decoder = (serkd_decoder *)cinfo->err;
    j_decompress_ptr dinfo = (j_decompress_ptr)cinfo;
    (*cinfo->err->format_message)(cinfo, decoder->error->message);
    // Running out of data happens at the end; otherwise report how far libjpeg has read, which in
    // entropy-coded data may be a few bytes past the fault because the Huffman decoder reads ahead.
    size_t remaining = dinfo->src && cinfo->err->msg_code != JWRN_JPEG_EOF ? dinfo->src->bytes_in_buffer : 0;
    decoder->error->offset = remaining <= decoder->size ? decoder->size - remaining : 0;
    longjmp(decoder->escape, 1);
}

// Warnings are tolerated as PIL tolerates them, except running out of data: libjpeg would pad the
// image with grey, PIL reports a truncated file, and so do we.
static void serkd_emit_message(j_common_ptr cinfo, int level) {
    if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
        serkd_fail(cinfo);
    }
}

static void serkd_output_message(j_common_ptr cinfo) {
    (void)cinfo;
}

static void serkd_count_scans(j_common_ptr cinfo) {
    j_decompress_ptr dinfo = (j_decompress_ptr)cinfo;
    if (dinfo->is_decompressor && dinfo->input_scan_number > SERKD_JPEG_MAX_SCANS) {
        serkd_fail(cinfo);
    }
}

static void serkd_prepare(serkd_decoder *decoder, struct jpeg_decompress_struct *cinfo,
                          const unsigned char *data, size_t size, serkd_jpeg_error *error) {
    memset(error, 0, sizeof(*error));
    decoder->data = data;
    decoder->size = size;
    decoder->error = error;
    cinfo->err = jpeg_std_error(&decoder->base);
    decoder->base.error_exit = serkd_fail;
    decoder->base.emit_message = serkd_emit_message;
    decoder->base.output_message = serkd_output_message;
    decoder->progress.progress_monitor = serkd_count_scans;
}

// Picks the output colour space: grey stays grey, CMYK/YCCK come out as CMYK, the rest as RGB.
static void serkd_configure(struct jpeg_decompress_struct *cinfo) {
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE:
        cinfo->out_color_space = JCS_GRAYSCALE;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        cinfo->out_color_space = JCS_CMYK;
        break;
    default:
        cinfo->out_color_space = JCS_RGB;
        break;
    }
}

int serkd_jpeg_read_header(const unsigned char *data, size_t size, serkd_jpeg_info *info,
                           serkd_jpeg_error *error) {
    serkd_decoder decoder;
    struct jpeg_decompress_struct cinfo;
    serkd_prepare(&decoder, &cinfo, data, size, error);
    if (setjmp(decoder.escape)) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    serkd_configure(&cinfo);
    jpeg_calc_output_dimensions(&cinfo);
    info->width = (int)cinfo.output_width;
    info->height = (int)cinfo.output_height;
    info->channels = cinfo.out_color_components;
    info->inverted_cmyk = cinfo.out_color_space == JCS_CMYK && cinfo.saw_Adobe_marker;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}

int serkd_jpeg_decode(const unsigned char *data, size_t size, unsigned char *pixels,
                      size_t pixel_bytes, serkd_jpeg_error *error) {
    serkd_decoder decoder;
    struct jpeg_decompress_struct cinfo;
    serkd_prepare(&decoder, &cinfo, data, size, error);
    if (setjmp(decoder.escape)) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &decoder.progress;
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    serkd_configure(&cinfo);
    jpeg_start_decompress(&cinfo);
    size_t row_bytes = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
    if (row_bytes * (size_t)cinfo.output_height != pixel_bytes) {
        snprintf(error->message, sizeof(error->message),
                 "decoded size %ux%ux%d does not match the header", cinfo.output_width,
                 cinfo.output_height, cinfo.output_components);
        error->offset = 0;
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * row_bytes;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    return 0;
}
