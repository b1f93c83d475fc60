import CProto
import Foundation
import GraphIR

// ONNX models described in Swift and serialized with protobuf-c, so each test writes the exact
// (small, sometimes deliberately broken) file it needs without Python.

/// A tensor for an initializer, a `Constant` attribute or a conformance `.pb` file.
struct TensorSpec {
    var name: String
    var dims: [Int64]
    /// ONNX `TensorProto.DataType` code.
    var dataType: Int32
    var raw: [UInt8]?
    var floatData: [Float] = []
    var int32Data: [Int32] = []
    var int64Data: [Int64] = []
    var doubleData: [Double] = []
    var uint64Data: [UInt64] = []
    var external: [(String, String)] = []

    /// A float32 tensor stored in `raw_data`.
    static func floats(_ name: String, _ dims: [Int64], _ values: [Float]) -> TensorSpec {
        TensorSpec(name: name, dims: dims, dataType: 1, raw: values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) })
    }

    /// An int64 tensor stored in `raw_data`.
    static func int64s(_ name: String, _ dims: [Int64], _ values: [Int64]) -> TensorSpec {
        TensorSpec(name: name, dims: dims, dataType: 7, raw: values.flatMap { withUnsafeBytes(of: $0.littleEndian, Array.init) })
    }

    func build(_ arena: ProtobufArena) -> UnsafeMutablePointer<Onnx__TensorProto> {
        arena.message { onnx__tensor_proto__init($0) }.filled { t in
            t.name = arena.string(name)
            t.n_dims = dims.count
            t.dims = arena.array(dims)
            t.has_data_type = 1
            t.data_type = dataType
            if let raw {
                t.has_raw_data = 1
                t.raw_data = ProtobufCBinaryData(len: raw.count, data: arena.array(raw))
            }
            (t.n_float_data, t.float_data) = (floatData.count, arena.array(floatData))
            (t.n_int32_data, t.int32_data) = (int32Data.count, arena.array(int32Data))
            (t.n_int64_data, t.int64_data) = (int64Data.count, arena.array(int64Data))
            (t.n_double_data, t.double_data) = (doubleData.count, arena.array(doubleData))
            (t.n_uint64_data, t.uint64_data) = (uint64Data.count, arena.array(uint64Data))
            if !external.isEmpty {
                t.has_data_location = 1
                t.data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL
                t.n_external_data = external.count
                t.external_data = arena.array(external.map { Optional(entry($0.0, $0.1, arena)) })
            }
        }
    }

    /// The serialized `TensorProto` (the format of conformance `input_N.pb` files).
    func serialized() -> [UInt8] {
        let arena = ProtobufArena()
        let message = build(arena)
        var bytes = [UInt8](repeating: 0, count: onnx__tensor_proto__get_packed_size(message))
        _ = onnx__tensor_proto__pack(message, &bytes)
        return bytes
    }
}

/// A node attribute.
enum AttributeSpec {
    case int(String, Int)
    case ints(String, [Int])
    case float(String, Float)
    case floats(String, [Float])
    case string(String, String)
    case tensor(String, TensorSpec)
    /// An attribute of a function body referring to the caller's attribute.
    case reference(String, to: String, type: Int)

    func build(_ arena: ProtobufArena) -> UnsafeMutablePointer<Onnx__AttributeProto> {
        arena.message { onnx__attribute_proto__init($0) }.filled { a in
            a.has_type = 1
            switch self {
            case .int(let name, let value):
                a.name = arena.string(name)
                a.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT
                (a.has_i, a.i) = (1, Int64(value))
            case .ints(let name, let values):
                a.name = arena.string(name)
                a.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
                (a.n_ints, a.ints) = (values.count, arena.array(values.map(Int64.init)))
            case .float(let name, let value):
                a.name = arena.string(name)
                a.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
                (a.has_f, a.f) = (1, value)
            case .floats(let name, let values):
                a.name = arena.string(name)
                a.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
                (a.n_floats, a.floats) = (values.count, arena.array(values))
            case .string(let name, let value):
                a.name = arena.string(name)
                a.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
                let bytes = Array(value.utf8)
                (a.has_s, a.s) = (1, ProtobufCBinaryData(len: bytes.count, data: arena.array(bytes)))
            case .tensor(let name, let tensor):
                a.name = arena.string(name)
                a.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR
                a.t = tensor.build(arena)
            case .reference(let name, let target, let type):
                a.name = arena.string(name)
                a.ref_attr_name = arena.string(target)
                a.type = Onnx__AttributeProto__AttributeType(rawValue: UInt32(type))
            }
        }
    }
}

/// A node.
struct NodeSpec {
    var op: String
    var inputs: [String]
    var outputs: [String]
    var attributes: [AttributeSpec] = []
    var name = ""
    var domain = ""

    init(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [AttributeSpec] = [], name: String = "", domain: String = "") {
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
        self.name = name
        self.domain = domain
    }

    func build(_ arena: ProtobufArena) -> UnsafeMutablePointer<Onnx__NodeProto> {
        arena.message { onnx__node_proto__init($0) }.filled { n in
            n.op_type = arena.string(op)
            n.name = arena.string(name)
            n.domain = arena.string(domain)
            (n.n_input, n.input) = (inputs.count, arena.array(inputs.map { Optional(arena.string($0)) }))
            (n.n_output, n.output) = (outputs.count, arena.array(outputs.map { Optional(arena.string($0)) }))
            (n.n_attribute, n.attribute) = (attributes.count, arena.array(attributes.map { Optional($0.build(arena)) }))
        }
    }
}

