import CProto
import GraphIR

// The ONNX model being exported, as plain Swift values, and its packing into protobuf-c messages.
// Packing streams to the file, and initializers point at the tensors' own storage, so a model is
// never held twice in memory.

/// A node attribute of an exported node.
enum ExportedAttribute {
    case int(String, Int)
    case ints(String, [Int])
    case float(String, Float)
    case string(String, String)
}

/// An exported node; an empty input name is an omitted optional input.
struct ExportedNode {
    var opType: String
    var name: String
    var inputs: [String]
    var outputs: [String]
    var attributes: [ExportedAttribute] = []
}

/// One axis of a graph input or output.
enum ExportedDimension: Equatable {
    case fixed(Int)
    case symbolic(String)
}

/// A graph input or output.
struct ExportedPort {
    var name: String
    var dtype: DType
    var dims: [ExportedDimension]
}

/// An ONNX graph: nodes in execution order, initializers, and the calling convention.
struct ExportedGraph {
    var name: String
    var nodes: [ExportedNode] = []
    var initializers: [(name: String, tensor: Tensor)] = []
    var inputs: [ExportedPort] = []
    var outputs: [ExportedPort] = []
}

/// A whole ONNX model, ready to pack.
struct ExportedModel {
    var graph: ExportedGraph
    var opset: Int
    var producerVersion: String
    var metadata: [(key: String, value: String)]

    /// The IR version that goes with each opset (ONNX's versioning table).
    var irVersion: Int64 {
        switch opset {
        case ...14: 7
        case 15...18: 8
        case 19...20: 9
        default: 10
        }
    }

    /// protobuf (and so every ONNX reader) cannot parse a message of 2 GiB or more.
    static let sizeLimit = Int(Int32.max)

    /// Packs the model into `path` atomically.
    func write(to path: String) throws {
        let arena = ProtobufArena()
        let message = build(arena)
        let size = onnx__model_proto__get_packed_size(message)
        guard size < Self.sizeLimit else {
            throw InvalidInput(path, "the model needs \(size) bytes, beyond ONNX's 2 GiB limit for one protobuf file")
        }
        let file = try AtomicFile(path: path)
        let sink = ProtobufSink(file: file)
        try sink.pack(message)
        try file.commit()
    }

    /// The packed model.
    func serialized() -> [UInt8] {
        let arena = ProtobufArena()
        let message = build(arena)
        var bytes = [UInt8](repeating: 0, count: onnx__model_proto__get_packed_size(message))
        _ = onnx__model_proto__pack(message, &bytes)
        return bytes
    }

    private func build(_ arena: ProtobufArena) -> UnsafeMutablePointer<Onnx__ModelProto> {
        let graphMessage = arena.message { onnx__graph_proto__init($0) }.filledIn { g in
            g.name = arena.string(graph.name)
            let nodes = graph.nodes.map { Optional(Self.node($0, arena)) }
            (g.n_node, g.node) = (nodes.count, arena.array(nodes))
            let initializers = graph.initializers.map { Optional(Self.tensor($0.name, $0.tensor, arena)) }
            (g.n_initializer, g.initializer) = (initializers.count, arena.array(initializers))
            let inputs = graph.inputs.map { Optional(Self.port($0, arena)) }
            (g.n_input, g.input) = (inputs.count, arena.array(inputs))
            let outputs = graph.outputs.map { Optional(Self.port($0, arena)) }
            (g.n_output, g.output) = (outputs.count, arena.array(outputs))
        }
        let opsetEntry = arena.message { onnx__operator_set_id_proto__init($0) }.filledIn { o in
            o.domain = arena.string("")
            (o.has_version, o.version) = (1, Int64(opset))
        }
        let properties = metadata.map { entry in
            Optional(arena.message { onnx__string_string_entry_proto__init($0) }.filledIn {
                $0.key = arena.string(entry.key)
                $0.value = arena.string(entry.value)
            })
        }
        return arena.message { onnx__model_proto__init($0) }.filledIn { m in
            (m.has_ir_version, m.ir_version) = (1, irVersion)
            m.producer_name = arena.string("serkd")
            if !producerVersion.isEmpty { m.producer_version = arena.string(producerVersion) }
            m.graph = graphMessage
            (m.n_opset_import, m.opset_import) = (1, arena.array([Optional(opsetEntry)]))
            (m.n_metadata_props, m.metadata_props) = (properties.count, arena.array(properties))
        }
    }

    private static func node(_ node: ExportedNode, _ arena: ProtobufArena) -> UnsafeMutablePointer<Onnx__NodeProto> {
        arena.message { onnx__node_proto__init($0) }.filledIn { n in
            n.op_type = arena.string(node.opType)
            n.name = arena.string(node.name)
            (n.n_input, n.input) = (node.inputs.count, arena.array(node.inputs.map { Optional(arena.string($0)) }))
            (n.n_output, n.output) = (node.outputs.count, arena.array(node.outputs.map { Optional(arena.string($0)) }))
            let attributes = node.attributes.map { Optional(attribute($0, arena)) }
            (n.n_attribute, n.attribute) = (attributes.count, arena.array(attributes))
        }
    }

