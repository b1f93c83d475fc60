/// The element types serkd stores and computes with.
///
/// Raw values are ONNX's `TensorProto.DataType` codes, so conversion to and from ONNX is the identity.
/// `bfloat16` is reserved for mixed-precision work; no kernel computes in it yet.
public enum DType: Int32, Sendable, CaseIterable, Hashable, Codable {
    case float32 = 1
    case bool = 9
    case int64 = 7
    case bfloat16 = 16

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float32: 4
        case .int64: 8
        case .bool: 1
        case .bfloat16: 2
        }
    }

    /// The short name used in the IR text form (`f32`, `i64`, `bool`, `bf16`).
    public var shortName: String {
        switch self {
        case .float32: "f32"
        case .int64: "i64"
        case .bool: "bool"
        case .bfloat16: "bf16"
        }
    }

    /// Parses a short name produced by `shortName`.
    public init?(shortName: String) {
        guard let match = DType.allCases.first(where: { $0.shortName == shortName }) else { return nil }
        self = match
    }
}
