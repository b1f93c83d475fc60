#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A block of memory holding tensor elements: allocated here (64-byte aligned, zeroed), or adopted
/// from elsewhere (a buffer decoded from a model file, a memory-mapped region) with its own release.
///
/// Adopting lets a loader hand a decoded weight buffer straight to a tensor instead of copying it.
public final class TensorStorage: @unchecked Sendable {
    /// Start of the block.
    public let base: UnsafeMutableRawPointer
    /// Size of the block in bytes.
    public let byteCount: Int
    private let release: (UnsafeMutableRawPointer) -> Void

    /// The alignment of blocks allocated here: a cache line, and enough for any SIMD load.
    public static let alignment = 64

    /// Allocates a zero-filled block.
    public init(byteCount: Int) {
        precondition(byteCount >= 0, "negative tensor size")
        self.byteCount = byteCount
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: Self.alignment)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: max(byteCount, 1))
        base = raw
        release = { $0.deallocate() }
    }

    /// Takes ownership of `pointer`, which `release` frees when the storage dies.
    public init(adopting pointer: UnsafeMutableRawPointer, byteCount: Int,
                release: @escaping (UnsafeMutableRawPointer) -> Void) {
        self.base = pointer
        self.byteCount = byteCount
        self.release = release
    }

    deinit { release(base) }
}
