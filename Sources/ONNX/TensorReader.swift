#if canImport(Glibc)
import Glibc
#endif
import CProto
import GraphIR

/// Where a tensor's elements were stored in the ONNX file.
enum TensorSource {
    /// `raw_data` bytes (what exporters write).
    case rawData
    /// The typed repeated fields (`float_data`, `int64_data`, …).
    case typedFields
    /// A file next to the model (`data_location = EXTERNAL`).
    case external
}

/// Decodes `TensorProto`s into tensors, checking every declared size against the bytes present
/// before allocating anything.
///
/// Buffers protobuf-c already allocated (`raw_data`, `float_data`, `int64_data`) become the tensor's
/// storage when no conversion is needed: they are taken out of the message, so protobuf-c does not
/// free them and nothing is copied. External data is mapped copy-on-write, so the runtime may update
/// weights in place without touching the file.
struct TensorReader {
    /// The file named in messages.
    let file: String
    /// The folder external-data locations are relative to.
    let folder: String
    /// External files used so far (resolved paths).
    private(set) var externalFiles: Set<String> = []

    init(file: String, folder: String) {
        self.file = file
        self.folder = folder
    }

    /// Decodes `proto`; `what` names it in errors (e.g. "initializer 'fc.weight'").
    mutating func read(_ proto: UnsafeMutablePointer<Onnx__TensorProto>, what: String) throws -> (tensor: Tensor, source: TensorSource) {
        func fail(_ problem: String) -> InvalidInput { InvalidInput(file, "\(what): \(problem)") }
        let message = proto.pointee
        let type = ElementType(code: message.has_data_type != 0 ? message.data_type : 0)
        guard let dtype = type.storedAs, let elementSize = type.byteSize else {
            throw fail("element type \(type) is not supported (serkd reads float, integer and bool tensors)")
        }
        let dims = scalars(message.dims, message.n_dims)
        guard dims.allSatisfy({ $0 >= 0 && $0 <= Int64(Int.max) }) else { throw fail("dims \(dims) have a negative extent") }
        let shape = Shape(dims.map { Int($0) })
        guard let count = shape.checkedElementCount, count <= ShapeLimits.maxElements,
              case let (byteCount, overflow) = count.multipliedReportingOverflow(by: elementSize), !overflow else {
            throw fail("dims \(shape) are too large")
        }

        if message.has_data_location != 0 && message.data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL {
            let reference = try ExternalData(entries(message.external_data, message.n_external_data), file: file, what: what)
            let path = try reference.resolve(in: folder, file: file, what: what)
            let storage = try reference.map(path: path, byteCount: byteCount, file: file, what: what, type: type, shape: shape)
            externalFiles.insert(path)
            return (try Self.tensor(from: storage, type: type, dtype: dtype, shape: shape, count: count, fail: fail), .external)
        }

        if message.has_raw_data != 0 {
            guard message.raw_data.len == byteCount else {
                throw fail("raw_data holds \(message.raw_data.len) bytes, but \(type)\(shape) needs \(byteCount)")
            }
            guard byteCount > 0, let data = message.raw_data.data else { return (Tensor(zeros: dtype, shape), .rawData) }
            // Take the buffer: protobuf-c frees only what the message still points to.
            let storage = TensorStorage(adopting: UnsafeMutableRawPointer(data), byteCount: byteCount, release: { free($0) })
            proto.pointee.raw_data = ProtobufCBinaryData(len: 0, data: nil)
            proto.pointee.has_raw_data = 0
            return (try Self.tensor(from: storage, type: type, dtype: dtype, shape: shape, count: count, fail: fail), .rawData)
        }

        return (try readTypedFields(proto, type: type, dtype: dtype, shape: shape, count: count, fail: fail), .typedFields)
    }

