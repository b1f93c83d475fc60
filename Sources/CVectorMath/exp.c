#include "CVectorMath.h"

#include <immintrin.h>
#include <string.h>

int serkd_vector_has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// eˣ as VectorMath.exp computes it: clamp to [-104, 89] (NaN passes: min and max return their
// second operand when either is NaN), x = k·ln2 + r with |r| ≤ ln2/2, eʳ ≈ 1 + r + r²·P(r) with P of
// degree 5 in Estrin's scheme, and 2ᵏ applied as two factors so subnormal results come out right.
__attribute__((target("avx2,fma"))) static inline __m256 exp8(__m256 x) {
    x = _mm256_max_ps(_mm256_set1_ps(-104.0f), _mm256_min_ps(_mm256_set1_ps(89.0f), x));
    // Adding 1.5·2²³ rounds to the nearest integer k and leaves it in the low mantissa bits.
    __m256 shifted = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504f), _mm256_set1_ps(12582912.0f));
    __m256 kf = _mm256_sub_ps(shifted, _mm256_set1_ps(12582912.0f));
    __m256i k = _mm256_srai_epi32(_mm256_slli_epi32(_mm256_castps_si256(shifted), 23), 23);
    __m256 r = _mm256_fnmadd_ps(kf, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(kf, _mm256_set1_ps(-2.1219444e-4f), r);
    __m256 r2 = _mm256_mul_ps(r, r);
    __m256 p01 = _mm256_fmadd_ps(_mm256_set1_ps(0.16666666f), r, _mm256_set1_ps(0.5f));
    __m256 p23 = _mm256_fmadd_ps(_mm256_set1_ps(8.3334967e-3f), r, _mm256_set1_ps(4.1666295e-2f));
    __m256 p45 = _mm256_fmadd_ps(_mm256_set1_ps(1.9790353e-4f), r, _mm256_set1_ps(1.3944649e-3f));
    __m256 p = _mm256_fmadd_ps(r2, _mm256_fmadd_ps(r2, p45, p23), p01);
    __m256 er = _mm256_add_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(r2, p, r));
    __m256i k1 = _mm256_srai_epi32(k, 1), k2 = _mm256_sub_epi32(k, k1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(er, s1), s2);
}

__attribute__((target("avx2,fma"))) float serkd_exp_shifted_sum_avx2(const float *x, float *y, long n, float shift) {
    __m256 offset = _mm256_set1_ps(shift), total = _mm256_setzero_ps();
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), offset));
        _mm256_storeu_ps(y + i, e);
        total = _mm256_add_ps(total, e);
    }
    if (i < n) {
        // The tail through a full vector whose unused lanes are -inf, whose exponentials are 0.
        float lanes[8] = {-__builtin_inff(), -__builtin_inff(), -__builtin_inff(), -__builtin_inff(),
                          -__builtin_inff(), -__builtin_inff(), -__builtin_inff(), -__builtin_inff()};
        memcpy(lanes, x + i, (size_t)(n - i) * sizeof(float));
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(lanes), offset));
        total = _mm256_add_ps(total, e);
        _mm256_storeu_ps(lanes, e);
        memcpy(y + i, lanes, (size_t)(n - i) * sizeof(float));
    }
    __m128 half = _mm_add_ps(_mm256_castps256_ps128(total), _mm256_extractf128_ps(total, 1));
    half = _mm_add_ps(half, _mm_movehl_ps(half, half));
    half = _mm_add_ss(half, _mm_shuffle_ps(half, half, 1));
    return _mm_cvtss_f32(half);
}

// The largest of x[0..<n] (-inf for none); a NaN anywhere wins, as in Reductions.maximum.
__attribute__((target("avx2,fma"))) static float maximum(const float *x, long n) {
    __m256 best = _mm256_set1_ps(-__builtin_inff());
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        // max returns its second operand when either is NaN: a NaN in best stays, one in v is blended in.
        best = _mm256_blendv_ps(_mm256_max_ps(v, best), v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    float lanes[8], result = -__builtin_inff();
    _mm256_storeu_ps(lanes, best);
    for (int lane = 0; lane < 8; lane++) result = (result != result || lanes[lane] < result) ? result : lanes[lane];
    for (; i < n; i++) result = (result != result || x[i] < result) ? result : x[i];
    return result;
}

__attribute__((target("avx2,fma"))) void serkd_softmax_row_avx2(const float *x, float *y, long n) {
    float scale = 1.0f / serkd_exp_shifted_sum_avx2(x, y, n, maximum(x, n));
    __m256 factor = _mm256_set1_ps(scale);
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), factor));
    for (; i < n; i++) y[i] *= scale;
}
