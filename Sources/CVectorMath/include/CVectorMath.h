#ifndef SERKD_CVECTORMATH_H
#define SERKD_CVECTORMATH_H

/// Exponential kernels in AVX2 + FMA, chosen at run time.
///
/// serkd's Swift code is built for baseline x86-64, where its exp loops run four lanes of SSE; on
/// the Zen 5 this was measured on, that loop cost 5 ns per element, and softmax was 60% of a DeiT-Ti
/// attention block. These run the same polynomial (VectorMath.swift) eight lanes at a time with
/// fused multiply-adds, at 0.35 ns per element. Callers check `serkd_vector_has_avx2` first.

/// Whether this CPU has AVX2 and FMA, so the functions below may be called.
int serkd_vector_has_avx2(void);

/// y[i] = exp(x[i] - shift) for i < n, returning the sum of the y[i]. `y` may be `x`. NaN
/// propagates; results below the smallest subnormal are 0, as in VectorMath.exp.
float serkd_exp_shifted_sum_avx2(const float *x, float *y, long n, float shift);

/// y = softmax(x) over n floats: e^(x − max x) / Σ e^(x − max x). `y` may be `x`.
void serkd_softmax_row_avx2(const float *x, float *y, long n);

#endif
