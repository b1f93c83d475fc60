// Float32 transcendental functions written as straight-line arithmetic and bit operations, so a loop
// applying one of them to an array compiles to SSE vector code. libm's scalar calls would cost more
// than the memory traffic of the whole kernel.
//
// The polynomial coefficients were fitted for serkd (weighted least squares refined towards minimax,
// in float64, on the intervals named below) and then checked in float32 arithmetic without fused
// multiply-add, which is what the baseline x86-64 build executes. Errors measured against float64
// libm on every 16th float in [-10, 10] (exp on [-89, 89], sigmoid on [-105, 105]); the tests
// re-check them on a dense sweep (Tests/RuntimeTests/ElementwiseTests.swift):
//
//   exp       ≤ 0.97 ulp; subnormal results within 1 unit of 2⁻¹⁴⁹; overflow to +inf above 88.72
//   erf       ≤ 1.7 ulp, relative error ≤ 1.3e-7
//   tanh      ≤ 1.3 ulp
//   sigmoid   ≤ 2.4 ulp everywhere, including the subnormal tail
//   gelu      ≤ 1.7 ulp for x ≥ 0; ≤ 21 ulp on [−3, 0) and ≤ 79 ulp on [−5.5, −3), where the result
//             is below 0.02 in magnitude and exp of a rounded argument amplifies its rounding
//             (onnxruntime's 1 + erf form is off by ~100 ulp at −3 and thousands below −4); 0 below −5.54
//   geluTanh  ≤ 2.6 ulp for x ≥ 0; ≤ 18 ulp on [−3, 0), ≤ 46 ulp on [−5.5, −3), same reason
//
// Polynomials are evaluated in Estrin's scheme rather than Horner's: the loops are limited by the
// length of each element's dependency chain, and Estrin halves it (GELU runs 1.5× faster).
//
// NaN propagates through every function; ±inf map to the functions' limits.

import CVectorMath

/// Vectorisable float32 approximations of exp, erf, tanh and the functions built from them.
enum VectorMath {
    /// Whether the CPU runs the AVX2 + FMA kernels of CVectorMath.
    static let hasAVX2 = serkd_vector_has_avx2() != 0

    /// y[i] = e^(x[i] − shift) for i < count, and their sum; `y` may be `x`. Eight lanes with fused
    /// multiply-adds where the CPU has AVX2 (10–15× the four-lane loop on a Zen 5), else `exp`'s loop.
    static func exponentials(of x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, shift: Float) -> Float {
        if hasAVX2 { return serkd_exp_shifted_sum_avx2(x, y, count, shift) }
        for i in 0..<count { y[i] = exp(x[i] - shift) }
        return Reductions.sum(UnsafePointer(y), count: count)
    }