    private static func attribute(_ attribute: ExportedAttribute, _ arena: ProtobufArena) -> UnsafeMutablePointer<Onnx__AttributeProto> {
        arena.message { onnx__attribute_proto__init($0) }.filledIn { a in
            a.has_type = 1
            switch attribute {
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
            case .string(let name, let value):
                a.name = arena.string(name)
                a.type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
                let bytes = Array(value.utf8)
                (a.has_s, a.s) = (1, ProtobufCBinaryData(len: bytes.count, data: arena.array(bytes)))
            }
        }
    }

    /// An initializer whose `raw_data` is the tensor's own storage (read, never freed, by packing).
    private static func tensor(_ name: String, _ tensor: Tensor, _ arena: ProtobufArena) -> UnsafeMutablePointer<Onnx__TensorProto> {
        arena.message { onnx__tensor_proto__init($0) }.filledIn { t in
            t.name = arena.string(name)
            (t.n_dims, t.dims) = (tensor.shape.rank, arena.array(tensor.shape.dims.map(Int64.init)))
            (t.has_data_type, t.data_type) = (1, tensor.dtype.rawValue)
            t.has_raw_data = 1
            t.raw_data = ProtobufCBinaryData(len: tensor.byteCount, data: tensor.byteCount > 0 ? tensor.rawPointer.assumingMemoryBound(to: UInt8.self) : nil)
        }
    }

    private static func port(_ port: ExportedPort, _ arena: ProtobufArena) -> UnsafeMutablePointer<Onnx__ValueInfoProto> {
        let dims = port.dims.map { dim in
            Optional(arena.message { onnx__tensor_shape_proto__dimension__init($0) }.filledIn { d in
                switch dim {
                case .fixed(let extent):
                    d.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
                    d.dim_value = Int64(extent)
                case .symbolic(let name):
                    d.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM
                    d.dim_param = arena.string(name)
                }
            })
        }
        let shape = arena.message { onnx__tensor_shape_proto__init($0) }.filledIn { $0.n_dim = dims.count; $0.dim = arena.array(dims) }
        let tensorType = arena.message { onnx__type_proto__tensor__init($0) }.filledIn { t in
            (t.has_elem_type, t.elem_type) = (1, port.dtype.rawValue)
            t.shape = shape
        }
        let type = arena.message { onnx__type_proto__init($0) }.filledIn { t in
            t.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE
            t.tensor_type = tensorType
        }
        return arena.message { onnx__value_info_proto__init($0) }.filledIn { v in
            v.name = arena.string(port.name)
            v.type = type
        }
    }
}

/// Receives protobuf-c's output piece by piece (`pack_to_buffer`) and writes it to a file: small
/// pieces (tags, lengths, names) are gathered, tensor data goes straight through.
private final class ProtobufSink {
    let file: AtomicFile
    private var staging: [UInt8] = []
    private var failure: Error?
    private static let stagingSize = 1 << 20

    init(file: AtomicFile) {
        self.file = file
        staging.reserveCapacity(Self.stagingSize)
    }

    /// Packs `message` into the file, rethrowing the first write error.
    func pack(_ message: UnsafeMutablePointer<Onnx__ModelProto>) throws {
        // protobuf-c calls back with the buffer's address; the sink's address sits right after it.
        let stride = MemoryLayout<ProtobufCBuffer>.stride
        let memory = UnsafeMutableRawPointer.allocate(byteCount: stride + MemoryLayout<UnsafeRawPointer>.size, alignment: 16)
        defer { memory.deallocate() }
        memory.initializeMemory(as: ProtobufCBuffer.self, repeating: ProtobufCBuffer(append: { buffer, count, data in
            guard let buffer, let data, count > 0 else { return }
            let context = UnsafeRawPointer(buffer).load(fromByteOffset: MemoryLayout<ProtobufCBuffer>.stride, as: UnsafeRawPointer.self)
            Unmanaged<ProtobufSink>.fromOpaque(context).takeUnretainedValue().append(data, count)
        }), count: 1)
        memory.storeBytes(of: UnsafeRawPointer(Unmanaged.passUnretained(self).toOpaque()), toByteOffset: stride, as: UnsafeRawPointer.self)
        withExtendedLifetime(self) {
            _ = onnx__model_proto__pack_to_buffer(message, memory.assumingMemoryBound(to: ProtobufCBuffer.self))
        }
        if let failure { throw failure }
        try flush()
    }

    private func append(_ data: UnsafePointer<UInt8>, _ count: Int) {
        guard failure == nil else { return }
        do {
            if staging.count + count > Self.stagingSize { try flush() }
            if count >= Self.stagingSize {
                try file.write(UnsafeRawPointer(data), count: count)
            } else {
                staging.append(contentsOf: UnsafeBufferPointer(start: data, count: count))
            }
        } catch {
            failure = error
        }
    }

    private func flush() throws {
        guard !staging.isEmpty else { return }
        try file.write(staging)
        staging.removeAll(keepingCapacity: true)
    }
}

extension UnsafeMutablePointer {
    /// Sets fields of the pointee and returns the pointer, for building C messages field by field.
    fileprivate func filledIn(_ body: (inout Pointee) -> Void) -> UnsafeMutablePointer {
        body(&pointee)
        return self
    }
}
