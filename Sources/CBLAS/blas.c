#include "CBLAS.h"

#include <cpuid.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int,
                         float, float *, int);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*get_string_fn)(void);

static sgemm_fn p_sgemm;
static set_threads_fn p_set_threads;
static get_threads_fn p_get_threads;
static get_string_fn p_corename;
static get_string_fn p_config;

int serkd_blas_open(const char *path, char *err, size_t errlen) {
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, errlen, "%s", dlerror());
        return 1;
    }
    p_sgemm = (sgemm_fn)dlsym(lib, "cblas_sgemm");
    p_set_threads = (set_threads_fn)dlsym(lib, "openblas_set_num_threads");
    p_get_threads = (get_threads_fn)dlsym(lib, "openblas_get_num_threads");
    p_corename = (get_string_fn)dlsym(lib, "openblas_get_corename");
    p_config = (get_string_fn)dlsym(lib, "openblas_get_config");
    if (!p_sgemm) {
        snprintf(err, errlen, "%s has no cblas_sgemm", path);
        return 1;
    }
    return 0;
}

void serkd_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha,
                 const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc) {
    p_sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void serkd_blas_set_threads(int n) {
    if (p_set_threads) p_set_threads(n);
}

int serkd_blas_threads(void) { return p_get_threads ? p_get_threads() : 1; }

const char *serkd_blas_corename(void) { return p_corename ? p_corename() : ""; }

const char *serkd_blas_config(void) { return p_config ? p_config() : ""; }

unsigned serkd_cpu_features(void) {
    unsigned features = 0;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) features |= SERKD_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) features |= SERKD_CPU_FMA;
    if (__builtin_cpu_supports("avx512f")) features |= SERKD_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) features |= SERKD_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512dq")) features |= SERKD_CPU_AVX512DQ;
    if (__builtin_cpu_supports("avx512vl")) features |= SERKD_CPU_AVX512VL;
    unsigned eax, ebx, ecx, edx;
    // AVX512_BF16 is CPUID leaf 7, sub-leaf 1, EAX bit 5; gcc 12 has no __builtin_cpu_supports name for it.
    if (__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && (eax & (1u << 5))) features |= SERKD_CPU_AVX512BF16;
    return features;
}

const char *serkd_cpu_brand(void) {
    static char brand[49];
    unsigned regs[12];
    if (__get_cpuid_max(0x80000000, 0) < 0x80000004) return "";
    for (unsigned i = 0; i < 3; i++)
        __get_cpuid(0x80000002 + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    memcpy(brand, regs, 48);
    brand[48] = 0;
    return brand;
}
