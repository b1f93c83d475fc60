// The few oneDNN (libdnnl.so.2, the 2.x C API) entry points serkd uses, resolved at run time.
//
// serkd builds and runs without oneDNN: nothing here needs its headers or links against it. The
// library is opened with dlopen on first use; when it is missing every convolution stays on the
// OpenBLAS path. Types are declared as oneDNN 2.x lays them out: handles are opaque pointers, and the
// two descriptor structs serkd fills (memory and operation descriptors) are byte blobs at least as
// large as oneDNN's (sizes checked against dnnl_types.h 2.6: 696 bytes, and 5976 for the largest
// operation descriptor serkd fills, convolution's).
#ifndef SERKD_CDNNL_H
#define SERKD_CDNNL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct serkd_dnnl_opaque *serkd_dnnl_handle;

/// dnnl_memory_desc_t: filled and read only by oneDNN.
typedef struct {
    _Alignas(8) unsigned char bytes[768];
} serkd_dnnl_memory_desc;

/// Any dnnl_*_desc_t operation descriptor (convolution, matmul, eltwise).
typedef struct {
    _Alignas(8) unsigned char bytes[6144];
} serkd_dnnl_op_desc;

/// dnnl_exec_arg_t.
typedef struct {
    int arg;
    serkd_dnnl_handle memory;
} serkd_dnnl_exec_arg;

/// The enum values of dnnl_types.h (2.x) serkd passes.
enum {
    SERKD_DNNL_SUCCESS = 0,
    SERKD_DNNL_F32 = 3,
    SERKD_DNNL_TAG_ANY = 1,
    SERKD_DNNL_TAG_A = 2,
    SERKD_DNNL_TAG_AB = 3,
    SERKD_DNNL_TAG_ABC = 4,
    SERKD_DNNL_TAG_ACB = 17,
    SERKD_DNNL_TAG_ABCD = 5,
    SERKD_DNNL_TAG_ABCDE = 7,
    SERKD_DNNL_TAG_BA = 22,
    SERKD_DNNL_FORWARD_INFERENCE = 96,
    SERKD_DNNL_CONVOLUTION_DIRECT = 1,
    SERKD_DNNL_ELTWISE_RELU = 31,
    SERKD_DNNL_ELTWISE_TANH = 47,
    SERKD_DNNL_ELTWISE_LINEAR = 127,
    SERKD_DNNL_ELTWISE_GELU_ERF = 48,
    SERKD_DNNL_ELTWISE_HARDSWISH = 112,
    SERKD_DNNL_ELTWISE_LOGISTIC = 175,
    SERKD_DNNL_ELTWISE_GELU_TANH = 207,
    SERKD_DNNL_ELTWISE_CLIP = 255,
    SERKD_DNNL_ARG_SRC = 1,
    SERKD_DNNL_ARG_DST = 17,
    SERKD_DNNL_ARG_WEIGHTS = 33,
    SERKD_DNNL_ARG_BIAS = 41,
    SERKD_DNNL_QUERY_IMPL_INFO_STR = 8,
    SERKD_DNNL_QUERY_SRC_MD = 129,
    SERKD_DNNL_QUERY_WEIGHTS_MD = 131,
    SERKD_DNNL_QUERY_DST_MD = 133,
    SERKD_DNNL_ENGINE_CPU = 1,
    SERKD_DNNL_STREAM_IN_ORDER = 1,
};

/// Opens the library and resolves every entry point below. Returns 0 on success; otherwise writes
/// why into `err` and every other function must not be called.
int serkd_dnnl_open(const char *path, char *err, size_t errlen);

/// oneDNN's version ("2.6.3") and its effective CPU ISA as dnnl_cpu_isa_t bits.
void serkd_dnnl_version(int *major, int *minor, int *patch);
unsigned serkd_dnnl_effective_isa(void);

int serkd_dnnl_engine_create(serkd_dnnl_handle *engine);
int serkd_dnnl_stream_create(serkd_dnnl_handle *stream, serkd_dnnl_handle engine);
int serkd_dnnl_stream_wait(serkd_dnnl_handle stream);

