import Tensor

/// Dropout and drop path with masks drawn from `DropoutHash` (a counter-based hash of seed, step and
/// element), so a resumed run draws the same masks and any split across threads draws the same bits.
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
        /// Hashes below this drop their element.
        var threshold: UInt64 { DropoutHash.threshold(ratio: ratio) }
        /// The value of a kept element's mask: 1/(1 − ratio) rounded once.
        var keptValue: Float { Float(1 / (1 - Double(ratio))) }
    }

    /// mask[i] = 0 or 1/(1 − ratio) and y = x·mask (one float32 product, so a dropped −x gives −0
    /// and NaN stays NaN).
    public static func run(_ g: Geometry, input x: UnsafePointer<Float>, step: Int64, output y: UnsafeMutablePointer<Float>,
                           mask: UnsafeMutablePointer<Float>) {
        let (threshold, kept, per) = (g.threshold, g.keptValue, g.elementsPerMask)
        let key = DropoutHash.key(seed: g.seed, step: step)
        Parallel.forEach(g.maskCount, grain: max(1, Elementwise.grain / 4 / per)) { range in
            for i in range {
                let value: Float = DropoutHash.drops(key: key, index: i, threshold: threshold) ? 0 : kept
                mask[i] = value
                let (source, target) = (x + i * per, y + i * per)
                for j in 0..<per { target[j] = source[j] * value }
            }
        }
    }
}
