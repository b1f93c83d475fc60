import Foundation
import Tensor

/// xoshiro256** (Blackman & Vigna 2018): the generator behind every random choice in data loading.
///
/// It is a small value type, so a copy replays the same numbers; `init(seed:stream:)` derives an
/// independent generator for any tuple of keys — (epoch, sample index), (epoch, step) — which is how
/// the loader makes each sample's augmentation a function of the seed and its position alone,
/// whatever thread computes it and wherever training resumes. The sampling methods are defined
/// here rather than taken from the standard library, whose algorithms may change between releases.
public struct Xoshiro256: RandomNumberGenerator, Sendable, Hashable {
    private var s0, s1, s2, s3: UInt64

    /// A generator whose state is expanded from `seed` by SplitMix64 (never all zero).
    public init(seed: UInt64) {
        var expander = SplitMix64(seed: seed)
        s0 = expander.next()
        s1 = expander.next()
        s2 = expander.next()
        s3 = expander.next()
    }

    /// A generator in the given raw state (for checking against published test vectors).
    init(state: [UInt64]) {
        precondition(state.count == 4 && state.contains { $0 != 0 }, "xoshiro256 needs four words, not all zero")
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
    }

    /// The generator for one stream of a seed: `keys` (for instance a purpose tag, an epoch and a
    /// sample index) are hashed together with the seed, so different key tuples give unrelated streams.
    public init(seed: UInt64, stream keys: [UInt64]) {
        var hash = SplitMix64.mix(seed ^ 0x6A09_E667_F3BC_C908)
        for key in keys {
            hash = SplitMix64.mix(hash ^ SplitMix64.mix(key &+ SplitMix64.increment))
        }
        self.init(seed: hash)
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A new generator seeded from this one's next output; this one advances by one step.
    public mutating func split() -> Xoshiro256 {
        Xoshiro256(seed: next())
    }

    /// A uniform Double in [0, 1) with 53 random bits.
    public mutating func uniform() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform Double in [low, high), computed as Python's `random.uniform` does: low + (high − low)·u.
    public mutating func uniform(_ low: Double, _ high: Double) -> Double {
        low + (high - low) * uniform()
    }

    /// A uniform integer in 0..<bound, without modulo bias (Lemire's multiply-and-reject).
    public mutating func integer(below bound: Int) -> Int {
        precondition(bound > 0, "empty range")
        let range = UInt64(bound)
        var product = next().multipliedFullWidth(by: range)
        if product.low < range {
            let threshold = (0 &- range) % range
            while product.low < threshold { product = next().multipliedFullWidth(by: range) }
        }
        return Int(product.high)
    }

    /// A uniform integer in `range` (both ends included, like Python's `random.randint`).
    public mutating func integer(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + integer(below: range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `p`.
    public mutating func bernoulli(_ p: Double) -> Bool {
        uniform() < p
    }

    /// A normal sample (Box–Muller; both uniforms are drawn every call, so the stream position
    /// does not depend on earlier calls).
    public mutating func gaussian(mean: Double = 0, standardDeviation: Double = 1) -> Double {
        let u1 = 1 - uniform()
        let u2 = uniform()
        return mean + standardDeviation * (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// A Gamma(shape, 1) sample by Marsaglia & Tsang's squeeze method (2000); shapes below 1 use
    /// Gamma(shape + 1)·U^(1/shape).
    public mutating func gamma(shape: Double) -> Double {
        precondition(shape > 0, "gamma shape must be positive")
        if shape < 1 {
            let boost = pow(1 - uniform(), 1 / shape)
            return gamma(shape: shape + 1) * boost
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = gaussian()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = 1 - uniform()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// A Beta(a, b) sample, X / (X + Y) for X ~ Gamma(a), Y ~ Gamma(b).
    public mutating func beta(_ a: Double, _ b: Double) -> Double {
        let x = gamma(shape: a)
        let y = gamma(shape: b)
        return x + y > 0 ? x / (x + y) : (uniform() < a / (a + b) ? 1 : 0)
    }

    /// A uniformly random permutation of 0..<count (Fisher–Yates, drawing from the end).
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        if count > 1 {
            for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, integer(below: i + 1)) }
        }
        return order
    }
}
