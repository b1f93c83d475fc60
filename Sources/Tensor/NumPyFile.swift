import Foundation

/// Reading and writing NumPy `.npy` files (format versions 1–3, C order).
///
/// float32, int64 and bool arrays load as they are; float64 loads as float32 and the smaller integer
/// types as int64, because serkd computes only in those. Everything about the header is checked
/// against the bytes present before anything is allocated.
public enum NumPyFile {
    private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// Reads the array in the file at `path`.
    public static func read(_ path: String) throws -> Tensor {
        let file = try MappedFile(path: path)
        do {
            return try file.withUnsafeBytes { try decode($0) }
        } catch let error as InvalidInput {
            throw error.about(path)
        }
    }

    /// Decodes a whole `.npy` image.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> Tensor {
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw InvalidInput(nil, "not a .npy file (bad magic)") }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw InvalidInput(nil, "truncated .npy header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        default:
            throw InvalidInput(nil, "unsupported .npy version \(major)")
        }
        guard headerStart + headerLength <= bytes.count else { throw InvalidInput(nil, "truncated .npy header") }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let descr = try field("descr", in: header)
        let fortran = try field("fortran_order", in: header)
        let shapeText = try field("shape", in: header)
        guard fortran.hasPrefix("False") else { throw InvalidInput(nil, "Fortran-order arrays are not supported") }
        let shape = try parseShape(shapeText)
        guard let count = shape.checkedElementCount else { throw InvalidInput(nil, "invalid shape \(shapeText)") }
        let source = try ElementType(descr)
        let dataStart = headerStart + headerLength
        let (needed, overflow) = count.multipliedReportingOverflow(by: source.size)
        guard !overflow else { throw InvalidInput(nil, "array \(shape) of \(descr) has more bytes than an address space holds") }
        guard bytes.count - dataStart >= needed else {
            throw InvalidInput(nil, "array \(shape) of \(descr) needs \(needed) bytes, file has \(bytes.count - dataStart)")
        }
        // Small integers widen to int64: the array in memory can be 8 times its bytes in the file.
        try MemoryLimit.check(count * source.dtype.byteSize, for: "array \(shape) of \(descr)")
        let data = UnsafeRawBufferPointer(rebasing: bytes[dataStart..<(dataStart + needed)])
        return source.decode(data, count: count, shape: shape)
    }

    /// Writes a float32, int64 or bool tensor to `path` (atomically).
    public static func write(_ tensor: Tensor, to path: String) throws {
        try AtomicFile.write(encode(tensor), to: path)
    }

    /// The `.npy` (version 1.0) image of a tensor.
    public static func encode(_ tensor: Tensor) -> [UInt8] {
        let descr: String
        switch tensor.dtype {
        case .float32: descr = "<f4"
        case .int64: descr = "<i8"
        case .bool: descr = "|b1"
        case .bfloat16: preconditionFailure(".npy has no bfloat16")
        }
        let dims = tensor.shape.dims.map(String.init)
        let shapeText = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad so the data starts on a 64-byte boundary, as numpy does.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var bytes = magic + [1, 0, UInt8(header.utf8.count & 0xff), UInt8(header.utf8.count >> 8)]
        bytes += Array(header.utf8)
        bytes += Array(UnsafeRawBufferPointer(start: tensor.rawPointer, count: tensor.byteCount))
        return bytes
    }

    /// The text of `key`'s value in the header dictionary, up to the next top-level comma.
    private static func field(_ key: String, in header: String) throws -> String {
        guard let range = header.range(of: "'\(key)':") else { throw InvalidInput(nil, "header has no '\(key)'") }
        let rest = header[range.upperBound...].drop { $0 == " " }
        var depth = 0
        var end = rest.startIndex
        for index in rest.indices {
            let c = rest[index]
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if (c == "," && depth == 0) || c == "}" { break }
            end = rest.index(after: index)
        }
        return String(rest[rest.startIndex..<end]).trimmingCharacters(in: CharacterSet(charactersIn: " '\""))
    }

    private static func parseShape(_ text: String) throws -> Shape {
        guard text.hasPrefix("("), text.hasSuffix(")") else { throw InvalidInput(nil, "invalid shape \(text)") }
        let parts = text.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let dims = try parts.map { part -> Int in
            guard let value = Int(part), value >= 0 else { throw InvalidInput(nil, "invalid shape \(text)") }
            return value
        }
        return Shape(dims)
    }

    /// The element types a `.npy` may hold and how each converts to a serkd dtype.
    private enum ElementType {
        case float32, float64, int64, int32, int16, int8, uint8, uint16, uint32, bool

        init(_ descr: String) throws {
            switch descr {
            case "<f4", "=f4": self = .float32
            case "<f8", "=f8": self = .float64
            case "<i8", "=i8": self = .int64
            case "<i4", "=i4": self = .int32
            case "<i2", "=i2": self = .int16
            case "|i1", "<i1": self = .int8
            case "|u1", "<u1": self = .uint8
            case "<u2", "=u2": self = .uint16
            case "<u4", "=u4": self = .uint32
            case "|b1": self = .bool
            default: throw InvalidInput(nil, "unsupported element type '\(descr)' (expected little-endian float or integer)")
            }
        }

        /// The dtype it loads as.
        var dtype: DType {
            switch self {
            case .float32, .float64: .float32
            case .bool: .bool
            case .int64, .int32, .int16, .int8, .uint8, .uint16, .uint32: .int64
            }
        }

        var size: Int {
            switch self {
            case .float64, .int64: 8
            case .float32, .int32, .uint32: 4
            case .int16, .uint16: 2
            case .int8, .uint8, .bool: 1
            }
        }

        func decode(_ data: UnsafeRawBufferPointer, count: Int, shape: Shape) -> Tensor {
            func convert<Source, Target>(_: Source.Type, _ target: DType, _ map: (Source) -> Target) -> Tensor {
                let tensor = Tensor(zeros: target, shape)
                let out = tensor.rawPointer.assumingMemoryBound(to: Target.self)
                for i in 0..<count { out[i] = map(data.loadUnaligned(fromByteOffset: i * MemoryLayout<Source>.size, as: Source.self)) }
                return tensor
            }
            switch self {
            case .float32: return convert(Float.self, .float32) { $0 }
            case .float64: return convert(Double.self, .float32) { Float($0) }
            case .int64: return convert(Int64.self, .int64) { $0 }
            case .int32: return convert(Int32.self, .int64) { Int64($0) }
            case .int16: return convert(Int16.self, .int64) { Int64($0) }
            case .int8: return convert(Int8.self, .int64) { Int64($0) }
            case .uint8: return convert(UInt8.self, .int64) { Int64($0) }
            case .uint16: return convert(UInt16.self, .int64) { Int64($0) }
            case .uint32: return convert(UInt32.self, .int64) { Int64($0) }
            case .bool: return convert(UInt8.self, .bool) { $0 != 0 ? UInt8(1) : 0 }
            }
        }
    }
}
