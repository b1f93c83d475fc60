import Tensor

/// A zip archive read through its central directory (PKWARE APPNOTE 6.3), as `.npz` files are:
/// stored and deflated members, zip64 sizes and offsets (numpy writes zip64 local headers), no
/// encryption or multi-disk archives. Member bytes are checked against their CRC-32.
public struct ZipArchive: Sendable {
    /// One member as the central directory describes it.
    public struct Entry: Sendable, Hashable {
        /// The member's path in the archive.
        public let name: String
        /// 0 = stored, 8 = deflated.
        public let method: Int
        /// Bytes stored in the archive and bytes after inflating.
        public let compressedSize: Int, uncompressedSize: Int
        /// CRC-32 of the uncompressed bytes.
        public let crc32: UInt32
        /// Where the member's local header starts.
        public let localHeaderOffset: Int
    }

    /// The file's path, for error messages.
    public let path: String
    /// The members in central-directory order.
    public let entries: [Entry]
    private let file: MappedFile

    /// Opens `path` and reads its central directory.
    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        do {
            entries = try file.withUnsafeBytes { try Self.readDirectory($0) }
        } catch let error as InvalidInput {
            throw error.about(path)
        }
    }

    /// The uncompressed bytes of the member called `name`.
    public func contents(of name: String) throws -> [UInt8] {
        guard let entry = entries.first(where: { $0.name == name }) else {
            throw InvalidInput(path, "no member '\(name)' (members: \(entries.map(\.name).joined(separator: ", ")))")
        }
        return try contents(of: entry)
    }

    /// The uncompressed bytes of `entry`.
    public func contents(of entry: Entry) throws -> [UInt8] {
        do {
            return try file.withUnsafeBytes { bytes in
                var cursor = ByteCursor(bytes, offset: entry.localHeaderOffset)
                let start = entry.localHeaderOffset
                guard try cursor.uint32LittleEndian(for: "local header of '\(entry.name)'") == 0x0403_4b50 else {
                    throw InvalidInput(nil, "member '\(entry.name)': no local header signature at byte \(start)")
                }
                try cursor.skip(22, for: "local header of '\(entry.name)'")
                let nameLength = Int(try cursor.uint16LittleEndian(for: "local header of '\(entry.name)'"))
                let extraLength = Int(try cursor.uint16LittleEndian(for: "local header of '\(entry.name)'"))
                try cursor.skip(nameLength + extraLength, for: "local header of '\(entry.name)'")
                let dataStart = cursor.offset
                guard cursor.remaining >= entry.compressedSize else {
                    throw InvalidInput(nil, "truncated member '\(entry.name)' at byte \(dataStart): needs \(entry.compressedSize) bytes, \(cursor.remaining) remain")
                }
                let data = try cursor.slice(entry.compressedSize, for: "member '\(entry.name)'")
                let output: [UInt8]
                switch entry.method {
                case 0:
                    guard entry.compressedSize == entry.uncompressedSize else {
                        throw InvalidInput(nil, "stored member '\(entry.name)' has different compressed and uncompressed sizes")
                    }
                    output = Array(data)
                case 8:
                    do {
                        output = try Compression.inflate(data, framing: .raw, exactCount: entry.uncompressedSize)
                    } catch let error as InvalidInput {
                        throw InvalidInput(nil, "member '\(entry.name)' at byte \(dataStart): \(error.problem)")
                    }
                default:
                    throw InvalidInput(nil, "member '\(entry.name)' uses compression method \(entry.method) (only stored and deflate are supported)")
                }
                let crc = output.withUnsafeBytes { CRC32.checksum($0) }
                guard crc == entry.crc32 else {
                    throw InvalidInput(nil, "member '\(entry.name)' at byte \(dataStart) fails its CRC check (stored \(entry.crc32), computed \(crc))")
                }
                return output
            }
        } catch let error as InvalidInput {
            throw error.about(path)
        }
    }

    private static func readDirectory(_ bytes: UnsafeRawBufferPointer) throws -> [Entry] {
        // The end-of-central-directory record is the last 22 bytes plus a comment of up to 64 KiB.
        guard bytes.count >= 22 else { throw InvalidInput(nil, "not a zip archive (\(bytes.count) bytes, too short)") }
        var end = -1
        var candidate = bytes.count - 22
        while candidate >= max(0, bytes.count - 22 - 0xFFFF) {
            if bytes[candidate] == 0x50, bytes[candidate + 1] == 0x4b, bytes[candidate + 2] == 0x05, bytes[candidate + 3] == 0x06 {
                end = candidate
                break
            }
            candidate -= 1
        }
        guard end >= 0 else { throw InvalidInput(nil, "not a zip archive (no end-of-central-directory record)") }
        var cursor = ByteCursor(bytes, offset: end + 4)
        let what = "end-of-central-directory record"
        let disk = try cursor.uint16LittleEndian(for: what)
        let directoryDisk = try cursor.uint16LittleEndian(for: what)
        _ = try cursor.uint16LittleEndian(for: what)
        var count = Int(try cursor.uint16LittleEndian(for: what))
        var directorySize = Int(try cursor.uint32LittleEndian(for: what))
        var directoryOffset = Int(try cursor.uint32LittleEndian(for: what))
        guard disk == 0, directoryDisk == 0 else { throw InvalidInput(nil, "multi-disk zip archives are not supported") }

        if count == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // Zip64: a locator just before the record points at the zip64 end record.
            guard end >= 20 else { throw InvalidInput(nil, "zip64 archive without a zip64 locator before byte \(end)") }
            var locator = ByteCursor(bytes, offset: end - 20)
            guard try locator.uint32LittleEndian(for: "zip64 locator") == 0x0706_4b50 else {
                throw InvalidInput(nil, "zip64 archive without a zip64 locator at byte \(end - 20)")
            }
            _ = try locator.uint32LittleEndian(for: "zip64 locator")
            let recordOffset = try locator.uint64LittleEndian(for: "zip64 locator")
            guard recordOffset < UInt64(bytes.count) else { throw InvalidInput(nil, "zip64 end record offset \(recordOffset) is past the end of the file") }
            var record = ByteCursor(bytes, offset: Int(recordOffset))
            guard try record.uint32LittleEndian(for: "zip64 end record") == 0x0606_4b50 else {
                throw InvalidInput(nil, "no zip64 end record at byte \(recordOffset)")
            }
            try record.skip(8 + 2 + 2 + 4 + 4 + 8, for: "zip64 end record")
            count = try checkedInt(record.uint64LittleEndian(for: "zip64 end record"), "entry count")
            directorySize = try checkedInt(record.uint64LittleEndian(for: "zip64 end record"), "central directory size")
            directoryOffset = try checkedInt(record.uint64LittleEndian(for: "zip64 end record"), "central directory offset")
        }
        guard directoryOffset <= bytes.count, directorySize <= bytes.count - directoryOffset else {
            throw InvalidInput(nil, "central directory (\(directorySize) bytes at byte \(directoryOffset)) lies outside the \(bytes.count)-byte file")
        }

        var entries: [Entry] = []
        var directory = ByteCursor(bytes, offset: directoryOffset)
        for index in 0..<count {
            let start = directory.offset
            let what = "central directory entry \(index)"
            guard try directory.uint32LittleEndian(for: what) == 0x0201_4b50 else {
                throw InvalidInput(nil, "\(what) at byte \(start) has no signature")
            }
            try directory.skip(4, for: what)
            let flags = try directory.uint16LittleEndian(for: what)
            let method = Int(try directory.uint16LittleEndian(for: what))
            try directory.skip(4, for: what)
            let crc = try directory.uint32LittleEndian(for: what)
            var compressed = UInt64(try directory.uint32LittleEndian(for: what))
            var uncompressed = UInt64(try directory.uint32LittleEndian(for: what))
            let nameLength = Int(try directory.uint16LittleEndian(for: what))
            let extraLength = Int(try directory.uint16LittleEndian(for: what))
            let commentLength = Int(try directory.uint16LittleEndian(for: what))
            try directory.skip(8, for: what)
            var localOffset = UInt64(try directory.uint32LittleEndian(for: what))
            let name = String(decoding: try directory.slice(nameLength, for: what), as: UTF8.self)
            var extra = ByteCursor(try directory.slice(extraLength, for: what))
            try directory.skip(commentLength, for: what)
            guard flags & 1 == 0 else { throw InvalidInput(nil, "member '\(name)' is encrypted") }
            // The zip64 extra field holds, in this order, whichever 32-bit fields are saturated.
            while extra.remaining >= 4 {
                let id = try extra.uint16LittleEndian(for: "extra field")
                let size = Int(try extra.uint16LittleEndian(for: "extra field"))
                var field = ByteCursor(try extra.slice(size, for: "extra field of '\(name)'"))
                guard id == 0x0001 else { continue }
                if uncompressed == 0xFFFF_FFFF { uncompressed = try field.uint64LittleEndian(for: "zip64 field of '\(name)'") }
                if compressed == 0xFFFF_FFFF { compressed = try field.uint64LittleEndian(for: "zip64 field of '\(name)'") }
                if localOffset == 0xFFFF_FFFF { localOffset = try field.uint64LittleEndian(for: "zip64 field of '\(name)'") }
            }
            let entry = Entry(name: name, method: method, compressedSize: try checkedInt(compressed, "size of '\(name)'"),
                              uncompressedSize: try checkedInt(uncompressed, "size of '\(name)'"), crc32: crc,
                              localHeaderOffset: try checkedInt(localOffset, "offset of '\(name)'"))
            guard entry.localHeaderOffset < bytes.count, entry.compressedSize <= bytes.count else {
                throw InvalidInput(nil, "member '\(name)' (\(entry.compressedSize) bytes at byte \(entry.localHeaderOffset)) lies outside the \(bytes.count)-byte file")
            }
            // Deflate expands at most ~1032:1; a larger declared size is a lie, refused before allocating.
            guard entry.uncompressedSize <= entry.compressedSize * 1032 + 1024 else {
                throw InvalidInput(nil, "member '\(name)' declares \(entry.uncompressedSize) bytes from \(entry.compressedSize) compressed bytes")
            }
            entries.append(entry)
        }
        return entries
    }

    private static func checkedInt(_ value: UInt64, _ what: String) throws -> Int {
        guard value <= UInt64(Int.max >> 1) else { throw InvalidInput(nil, "\(what) \(value) is too large") }
        return Int(value)
    }
}
