// The BLAS entry points serkd uses, resolved at run time from OpenBLAS.
//
// OpenBLAS picks its kernel once, when the library loads, from OPENBLAS_CORETYPE or its own CPU
// detection. Debian's 0.3.21 does not recognise recent CPUs and falls back to a slow SSE3 kernel, so we
// load it ourselves with dlopen after choosing the core type (see Runtime/BLAS.swift).
#ifndef SERKD_CBLAS_H
#define SERKD_CBLAS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Row-major / column-major and transpose flags with the values of cblas.h.
enum { SERKD_ROW_MAJOR = 101, SERKD_NO_TRANS = 111, SERKD_TRANS = 112 };

/// Loads `path` (e.g. "libopenblas.so.0") and resolves the entry points. Returns 0 on success; on failure
/// writes a message into `err`.
int serkd_blas_open(const char *path, char *err, size_t errlen);

/// cblas_sgemm on the loaded library (row-major callers pass SERKD_ROW_MAJOR).
void serkd_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

/// openblas_set_num_threads / openblas_get_num_threads.
void serkd_blas_set_threads(int n);
int serkd_blas_threads(void);

/// openblas_get_corename / openblas_get_config, or "" when the library does not export them.
const char *serkd_blas_corename(void);
const char *serkd_blas_config(void);

/// CPU features relevant to the kernel choice, as a bit set of SERKD_CPU_* flags.
enum {
    SERKD_CPU_AVX2 = 1 << 0,
    SERKD_CPU_FMA = 1 << 1,
    SERKD_CPU_AVX512F = 1 << 2,
    SERKD_CPU_AVX512BW = 1 << 3,
    SERKD_CPU_AVX512DQ = 1 << 4,
    SERKD_CPU_AVX512VL = 1 << 5,
    SERKD_CPU_AVX512BF16 = 1 << 6,
};
unsigned serkd_cpu_features(void);

/// The processor's brand string from CPUID (e.g. "AMD EPYC 9R14"), or "" if unavailable.
const char *serkd_cpu_brand(void);

#ifdef __cplusplus
}
#endif
#endif
