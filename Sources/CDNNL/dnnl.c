#include "CDNNL.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/// sizeof(dnnl_memory_desc_t) in the oneDNN 2.x ABI (DNNL_MAX_NDIMS = 12).
#define MEMORY_DESC_BYTES 696

typedef serkd_dnnl_handle H;
typedef serkd_dnnl_memory_desc MD;
typedef serkd_dnnl_op_desc OD;

/// oneDNN's dnnl_version_t.
typedef struct {
    int major, minor, patch;
    const char *hash;
    unsigned cpu_runtime, gpu_runtime;
} version_t;

// Every entry point: name, return type, parameter list. Expanded once into pointers and once into lookups.
#define SERKD_DNNL_FUNCTIONS(X)                                                                          \
    X(dnnl_version, const version_t *, (void))                                                           \
    X(dnnl_get_effective_cpu_isa, int, (void))                                                           \
    X(dnnl_engine_create, int, (H *, int, size_t))                                                       \
    X(dnnl_stream_create, int, (H *, H, unsigned))                                                       \
    X(dnnl_stream_wait, int, (H))                                                                        \
    X(dnnl_memory_desc_init_by_tag, int, (MD *, int, const int64_t *, int, int))                         \
    X(dnnl_memory_desc_get_size, size_t, (const MD *))                                                   \
    X(dnnl_memory_desc_equal, int, (const MD *, const MD *))                                             \
    X(dnnl_memory_create, int, (H *, const MD *, H, void *))                                             \
    X(dnnl_memory_set_data_handle, int, (H, void *))                                                     \
    X(dnnl_memory_destroy, int, (H))                                                                     \
    X(dnnl_dilated_convolution_forward_desc_init, int,                                                   \
      (OD *, int, int, const MD *, const MD *, const MD *, const MD *, const int64_t *, const int64_t *, \
       const int64_t *, const int64_t *))                                                                \
    X(dnnl_matmul_desc_init, int, (OD *, const MD *, const MD *, const MD *, const MD *))                \
    X(dnnl_post_ops_create, int, (H *))                                                                  \
    X(dnnl_post_ops_append_eltwise, int, (H, float, int, float, float))                                  \
    X(dnnl_post_ops_append_sum, int, (H, float))                                                         \
    X(dnnl_post_ops_destroy, int, (H))                                                                   \
    X(dnnl_primitive_attr_create, int, (H *))                                                            \
    X(dnnl_primitive_attr_set_post_ops, int, (H, H))                                                     \
    X(dnnl_primitive_attr_destroy, int, (H))                                                             \
    X(dnnl_primitive_desc_create, int, (H *, const void *, H, H, H))                                     \
    X(dnnl_reorder_primitive_desc_create, int, (H *, const MD *, H, const MD *, H, H))                   \
    X(dnnl_primitive_desc_query_md, const MD *, (H, int, int))                                           \
    X(dnnl_primitive_desc_query, int, (H, int, int, void *))                                             \
    X(dnnl_primitive_desc_destroy, int, (H))                                                             \
    X(dnnl_primitive_create, int, (H *, H))                                                              \
    X(dnnl_primitive_execute, int, (H, H, int, const serkd_dnnl_exec_arg *))                             \
    X(dnnl_primitive_destroy, int, (H))

#define DECLARE(name, result, params) static result(*p_##name) params;
SERKD_DNNL_FUNCTIONS(DECLARE)

int serkd_dnnl_open(const char *path, char *err, size_t errlen) {
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, errlen, "%s", dlerror());
        return 1;
    }
#define RESOLVE(name, result, params)                                        \
    p_##name = (result(*) params)dlsym(lib, #name);                          \
    if (!p_##name) {                                                         \
        snprintf(err, errlen, "%s has no %s (oneDNN 2.x expected)", path, #name); \
        return 1;                                                            \
    }
    SERKD_DNNL_FUNCTIONS(RESOLVE)
    return 0;
}

void serkd_dnnl_version(int *major, int *minor, int *patch) {
    const version_t *v = p_dnnl_version();
    *major = v->major;
    *minor = v->minor;
    *patch = v->patch;
}

unsigned serkd_dnnl_effective_isa(void) { return (unsigned)p_dnnl_get_effective_cpu_isa(); }

