import Foundation

/// The byte layout serkd's own files share: `.serkd` models and `.plan` plans (`schemas/serkd.proto`).
///
///     bytes 0..7    magic (which kind of file)
///     bytes 8..11   format version, uint32 little-endian
///     bytes 12..19  header length H, uint64 little-endian
///     bytes 20..    the header: a serialized protobuf message of H bytes
///     zero padding to a multiple of 64, then the data section: tensors, each 64-byte aligned
///     [checksummed files: a 4-byte trailer, the CRC-32 of every byte before it]
///
/// Tensor bytes stay outside the protobuf message so a reader maps the file and uses them in place
/// (protobuf-c would copy every `bytes` field it unpacks). The mapping is private copy-on-write:
/// tensors read from it may be updated in memory without touching the file.
public struct TensorContainer {
    /// Bytes before the header.
    public static let prefixSize = 20
    /// Alignment of the data section and of every tensor in it.
    public static let alignment = 64
    /// Bytes of the checksum trailer.
    public static let trailerSize = 4

    /// Where tensors go in a data section being written.
    public struct DataSection {
        /// Each tensor and its byte offset from the start of the data section.
        public private(set) var placements: [(offset: Int, tensor: Tensor)] = []
        /// Bytes of the section so far.
        public private(set) var byteCount = 0

        public init() {}

        /// Reserves the next aligned place for `tensor` and returns its offset.
        public mutating func place(_ tensor: Tensor) -> Int {
            let offset = TensorContainer.aligned(byteCount)
            placements.append((offset, tensor))
            byteCount = offset + tensor.byteCount
            return offset
        }
    }

    /// Writes a container to `path` atomically: nothing appears at `path` unless every byte was written.
    /// With `checksummed`, the file ends with the CRC-32 of everything before the trailer.
    public static func write(to path: String, magic: [UInt8], version: UInt32, header: [UInt8], data: DataSection,
                             checksummed: Bool) throws {
        precondition(magic.count == 8, "a container magic has 8 bytes")
        let file = try AtomicFile(path: path)
        var crc = CRC32()
        func append(_ bytes: UnsafeRawBufferPointer) throws {
            guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
            try file.write(base, count: bytes.count)
            if checksummed { crc.update(bytes) }
        }
        func append(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try append($0) } }
        func zeros(_ count: Int) throws { try append([UInt8](repeating: 0, count: count)) }

        var prefix = magic
        withUnsafeBytes(of: version.littleEndian) { prefix += $0 }
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { prefix += $0 }
        try append(prefix)
        try append(header)
        let headerEnd = prefix.count + header.count
        try zeros(aligned(headerEnd) - headerEnd)
        var written = 0
        for (offset, tensor) in data.placements {
            try zeros(offset - written)
            try append(UnsafeRawBufferPointer(start: tensor.rawPointer, count: tensor.byteCount))
            written = offset + tensor.byteCount
        }
        if checksummed {
            try file.write(withUnsafeBytes(of: crc.value.littleEndian) { Array($0) })
        }
        try file.commit()
    }

    /// The mapped file.
    public let file: MappedFile
    /// The format version the file declares.
    public let version: UInt32

    /// Opens a mapped container whose magic must be `magic`; `kind` names the file in the error
    /// ("serkd model file"). The version is not checked here: each format words its own refusal.
    public init(_ file: MappedFile, magic: [UInt8], kind: String) throws {
        self.file = file
        let bytes = UnsafeRawBufferPointer(start: file.base, count: file.byteCount)
        guard bytes.count >= Self.prefixSize, Array(bytes[0..<8]) == magic else {
            throw InvalidInput(nil, "not a \(kind) (bad magic)")
        }
        version = bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
    }

    /// The file's bytes; valid while the container (its mapping) lives.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: file.base, count: file.byteCount) }

    /// The header's bytes, after checking that they lie inside the file (before any trailer).
    public func header(trailer: Int = 0) throws -> UnsafeRawBufferPointer {
        let available = bytes.count - Self.prefixSize - trailer
        let length = bytes.loadUnaligned(fromByteOffset: 12, as: UInt64.self).littleEndian
        guard available >= 0, length <= UInt64(available) else {
            throw InvalidInput(nil, "truncated: header of \(length) bytes, file has \(max(available, 0)) after the prefix")
        }
        return UnsafeRawBufferPointer(rebasing: bytes[Self.prefixSize..<(Self.prefixSize + Int(length))])
    }

    /// Byte offset of the data section: the end of the header, rounded up to the alignment.
    public func dataStart(headerLength: Int) -> Int { Self.aligned(Self.prefixSize + headerLength) }

    /// Whether the trailer holds the CRC-32 of every byte before it (the file must be at least the
    /// trailer long).
    public func checksumMatches() -> Bool {
        let body = bytes.count - Self.trailerSize
        let stored = bytes.loadUnaligned(fromByteOffset: body, as: UInt32.self).littleEndian
        return CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<body])) == stored
    }

    /// The tensor whose bytes lie at `offset` (from `dataStart`) in the mapping, used in place after
    /// checking that `length` matches its type and that the range is aligned and inside a data section
    /// of `dataSize` bytes. `noun` introduces the name in errors ("value"). The tensor keeps the
    /// mapping alive.
    public func tensor(_ noun: String, _ name: String, _ dtype: DType, _ shape: Shape, offset: UInt64, length: UInt64,
                       dataStart: Int, dataSize: Int) throws -> Tensor {
        guard let count = shape.checkedElementCount, case (let byteCount, false) = count.multipliedReportingOverflow(by: dtype.byteSize) else {
            throw InvalidInput(nil, "\(noun) '\(name)' has invalid shape \(shape)")
        }
        guard length == UInt64(byteCount) else {
            throw InvalidInput(nil, "\(noun) '\(name)' \(dtype.shortName)\(shape) needs \(byteCount) bytes, header says \(length)")
        }
        guard offset <= UInt64(dataSize), UInt64(byteCount) <= UInt64(dataSize) - offset, offset % UInt64(Self.alignment) == 0 else {
            throw InvalidInput(nil, "truncated: data of '\(name)' lies outside the file")
        }
        let start = UnsafeMutableRawPointer(mutating: file.base!) + dataStart + Int(offset)
        let file = file
        let storage = TensorStorage(adopting: start, byteCount: byteCount) { _ in withExtendedLifetime(file) {} }
        return Tensor(dtype: dtype, shape: shape, storage: storage)
    }

    /// `offset` rounded up to the alignment.
    static func aligned(_ offset: Int) -> Int { (offset + alignment - 1) / alignment * alignment }
}
