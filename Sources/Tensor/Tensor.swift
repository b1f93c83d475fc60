/// A dense, row-major array of one dtype: a shape over a window of a `TensorStorage`.
///
/// Tensors share storage when reshaped or sliced by `viewing`; writes through one view are seen by
/// the others. serkd's runtime writes parameters in place through their tensors, so a `Tensor` is a
/// handle, not a value to copy-on-write.
public struct Tensor: @unchecked Sendable, CustomStringConvertible {
    /// Element type.
    public let dtype: DType
    /// Extents.
    public let shape: Shape
    /// The memory holding the elements.
    public let storage: TensorStorage
    /// Where the first element sits inside `storage`.
    public let byteOffset: Int

    /// Number of elements.
    public var elementCount: Int { shape.elementCount }
    /// Bytes of element data.
    public var byteCount: Int { shape.elementCount * dtype.byteSize }

    /// Wraps `storage`; the window must fit inside it.
    public init(dtype: DType, shape: Shape, storage: TensorStorage, byteOffset: Int = 0) {
        precondition(byteOffset >= 0 && byteOffset + shape.elementCount * dtype.byteSize <= storage.byteCount,
                     "tensor window \(shape) \(dtype.shortName) at \(byteOffset) exceeds \(storage.byteCount) bytes")
        self.dtype = dtype
        self.shape = shape
        self.storage = storage
        self.byteOffset = byteOffset
    }

    /// A zero-filled tensor.
    public init(zeros dtype: DType, _ shape: Shape) {
        self.init(dtype: dtype, shape: shape, storage: TensorStorage(byteCount: shape.elementCount * dtype.byteSize))
    }

    /// A float32 tensor holding `values` (row-major).
    public init(_ values: [Float], shape: Shape) {
        precondition(values.count == shape.elementCount, "\(values.count) values for shape \(shape)")
        self.init(zeros: .float32, shape)
        values.withUnsafeBytes { rawPointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// An int64 tensor holding `values` (row-major). Integer literals prefer the float32 initialiser;
    /// write `[Int64(1), 2]` to get this one.
    @_disfavoredOverload
    public init(_ values: [Int64], shape: Shape) {
        precondition(values.count == shape.elementCount, "\(values.count) values for shape \(shape)")
        self.init(zeros: .int64, shape)
        values.withUnsafeBytes { rawPointer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    /// A bool tensor holding `values` (row-major), one byte each.
    @_disfavoredOverload
    public init(_ values: [Bool], shape: Shape) {
        precondition(values.count == shape.elementCount, "\(values.count) values for shape \(shape)")
        self.init(zeros: .bool, shape)
        let bytes = rawPointer.assumingMemoryBound(to: UInt8.self)
        for (i, value) in values.enumerated() { bytes[i] = value ? 1 : 0 }
    }

    /// A rank-0 float32 tensor.
    public init(scalar: Float) { self.init([scalar], shape: []) }

    /// A rank-0 int64 tensor.
    public init(scalar: Int64) { self.init([scalar], shape: []) }

    /// The first element's address. Only kernels and loaders should touch this.
    public var rawPointer: UnsafeMutableRawPointer { storage.base + byteOffset }

    /// The same elements under another shape with the same element count (no copy).
    public func reshaped(_ newShape: Shape) -> Tensor {
        precondition(newShape.elementCount == shape.elementCount, "cannot reshape \(shape) to \(newShape)")
        return Tensor(dtype: dtype, shape: newShape, storage: storage, byteOffset: byteOffset)
    }

    /// A deep copy with its own storage.
    public func copy() -> Tensor {
        let result = Tensor(zeros: dtype, shape)
        result.rawPointer.copyMemory(from: rawPointer, byteCount: byteCount)
        return result
    }

    /// The elements of a float32 tensor.
    public var floats: [Float] {
        precondition(dtype == .float32, "floats of a \(dtype.shortName) tensor")
        return Array(UnsafeBufferPointer(start: rawPointer.assumingMemoryBound(to: Float.self), count: elementCount))
    }

    /// The elements of an int64 tensor.
    public var int64s: [Int64] {
        precondition(dtype == .int64, "int64s of a \(dtype.shortName) tensor")
        return Array(UnsafeBufferPointer(start: rawPointer.assumingMemoryBound(to: Int64.self), count: elementCount))
    }

    /// The elements of a bool tensor.
    public var bools: [Bool] {
        precondition(dtype == .bool, "bools of a \(dtype.shortName) tensor")
        return UnsafeBufferPointer(start: rawPointer.assumingMemoryBound(to: UInt8.self), count: elementCount).map { $0 != 0 }
    }

    /// Every element as a Double, whatever the dtype: for references, folding and tests.
    public var doubles: [Double] {
        switch dtype {
        case .float32: floats.map(Double.init)
        case .int64: int64s.map(Double.init)
        case .bool: bools.map { $0 ? 1 : 0 }
        case .bfloat16:
            UnsafeBufferPointer(start: rawPointer.assumingMemoryBound(to: UInt16.self), count: elementCount)
                .map { Double(Float(bitPattern: UInt32($0) << 16)) }
        }
    }

    /// A tensor of `dtype` and `shape` from Doubles, rounding to the element type.
    public init(doubles values: [Double], dtype: DType, shape: Shape) {
        switch dtype {
        case .float32: self.init(values.map { Float($0) }, shape: shape)
        case .int64: self.init(values.map { Int64(exactly: $0.rounded(.towardZero)) ?? ($0 < 0 ? .min : .max) }, shape: shape)
        case .bool: self.init(values.map { $0 != 0 }, shape: shape)
        case .bfloat16:
            self.init(zeros: .bfloat16, shape)
            let out = rawPointer.assumingMemoryBound(to: UInt16.self)
            for (i, value) in values.enumerated() { out[i] = Self.bfloat16Bits(Float(value)) }
        }
    }

    /// The bfloat16 nearest to `value` (ties to even, NaN kept a NaN), as ONNX and PyTorch round.
    public static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x0040 }
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return UInt16((bits &+ rounding) >> 16)
    }

    /// Whether two tensors have the same dtype, shape and bytes.
    public func bitwiseEqual(_ other: Tensor) -> Bool {
        dtype == other.dtype && shape == other.shape && memcmp(rawPointer, other.rawPointer, byteCount) == 0
    }

    /// `f32[2,3]` followed by up to eight elements.
    public var description: String {
        let head: [String]
        switch dtype {
        case .int64: head = int64s.prefix(8).map(String.init)
        case .bool: head = bools.prefix(8).map { $0 ? "1" : "0" }
        default: head = doubles.prefix(8).map { String(Float($0)) }
        }
        return "\(dtype.shortName)\(shape) [\(head.joined(separator: ", "))\(elementCount > 8 ? ", …" : "")]"
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