int serkd_dnnl_memory_desc_init_by_tag(serkd_dnnl_memory_desc *desc, int ndims, const int64_t *dims, int tag);
size_t serkd_dnnl_memory_desc_get_size(const serkd_dnnl_memory_desc *desc);
int serkd_dnnl_memory_desc_equal(const serkd_dnnl_memory_desc *a, const serkd_dnnl_memory_desc *b);
int serkd_dnnl_memory_create(serkd_dnnl_handle *memory, const serkd_dnnl_memory_desc *desc, serkd_dnnl_handle engine, void *data);
int serkd_dnnl_memory_set_data_handle(serkd_dnnl_handle memory, void *data);
int serkd_dnnl_memory_destroy(serkd_dnnl_handle memory);

/// dnnl_dilated_convolution_forward_desc_init with f32 memory; `bias` may be NULL. oneDNN's
/// dilation counts the gaps between taps (ONNX dilation − 1).
int serkd_dnnl_convolution_forward_desc_init(serkd_dnnl_op_desc *desc, int prop_kind, const serkd_dnnl_memory_desc *src,
                                             const serkd_dnnl_memory_desc *weights, const serkd_dnnl_memory_desc *bias,
                                             const serkd_dnnl_memory_desc *dst, const int64_t *strides,
                                             const int64_t *dilates, const int64_t *padding_l, const int64_t *padding_r);

/// dnnl_matmul_desc_init with f32 memory; `bias` may be NULL.
int serkd_dnnl_matmul_desc_init(serkd_dnnl_op_desc *desc, const serkd_dnnl_memory_desc *src, const serkd_dnnl_memory_desc *weights,
                                const serkd_dnnl_memory_desc *bias, const serkd_dnnl_memory_desc *dst);

int serkd_dnnl_post_ops_create(serkd_dnnl_handle *post_ops);
int serkd_dnnl_post_ops_append_eltwise(serkd_dnnl_handle post_ops, int alg, float alpha, float beta);
int serkd_dnnl_post_ops_append_sum(serkd_dnnl_handle post_ops, float scale);
int serkd_dnnl_post_ops_destroy(serkd_dnnl_handle post_ops);
int serkd_dnnl_attr_create(serkd_dnnl_handle *attr);
int serkd_dnnl_attr_set_post_ops(serkd_dnnl_handle attr, serkd_dnnl_handle post_ops);
int serkd_dnnl_attr_destroy(serkd_dnnl_handle attr);

/// dnnl_primitive_desc_create for an operation descriptor; `attr` may be NULL.
int serkd_dnnl_primitive_desc_create(serkd_dnnl_handle *pd, const serkd_dnnl_op_desc *desc, serkd_dnnl_handle attr,
                                     serkd_dnnl_handle engine);
/// dnnl_reorder_primitive_desc_create between two memory layouts on one engine.
int serkd_dnnl_reorder_primitive_desc_create(serkd_dnnl_handle *pd, const serkd_dnnl_memory_desc *src,
                                             const serkd_dnnl_memory_desc *dst, serkd_dnnl_handle engine);
/// The memory descriptor a primitive descriptor chose for `what` (a SERKD_DNNL_QUERY_*_MD), copied.
int serkd_dnnl_primitive_desc_query_md(serkd_dnnl_handle pd, int what, serkd_dnnl_memory_desc *out);
/// The implementation's name ("jit:avx2", "gemm:jit", …).
const char *serkd_dnnl_primitive_desc_impl(serkd_dnnl_handle pd);
int serkd_dnnl_primitive_desc_destroy(serkd_dnnl_handle pd);

int serkd_dnnl_primitive_create(serkd_dnnl_handle *primitive, serkd_dnnl_handle pd);
int serkd_dnnl_primitive_execute(serkd_dnnl_handle primitive, serkd_dnnl_handle stream, int nargs,
                                 const serkd_dnnl_exec_arg *args);
int serkd_dnnl_primitive_destroy(serkd_dnnl_handle primitive);

#ifdef __cplusplus
}
#endif
#endif