int serkd_dnnl_engine_create(H *engine) { return p_dnnl_engine_create(engine, SERKD_DNNL_ENGINE_CPU, 0); }
int serkd_dnnl_stream_create(H *stream, H engine) { return p_dnnl_stream_create(stream, engine, SERKD_DNNL_STREAM_IN_ORDER); }
int serkd_dnnl_stream_wait(H stream) { return p_dnnl_stream_wait(stream); }

int serkd_dnnl_memory_desc_init_by_tag(MD *desc, int ndims, const int64_t *dims, int tag) {
    return p_dnnl_memory_desc_init_by_tag(desc, ndims, dims, SERKD_DNNL_F32, tag);
}
size_t serkd_dnnl_memory_desc_get_size(const MD *desc) { return p_dnnl_memory_desc_get_size(desc); }
int serkd_dnnl_memory_desc_equal(const MD *a, const MD *b) { return p_dnnl_memory_desc_equal(a, b); }
int serkd_dnnl_memory_create(H *memory, const MD *desc, H engine, void *data) {
    return p_dnnl_memory_create(memory, desc, engine, data);
}
int serkd_dnnl_memory_set_data_handle(H memory, void *data) { return p_dnnl_memory_set_data_handle(memory, data); }
int serkd_dnnl_memory_destroy(H memory) { return p_dnnl_memory_destroy(memory); }

int serkd_dnnl_convolution_forward_desc_init(OD *desc, int prop_kind, const MD *src, const MD *weights, const MD *bias,
                                             const MD *dst, const int64_t *strides, const int64_t *dilates,
                                             const int64_t *padding_l, const int64_t *padding_r) {
    return p_dnnl_dilated_convolution_forward_desc_init(desc, prop_kind, SERKD_DNNL_CONVOLUTION_DIRECT, src, weights, bias,
                                                        dst, strides, dilates, padding_l, padding_r);
}

int serkd_dnnl_matmul_desc_init(OD *desc, const MD *src, const MD *weights, const MD *bias, const MD *dst) {
    return p_dnnl_matmul_desc_init(desc, src, weights, bias, dst);
}

int serkd_dnnl_post_ops_create(H *post_ops) { return p_dnnl_post_ops_create(post_ops); }
int serkd_dnnl_post_ops_append_eltwise(H post_ops, int alg, float alpha, float beta) {
    return p_dnnl_post_ops_append_eltwise(post_ops, 1.0f, alg, alpha, beta);
}
int serkd_dnnl_post_ops_append_sum(H post_ops, float scale) { return p_dnnl_post_ops_append_sum(post_ops, scale); }
int serkd_dnnl_post_ops_destroy(H post_ops) { return p_dnnl_post_ops_destroy(post_ops); }
int serkd_dnnl_attr_create(H *attr) { return p_dnnl_primitive_attr_create(attr); }
int serkd_dnnl_attr_set_post_ops(H attr, H post_ops) { return p_dnnl_primitive_attr_set_post_ops(attr, post_ops); }
int serkd_dnnl_attr_destroy(H attr) { return p_dnnl_primitive_attr_destroy(attr); }

int serkd_dnnl_primitive_desc_create(H *pd, const OD *desc, H attr, H engine) {
    return p_dnnl_primitive_desc_create(pd, desc, attr, engine, NULL);
}
int serkd_dnnl_reorder_primitive_desc_create(H *pd, const MD *src, const MD *dst, H engine) {
    return p_dnnl_reorder_primitive_desc_create(pd, src, engine, dst, engine, NULL);
}
int serkd_dnnl_primitive_desc_query_md(H pd, int what, MD *out) {
    const MD *md = p_dnnl_primitive_desc_query_md(pd, what, 0);
    if (!md) return 1;
    memcpy(out, md, MEMORY_DESC_BYTES);
    return 0;
}
const char *serkd_dnnl_primitive_desc_impl(H pd) {
    const char *name = "";
    p_dnnl_primitive_desc_query(pd, SERKD_DNNL_QUERY_IMPL_INFO_STR, 0, &name);
    return name ? name : "";
}
int serkd_dnnl_primitive_desc_destroy(H pd) { return p_dnnl_primitive_desc_destroy(pd); }

int serkd_dnnl_primitive_create(H *primitive, H pd) { return p_dnnl_primitive_create(primitive, pd); }
int serkd_dnnl_primitive_execute(H primitive, H stream, int nargs, const serkd_dnnl_exec_arg *args) {
    return p_dnnl_primitive_execute(primitive, stream, nargs, args);
}
int serkd_dnnl_primitive_destroy(H primitive) { return p_dnnl_primitive_destroy(primitive); }
