/// Dropout and drop path with masks drawn from a counter-based hash of (seed, step, element), so a
/// resumed run draws the same masks and any split across threads draws the same bits.
///
/// The hash and threshold are `Reference.dropoutDrops`, bit for bit:
///
///     h = splitMix64(UInt64(bitPattern: seed) ^ (UInt64(bitPattern: step) &* 0xD1B54A32D192ED03)
///                                              ^ (UInt64(index) &* 0xAEF17502108EF2D9))
///     dropped ⇔ h < UInt64(Double(ratio) · 2⁶⁴)
public enum Dropout {
    /// A resolved dropout.
    public struct Geometry: Hashable, Sendable, Codable {
        /// Elements of X and Y.
        public var count: Int
        /// Elements of the mask: `count`, or the batch size for drop path.
        public var maskCount: Int
        public var ratio: Float
        public var seed: Int

        public init(count: Int, maskCount: Int, ratio: Float, seed: Int) {
            precondition(maskCount == 0 ? count == 0 : count % maskCount == 0, "a mask of \(maskCount) does not tile \(count) elements")
            precondition(ratio >= 0 && ratio < 1, "dropout ratio \(ratio) must be in [0, 1)")
            self.count = count
            self.maskCount = maskCount
            self.ratio = ratio
            self.seed = seed
        }

        /// Consecutive elements sharing one mask value.
        var elementsPerMask: Int { maskCount == 0 ? 1 : count / maskCount }
        /// Hashes below this drop their element: ⌊ratio·2⁶⁴⌋ (exact, as ratio is a float32).
        var threshold: UInt64 { UInt64(Double(ratio) * 0x1p64) }
        /// The value of a kept element's mask: 1/(1 − ratio) rounded once.
        var keptValue: Float { Float(1 / (1 - Double(ratio))) }
    }

    /// mask[i] = 0 or 1/(1 − ratio) and y = x·mask (one float32 product, so a dropped −x gives −0
    /// and NaN stays NaN).
    public static func run(_ g: Geometry, input x: UnsafePointer<Float>, step: Int64, output y: UnsafeMutablePointer<Float>,
                           mask: UnsafeMutablePointer<Float>) {
        let (threshold, kept, per) = (g.threshold, g.keptValue, g.elementsPerMask)
        let key = UInt64(bitPattern: Int64(g.seed)) ^ (UInt64(bitPattern: step) &* 0xD1B5_4A32_D192_ED03)
        Parallel.forEach(g.maskCount, grain: max(1, Elementwise.grain / 4 / per)) { range in
            for i in range {
                let value: Float = splitMix64(key ^ (UInt64(i) &* 0xAEF1_7502_108E_F2D9)) < threshold ? 0 : kept
                mask[i] = value
                let (source, target) = (x + i * per, y + i * per)
                for j in 0..<per { target[j] = source[j] * value }
            }
        }
    }

    /// SplitMix64's output function on `state` advanced by its increment.
    @inline(__always)
    static func splitMix64(_ state: UInt64) -> UInt64 {
        var z = state &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
