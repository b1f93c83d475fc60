/// Which elements dropout drops: a counter-based hash of (seed, step, element), the one definition
/// the reference evaluator and the runtime kernel share, so masks are bit-identical between them,
/// across thread splits, and after resuming a run.
///
///     h = splitMix64(UInt64(bitPattern: seed) ^ (UInt64(bitPattern: step) &* 0xD1B54A32D192ED03)
///                                              ^ (UInt64(index) &* 0xAEF17502108EF2D9))
///     dropped ⇔ h < ⌊ratio · 2⁶⁴⌋
///
/// (`Double(ratio) · 2⁶⁴` is exact for a float32 ratio in [0, 1), so each element is dropped with
/// probability ratio, independently of the others.)
public enum DropoutHash {
    /// The part of the hash input fixed for one dropout node at one step.
    @inline(__always)
    public static func key(seed: Int, step: Int64) -> UInt64 {
        UInt64(bitPattern: Int64(seed)) ^ (UInt64(bitPattern: step) &* 0xD1B5_4A32_D192_ED03)
    }

    /// Hashes below this drop their element.
    public static func threshold(ratio: Float) -> UInt64 { UInt64(Double(ratio) * 0x1p64) }

    /// Whether element `index` is dropped.
    @inline(__always)
    public static func drops(key: UInt64, index: Int, threshold: UInt64) -> Bool {
        SplitMix64.mix((key ^ (UInt64(index) &* 0xAEF1_7502_108E_F2D9)) &+ SplitMix64.increment) < threshold
    }
}
