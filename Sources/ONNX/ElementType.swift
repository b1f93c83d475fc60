import GraphIR

/// An ONNX tensor element type (`TensorProto.DataType`) and the serkd dtype it is stored as.
///
/// serkd computes in float32, int64 and bool. Other ONNX types are widened where no value changes
/// or where the loss is the one a float32 model expects:
///
/// | ONNX | stored as | note |
/// |---|---|---|
/// | float, int64, bool | float32, int64, bool | no conversion |
/// | float16, bfloat16 | float32 | exact |
/// | double | float32 | rounded to nearest |
/// | int8, uint8, int16, uint16, int32, uint32 | int64 | exact |
/// | uint64 | int64 | exact; values above `Int64.max` are rejected |
/// | string, complex64, complex128, float8/4, int4/uint4 | — | rejected with an error |
struct ElementType: Hashable, CustomStringConvertible {
    /// The `TensorProto.DataType` code.
    let code: Int32

    static let float = ElementType(code: 1)
    static let uint8 = ElementType(code: 2)
    static let int8 = ElementType(code: 3)
    static let uint16 = ElementType(code: 4)
    static let int16 = ElementType(code: 5)
    static let int32 = ElementType(code: 6)
    static let int64 = ElementType(code: 7)
    static let string = ElementType(code: 8)
    static let bool = ElementType(code: 9)
    static let float16 = ElementType(code: 10)
    static let double = ElementType(code: 11)
    static let uint32 = ElementType(code: 12)
    static let uint64 = ElementType(code: 13)
    static let bfloat16 = ElementType(code: 16)

    private static let names: [Int32: String] = [
        0: "undefined", 1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
        8: "string", 9: "bool", 10: "float16", 11: "double", 12: "uint32", 13: "uint64", 14: "complex64",
        15: "complex128", 16: "bfloat16", 17: "float8e4m3fn", 18: "float8e4m3fnuz", 19: "float8e5m2",
        20: "float8e5m2fnuz", 21: "uint4", 22: "int4", 23: "float4e2m1", 24: "float8e8m0", 25: "uint2", 26: "int2",
    ]

    /// ONNX's name for the type (`float32`, `int64`, …).
    var description: String { Self.names[code] ?? "type \(code)" }

    /// Bytes per element in `raw_data`, for the types serkd reads.
    var byteSize: Int? {
        switch code {
        case 1, 6, 12: 4
        case 2, 3, 9: 1
        case 4, 5, 10, 16: 2
        case 7, 11, 13: 8
        default: nil
        }
    }

    /// The dtype serkd stores elements of this type as, or nil when it cannot hold them.
    var storedAs: DType? {
        switch code {
        case 1, 10, 11, 16: .float32
        case 2, 3, 4, 5, 6, 7, 12, 13: .int64
        case 9: .bool
        default: nil
        }
    }

    init(code: Int32) { self.code = code }
}
