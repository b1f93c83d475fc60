import CProto
import Foundation

/// Memory for protobuf-c messages built from Swift: every string, array and message allocated here is
/// freed together when the arena dies, after the message has been packed.
public final class ProtobufArena {
    private var allocations: [UnsafeMutableRawPointer] = []

    public init() {}

    deinit { allocations.forEach { free($0) } }

    /// A NUL-terminated copy of `string`.
    public func string(_ string: String) -> UnsafeMutablePointer<CChar> {
        let copy = strdup(string)!
        allocations.append(copy)
        return copy
    }

    /// A C array holding `elements` (nil when empty, as protobuf-c expects for zero-length fields).
    public func array<T>(_ elements: [T]) -> UnsafeMutablePointer<T>? {
        guard !elements.isEmpty else { return nil }
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: elements.count)
        pointer.initialize(from: elements, count: elements.count)
        allocations.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    /// A zeroed message, initialised by protobuf-c's `init` function for its type.
    public func message<T>(_ initialise: (UnsafeMutablePointer<T>) -> Void) -> UnsafeMutablePointer<T> {
        let pointer = UnsafeMutablePointer<T>.allocate(capacity: 1)
        UnsafeMutableRawPointer(pointer).initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<T>.size)
        initialise(pointer)
        allocations.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }
}
