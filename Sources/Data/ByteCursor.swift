import Tensor

/// A read position in a byte buffer that refuses to read past the end, naming the offset it was at
/// and what it was reading, so a truncated file yields "truncated … at byte N" instead of a trap.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    /// Throws unless `count` more bytes are present for `what`.
    func require(_ count: Int, for what: String) throws {
        guard count >= 0, count <= remaining else {
            throw InvalidInput(nil, "truncated \(what) at byte \(offset): needs \(count) bytes, \(max(remaining, 0)) remain")
        }
    }

    mutating func skip(_ count: Int, for what: String) throws {
        try require(count, for: what)
        offset += count
    }

    mutating func uint8(for what: String) throws -> UInt8 {
        try require(1, for: what)
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint16LittleEndian(for what: String) throws -> UInt16 {
        try require(2, for: what)
        defer { offset += 2 }
        return UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
    }

    mutating func uint32LittleEndian(for what: String) throws -> UInt32 {
        try require(4, for: what)
        defer { offset += 4 }
        return (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }

    mutating func uint64LittleEndian(for what: String) throws -> UInt64 {
        try require(8, for: what)
        defer { offset += 8 }
        return (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
    }

    mutating func uint32BigEndian(for what: String) throws -> UInt32 {
        try require(4, for: what)
        defer { offset += 4 }
        return (0..<4).reduce(0) { $0 << 8 | UInt32(bytes[offset + $1]) }
    }

    /// The next `count` bytes as a view into the buffer.
    mutating func slice(_ count: Int, for what: String) throws -> UnsafeRawBufferPointer {
        try require(count, for: what)
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }
}