/// A graph input or output: name, element type, dims (nil = symbolic, named by `symbol`).
struct PortSpec {
    var name: String
    var dataType: Int32 = 1
    var dims: [Int?]
    var symbol = "N"

    init(_ name: String, _ dims: [Int?], type: Int32 = 1, symbol: String = "N") {
        self.name = name
        self.dims = dims
        self.dataType = type
        self.symbol = symbol
    }

    func build(_ arena: ProtobufArena) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let shape = arena.message { onnx__tensor_shape_proto__init($0) }.filled { s in
            s.n_dim = dims.count
            s.dim = arena.array(dims.map { extent in
                Optional(arena.message { onnx__tensor_shape_proto__dimension__init($0) }.filled { d in
                    if let extent {
                        d.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                        d.dim_value = Int64(extent)
                    } else {
                        d.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                        d.dim_param = arena.string(symbol)
                    }
                })
            })
        }
        let tensorType = arena.message { onnx__type_proto__tensor__init($0) }.filled { t in
            (t.has_elem_type, t.elem_type) = (1, dataType)
            t.shape = shape
        }
        let type = arena.message { onnx__type_proto__init($0) }.filled { t in
            t.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
            t.tensor_type = tensorType
        }
        return arena.message { onnx__value_info_proto__init($0) }.filled { v in
            v.name = arena.string(name)
            v.type = type
        }
    }
}

/// A local function.
struct FunctionSpec {
    var name: String
    var domain: String
    var inputs: [String]
    var outputs: [String]
    var attributes: [String] = []
    var nodes: [NodeSpec]
}

/// A whole model.
struct ModelSpec {
    var opset = 17
    var otherOpsets: [(String, Int)] = []
    var inputs: [PortSpec] = []
    var outputs: [PortSpec] = []
    var initializers: [TensorSpec] = []
    var nodes: [NodeSpec] = []
    var functions: [FunctionSpec] = []
    var producer = "serkd tests"
    var metadata: [(String, String)] = []

    /// The serialized `ModelProto`.
    func serialized() -> [UInt8] {
        let arena = ProtobufArena()
        let graph = arena.message { onnx__graph_proto__init($0) }.filled { g in
            g.name = arena.string("test")
            (g.n_node, g.node) = (nodes.count, arena.array(nodes.map { Optional($0.build(arena)) }))
            (g.n_input, g.input) = (inputs.count, arena.array(inputs.map { Optional($0.build(arena)) }))
            (g.n_output, g.output) = (outputs.count, arena.array(outputs.map { Optional($0.build(arena)) }))
            (g.n_initializer, g.initializer) = (initializers.count, arena.array(initializers.map { Optional($0.build(arena)) }))
        }
        let opsets = [("", opset)] + otherOpsets
        let functionMessages = functions.map { f in
            Optional(arena.message { onnx__function_proto__init($0) }.filled { m in
                m.name = arena.string(f.name)
                m.domain = arena.string(f.domain)
                (m.n_input, m.input) = (f.inputs.count, arena.array(f.inputs.map { Optional(arena.string($0)) }))
                (m.n_output, m.output) = (f.outputs.count, arena.array(f.outputs.map { Optional(arena.string($0)) }))
                (m.n_attribute, m.attribute) = (f.attributes.count, arena.array(f.attributes.map { Optional(arena.string($0)) }))
                (m.n_node, m.node) = (f.nodes.count, arena.array(f.nodes.map { Optional($0.build(arena)) }))
                m.n_opset_import = 1
                m.opset_import = arena.array([Optional(opsetEntry("", opset, arena))])
            })
        }
        let model = arena.message { onnx__model_proto__init($0) }.filled { m in
            (m.has_ir_version, m.ir_version) = (1, 8)
            m.producer_name = arena.string(producer)
            m.graph = graph
            (m.n_opset_import, m.opset_import) = (opsets.count, arena.array(opsets.map { Optional(opsetEntry($0.0, $0.1, arena)) }))
            (m.n_functions, m.functions) = (functionMessages.count, arena.array(functionMessages))
            (m.n_metadata_props, m.metadata_props) = (metadata.count, arena.array(metadata.map { Optional(entry($0.0, $0.1, arena)) }))
        }
        var bytes = [UInt8](repeating: 0, count: onnx__model_proto__get_packed_size(model))
        _ = onnx__model_proto__pack(model, &bytes)
        return bytes
    }

    /// Writes the model to `path`.
    func write(to path: String) throws {
        try Data(serialized()).write(to: URL(fileURLWithPath: path))
    }
}

private func opsetEntry(_ domain: String, _ version: Int, _ arena: ProtobufArena) -> UnsafeMutablePointer<Onnx__OperatorSetIdProto> {
    arena.message { onnx__operator_set_id_proto__init($0) }.filled { o in
        o.domain = arena.string(domain)
        (o.has_version, o.version) = (1, Int64(version))
    }
}

private func entry(_ key: String, _ value: String, _ arena: ProtobufArena) -> UnsafeMutablePointer<Onnx__StringStringEntryProto> {
    arena.message { onnx__string_string_entry_proto__init($0) }.filled { e in
        e.key = arena.string(key)
        e.value = arena.string(value)
    }
}

extension UnsafeMutablePointer {
    /// Sets fields of the pointee and returns the pointer.
    func filled(_ body: (inout Pointee) -> Void) -> UnsafeMutablePointer {
        body(&pointee)
        return self
    }
}

/// A fresh folder under the system temporary directory, removed by `remove()`.
struct ScratchFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "serkd-onnx-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