    /// Elements held in `storage` as little-endian `type`, converted to `dtype` when they differ.
    /// Float32 and int64 elements at their natural alignment are used in place.
    static func tensor(from storage: TensorStorage, type: ElementType, dtype: DType, shape: Shape, count: Int,
                       fail: (String) -> InvalidInput) throws -> Tensor {
        let bytes = UnsafeRawPointer(storage.base)
        let aligned = Int(bitPattern: storage.base) % dtype.byteSize == 0
        switch type {
        case .float, .int64:
            if aligned { return Tensor(dtype: dtype, shape: shape, storage: storage) }
            let copy = Tensor(zeros: dtype, shape)
            copy.rawPointer.copyMemory(from: bytes, byteCount: count * dtype.byteSize)
            return copy
        case .bool:
            let copy = Tensor(zeros: .bool, shape)
            let out = copy.rawPointer.assumingMemoryBound(to: UInt8.self)
            for i in 0..<count { out[i] = bytes.load(fromByteOffset: i, as: UInt8.self) != 0 ? 1 : 0 }
            return copy
        case .float16:
            return floats(shape, count) { Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) }
        case .bfloat16:
            return floats(shape, count) { Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) << 16) }
        case .double:
            return floats(shape, count) { Float(bytes.loadUnaligned(fromByteOffset: 8 * $0, as: Double.self)) }
        case .int8: return integers(shape, count) { Int64(bytes.loadUnaligned(fromByteOffset: $0, as: Int8.self)) }
        case .uint8: return integers(shape, count) { Int64(bytes.loadUnaligned(fromByteOffset: $0, as: UInt8.self)) }
        case .int16: return integers(shape, count) { Int64(bytes.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self)) }
        case .uint16: return integers(shape, count) { Int64(bytes.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)) }
        case .int32: return integers(shape, count) { Int64(bytes.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self)) }
        case .uint32: return integers(shape, count) { Int64(bytes.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)) }
        case .uint64:
            let values = (0..<count).map { bytes.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self) }
            return try unsigned64(values, shape: shape, fail: fail)
        default:
            throw fail("element type \(type) is not supported")
        }
    }

    /// Elements from the typed repeated fields, which ONNX uses per element type as follows:
    /// float → `float_data`; int64 → `int64_data`; double → `double_data`; uint32/uint64 →
    /// `uint64_data`; every other type (including float16/bfloat16 bit patterns and bool) → `int32_data`.
    private func readTypedFields(_ proto: UnsafeMutablePointer<Onnx__TensorProto>, type: ElementType, dtype: DType, shape: Shape,
                                 count: Int, fail: (String) -> InvalidInput) throws -> Tensor {
        let message = proto.pointee
        func check(_ present: Int, _ field: String) throws {
            guard present == count else {
                throw fail(present == 0 && count > 0 ? "has no data" : "\(field) holds \(present) values, but \(type)\(shape) needs \(count)")
            }
        }
        if count == 0 { return Tensor(zeros: dtype, shape) }
        switch type {
        case .float:
            try check(message.n_float_data, "float_data")
            let storage = TensorStorage(adopting: UnsafeMutableRawPointer(message.float_data!), byteCount: count * 4, release: { free($0) })
            proto.pointee.float_data = nil
            proto.pointee.n_float_data = 0
            return Tensor(dtype: .float32, shape: shape, storage: storage)
        case .int64:
            try check(message.n_int64_data, "int64_data")
            let storage = TensorStorage(adopting: UnsafeMutableRawPointer(message.int64_data!), byteCount: count * 8, release: { free($0) })
            proto.pointee.int64_data = nil
            proto.pointee.n_int64_data = 0
            return Tensor(dtype: .int64, shape: shape, storage: storage)
        case .double:
            try check(message.n_double_data, "double_data")
            let values = message.double_data!
            return Self.floats(shape, count) { Float(values[$0]) }
        case .uint32, .uint64:
            try check(message.n_uint64_data, "uint64_data")
            return try Self.unsigned64(scalars(message.uint64_data, count), shape: shape, fail: fail)
        default:
            try check(message.n_int32_data, "int32_data")
            let values = message.int32_data!
            switch type {
            case .bool: return Tensor((0..<count).map { values[$0] != 0 }, shape: shape)
            case .float16: return Self.floats(shape, count) { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: values[$0]))) }
            case .bfloat16: return Self.floats(shape, count) { Float(bitPattern: UInt32(UInt16(truncatingIfNeeded: values[$0])) << 16) }
            default: return Self.integers(shape, count) { Int64(values[$0]) }
            }
        }
    }

    private static func floats(_ shape: Shape, _ count: Int, _ element: (Int) -> Float) -> Tensor {
        let result = Tensor(zeros: .float32, shape)
        let out = result.rawPointer.assumingMemoryBound(to: Float.self)
        for i in 0..<count { out[i] = element(i) }
        return result
    }

    private static func integers(_ shape: Shape, _ count: Int, _ element: (Int) -> Int64) -> Tensor {
        let result = Tensor(zeros: .int64, shape)
        let out = result.rawPointer.assumingMemoryBound(to: Int64.self)
        for i in 0..<count { out[i] = element(i) }
        return result
    }

    private static func unsigned64(_ values: [UInt64], shape: Shape, fail: (String) -> InvalidInput) throws -> Tensor {
        guard let tooLarge = values.first(where: { $0 > UInt64(Int64.max) }) else {
            return Tensor(values.map { Int64($0) }, shape: shape)
        }
        throw fail("value \(tooLarge) does not fit in int64")
    }
}

/// Bounds on shapes read or computed from a model, so hostile files cannot make the importer
/// allocate or multiply past what a machine can hold.
enum ShapeLimits {
    /// The most elements any tensor may have (2⁴⁰).
    static let maxElements = 1 << 40
}
