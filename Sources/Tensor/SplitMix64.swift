/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit counter passed through a strong mixer. Used to
/// expand one seed into the state of a `Xoshiro256`, to hash stream keys and to hash dropout masks
/// (`DropoutHash`), never as the main generator.
public struct SplitMix64: RandomNumberGenerator, Sendable, Hashable {
    /// The counter.
    public var state: UInt64

    /// Starts the counter at `seed`.
    public init(seed: UInt64) { state = seed }

    /// The counter's step, 2⁶⁴/φ.
    public static let increment: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// The next output.
    public mutating func next() -> UInt64 {
        state &+= Self.increment
        return Self.mix(state)
    }

    /// The SplitMix64 finaliser: a bijection on 64-bit words that scatters every input bit.
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