    /// eˣ. Range reduction x = k·ln2 + r with |r| ≤ ln2/2, a degree-7 polynomial for eʳ, and 2ᵏ
    /// applied as two factors so results down to the smallest subnormal come out right.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        // Below -104 the result rounds to 0, above 89 it overflows; clamping keeps k within Int32
        // arithmetic. NaN fails both comparisons and passes through.
        let clamped = x < -104 ? -104 : (x > 89 ? 89 : x)
        let (er, k) = reducedExp(clamped)
        let k1 = k >> 1, k2 = k &- k1
        return er * powerOfTwo(k1) * powerOfTwo(k2)
    }

    /// eˣ for x in [−87, 88], where eˣ and 2ᵏ are normal floats: one scaling, no clamping. For
    /// callers that know their argument's range (erf, tanh).
    @inline(__always)
    static func expNormal(_ x: Float) -> Float {
        let (er, k) = reducedExp(x)
        return er * powerOfTwo(k)
    }

    /// eʳ and k with x = k·ln2 + r, |r| ≤ ln2/2, for |x| ≤ 104.
    @inline(__always)
    static func reducedExp(_ x: Float) -> (Float, Int32) {
        // Adding 1.5·2²³ rounds to the nearest integer k and leaves it in the low mantissa bits;
        // |k| ≤ 150 fits in the low 9 bits, which the shift pair sign-extends.
        let shifted = x * 1.442_695_04 + 12_582_912
        let kf = shifted - 12_582_912
        let k = Int32(bitPattern: shifted.bitPattern &<< 23) >> 23
        // ln2 split so that kf·ln2High is exact.
        let r = x - kf * 0.693_359_375 - kf * -2.121_944_4e-4
        // eʳ ≈ 1 + r + r²·P(r), P of degree 5 evaluated in Estrin's scheme: independent halves keep
        // the dependency chain short, which is what limits these loops.
        let r2 = r * r
        let p01 = 0.5 + 0.166_666_66 * r, p23 = 4.166_629_5e-2 + 8.333_496_7e-3 * r
        let p45 = 1.394_464_9e-3 + 1.979_035_3e-4 * r
        let p = p01 + r2 * (p23 + r2 * p45)
        return (1 + (r + r2 * p), k)
    }

    /// 2ᵏ for k in [−126, 127].
    @inline(__always)
    static func powerOfTwo(_ k: Int32) -> Float {
        Float(bitPattern: UInt32(bitPattern: (k &+ 127) &<< 23))
    }

    /// The error function: erf(|x|) from `erfParts`, with x's sign.
    @inline(__always)
    static func erf(_ x: Float) -> Float {
        let a = magnitude(x)
        let (small, complement) = erfParts(a)
        return withSign(of: x, a > 0.875 ? 1 - complement : small)
    }

    /// The two halves of erf on a ≥ 0, both computed so a loop stays branch-free: erf(a) for
    /// a ≤ 0.875 as a + a·Q(a²), and erfc(a) for a > 0.875 as exp(G(a)) with G ≈ log erfc fitted on
    /// [0.875, 3.92] (G is held at 3.92 beyond, where erf rounds to 1).
    @inline(__always)
    static func erfParts(_ a: Float) -> (small: Float, complement: Float) {
        let s = a * a, s2 = s * s
        let q = (0.128_379_15 - 0.376_125_52 * s) + s2 * ((0.112_824_55 - 2.679_146_3e-2 * s)
                                                         + s2 * (5.032_181_3e-3 - 6.203_254_5e-4 * s))
        let t = a > 3.92 ? 3.92 : a
        let t2 = t * t, t4 = t2 * t2
        let g03 = (2.998_513_5e-4 - 1.130_155 * t) + t2 * (-0.631_953_9 - 0.109_965_54 * t)
        let g47 = (2.635_926_6e-2 - 4.738_917_6e-3 * t) + t2 * (5.926_196_5e-4 - 4.558_772_3e-5 * t)
        let g = g03 + t4 * (g47 + t4 * 1.614_646_7e-6)
        return (a + a * q, expNormal(g))
    }

    /// Hyperbolic tangent. |x| ≤ 0.625: x + x³·P(x²); beyond: 1 − 2/(e²ˣ + 1), which has no
    /// cancellation there (the result is at least 0.55).
    @inline(__always)
    static func tanh(_ x: Float) -> Float {
        let a = magnitude(x)
        let s = a * a, s2 = s * s
        let p = (-0.333_333_31 + 0.133_332_06 * s) + s2 * ((-5.394_676_3e-2 + 2.170_070_3e-2 * s)
                                                        + s2 * (-8.177_397_8e-3 + 2.142_961_6e-3 * s))
        let small = a + a * s * p
        let e = expNormal(2 * (a > 9.1 ? 9.1 : a))
        let large = 1 - 2 / (e + 1)
        return withSign(of: x, a > 0.625 ? large : small)
    }

    /// 1/(1 + e⁻ˣ), computed from e^-|x| so that neither tail loses relative accuracy.
    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        let e = exp(-magnitude(x))
        return (x >= 0 ? 1 : e) / (1 + e)
    }

    /// x·Φ(x) with the exact normal CDF: 0.5·x·(1 + erf(x/√2)), where for x < 0 the sum 1 + erf is
    /// taken as erfc(|x|/√2) directly instead of cancelling. Below x ≈ −5.54 (|GELU| < 6e-8) the
    /// result is 0.
    @inline(__always)
    static func gelu(_ x: Float) -> Float {
        let a = magnitude(x * 0.707_106_78)
        let (small, complement) = erfParts(a)
        let twiceCDF: Float
        if x < 0 {
            twiceCDF = a > 0.875 ? (a >= 3.92 ? 0 : complement) : 1 - small
        } else {
            twiceCDF = a > 0.875 ? 2 - complement : 1 + small
        }
        return 0.5 * x * twiceCDF
    }

    /// GELU's tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), evaluated as
    /// x·sigmoid(2u), which is the same function without the cancellation of 1 + tanh for x < 0.
    @inline(__always)
    static func geluTanh(_ x: Float) -> Float {
        let u = 0.797_884_56 * (x + 0.044_715 * x * x * x)
        return x * sigmoid(2 * u)
    }

    /// |x| by clearing the sign bit.
    @inline(__always)
    static func magnitude(_ x: Float) -> Float {
        Float(bitPattern: x.bitPattern & 0x7FFF_FFFF)
    }

    /// `value` with the sign of `x`; `value` must be non-negative.
    @inline(__always)
    static func withSign(of x: Float, _ value: Float) -> Float {
        Float(bitPattern: value.bitPattern | (x.bitPattern & 0x8000_0000))
    }
}
