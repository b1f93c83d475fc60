import CProto
import Foundation

/// Reading and writing `.serkd` model files: a graph and its tensors (layout in `schemas/serkd.proto`).
///
/// The graph travels as a protobuf header; tensor bytes follow it, 64-byte aligned, and are used in
/// place from a copy-on-write mapping when the file is read, so loading a 330 MB teacher costs no
/// copy. Everything read is validated (magic, version, sizes, ranges, then the verifier) before use.
public enum ModelFile {
    /// The first eight bytes of every model file.
    public static let magic = Array("SERKDMDL".utf8)
    /// The layout version this build writes and reads.
    public static let formatVersion: UInt32 = 1

    /// Writes `graph` to `path` atomically.
    public static func write(_ graph: Graph, to path: String, producer: String = "serkd") throws {
        let arena = ProtobufArena()
        var data = TensorContainer.DataSection()
        let values = graph.values.enumerated().map { index, value -> UnsafeMutablePointer<Serkd__Value>? in
            arena.message { serkd__value__init($0) }.withPointee { message in
                message.name = arena.string(value.name)
                message.dtype = Serkd__DType(rawValue: UInt32(value.type.dtype.rawValue))
                message.n_shape = value.type.shape.rank
                message.shape = arena.array(value.type.shape.dims.map(Int64.init))
                message.kind = value.kind.wire
                if let tensor = graph.tensors[ValueID(index)] {
                    message.data_offset = UInt64(data.place(tensor))
                    message.data_length = UInt64(tensor.byteCount)
                }
            }
        }
        let nodes = graph.nodes.map { node -> UnsafeMutablePointer<Serkd__Node>? in
            arena.message { serkd__node__init($0) }.withPointee { message in
                message.op = arena.string(node.op.kindName)
                message.name = arena.string(node.name)
                message.n_inputs = node.inputs.count
                message.inputs = arena.array(node.inputs.map { UInt32($0.index) })
                message.n_outputs = node.outputs.count
                message.outputs = arena.array(node.outputs.map { UInt32($0.index) })
                let attributes = node.op.attributes.map { encode($0.name, $0.value, arena) }
                message.n_attributes = attributes.count
                message.attributes = arena.array(attributes)
            }
        }
        let metadata = graph.metadata.keys.sorted().map { key -> UnsafeMutablePointer<Serkd__MetadataEntry>? in
            arena.message { serkd__metadata_entry__init($0) }.withPointee {
                $0.key = arena.string(key)
                $0.value = arena.string(graph.metadata[key]!)
            }
        }
        let graphMessage = arena.message { serkd__graph__init($0) }.withPointee { message in
            message.name = arena.string(graph.name)
            message.n_values = values.count
            message.values = arena.array(values)
            message.n_nodes = nodes.count
            message.nodes = arena.array(nodes)
            message.n_inputs = graph.inputs.count
            message.inputs = arena.array(graph.inputs.map { UInt32($0.index) })
            message.n_outputs = graph.outputs.count
            message.outputs = arena.array(graph.outputs.map { UInt32($0.index) })
            message.n_metadata = metadata.count
            message.metadata = arena.array(metadata)
        }
        let header = arena.message { serkd__model_header__init($0) }.withPointee {
            $0.producer = arena.string(producer)
            $0.graph = graphMessage
        }
        var headerBytes = [UInt8](repeating: 0, count: serkd__model_header__get_packed_size(header))
        _ = serkd__model_header__pack(header, &headerBytes)

        try TensorContainer.write(to: path, magic: magic, version: formatVersion, header: headerBytes, data: data, checksummed: false)
    }

    /// Reads the model in `path`. Tensors live in a private copy-on-write mapping of the file, so they
    /// may be updated in place without changing it.
    public static func read(_ path: String) throws -> Graph {
        let file = try MappedFile(path: path, writable: true)
        do {
            return try decode(file)
        } catch let error as InvalidInput {
            throw InvalidInput(path, error.problem)
        }
    }

    private static func decode(_ file: MappedFile) throws -> Graph {
        let container = try TensorContainer(file, magic: magic, kind: "serkd model file")
        guard container.version == formatVersion else {
            throw InvalidInput(nil, "model file format \(container.version) is not supported (this serkd reads format \(formatVersion))")
        }
        let headerBytes = try container.header()
        guard let header = serkd__model_header__unpack(nil, headerBytes.count, headerBytes.baseAddress?.assumingMemoryBound(to: UInt8.self)) else {
            throw InvalidInput(nil, "corrupt header")
        }
        defer { serkd__model_header__free_unpacked(header, nil) }
        guard let message = header.pointee.graph else { throw InvalidInput(nil, "header has no graph") }
        let dataStart = container.dataStart(headerLength: headerBytes.count)
        let dataSize = max(0, file.byteCount - dataStart)

        let wire = message.pointee
        var graph = Graph(name: String(cString: wire.name))
        for index in 0..<wire.n_values {
            let value = wire.values[index]!.pointee
            let name = String(cString: value.name)
            guard let raw = Int32(exactly: value.dtype.rawValue), let dtype = DType(rawValue: raw) else {
                throw InvalidInput(nil, "value '\(name)' has unknown dtype \(value.dtype.rawValue)")
            }
            let shape = Shape((0..<value.n_shape).map { Int(value.shape[$0]) })
            guard let count = shape.checkedElementCount, count.multipliedReportingOverflow(by: dtype.byteSize).overflow == false else {
                throw InvalidInput(nil, "value '\(name)' has invalid shape \(shape)")
            }
            guard let kind = ValueKind(wire: value.kind) else { throw InvalidInput(nil, "value '\(name)' has unknown kind") }
            let id = graph.addValue(name, TensorType(dtype, shape), kind: kind)
            guard id.index == index, graph[id].name == name else { throw InvalidInput(nil, "value name '\(name)' is used twice") }
            switch kind {
            case .parameter, .constant, .state:
                graph.tensors[id] = try container.tensor("value", name, dtype, shape, offset: value.data_offset, length: value.data_length,
                                                         dataStart: dataStart, dataSize: dataSize)
            case .input:
                graph.inputs.append(id)
            case .intermediate:
                break
            }
        }
        func valueIDs(_ pointer: UnsafeMutablePointer<UInt32>?, _ count: Int) throws -> [ValueID] {
            try (0..<count).map { i in
                let index = Int(pointer![i])
                guard index < graph.values.count else { throw InvalidInput(nil, "node refers to value #\(index), graph has \(graph.values.count)") }
                return ValueID(index)
            }
        }
        for index in 0..<wire.n_nodes {
            let node = wire.nodes[index]!.pointee
            var attributes: [String: AttributeValue] = [:]
            for a in 0..<node.n_attributes {
                let (name, value) = try decode(node.attributes[a]!.pointee)
                attributes[name] = value
            }
            let kind = String(cString: node.op)
            let op: Op
            do { op = try Op(kindName: kind, attributes: attributes) } catch let error as InvalidInput {
                throw InvalidInput(nil, "node '\(String(cString: node.name))': \(error.problem)")
            }
            graph.nodes.append(Node(op: op, inputs: try valueIDs(node.inputs, node.n_inputs),
                                    outputs: try valueIDs(node.outputs, node.n_outputs), name: String(cString: node.name)))
        }
        let declaredInputs = try valueIDs(wire.inputs, wire.n_inputs)
        guard declaredInputs == graph.inputs else { throw InvalidInput(nil, "graph inputs disagree with input values") }
        graph.outputs = try valueIDs(wire.outputs, wire.n_outputs)
        for index in 0..<wire.n_metadata {
            let entry = wire.metadata[index]!.pointee
            graph.metadata[String(cString: entry.key)] = String(cString: entry.value)
        }
        do {
            try Verifier.verify(graph)
        } catch let error as InvalidInput {
            throw InvalidInput(nil, "invalid graph: \(error.problem)")
        }
        return graph
    }

    private static func encode(_ name: String, _ value: AttributeValue, _ arena: ProtobufArena) -> UnsafeMutablePointer<Serkd__Attribute>? {
        arena.message { serkd__attribute__init($0) }.withPointee { message in
            message.name = arena.string(name)
            switch value {
            case .int(let v):
                message.value_case = SERKD__ATTRIBUTE__VALUE_INT_VALUE
                message.int_value = Int64(v)
            case .ints(let v):
                message.value_case = SERKD__ATTRIBUTE__VALUE_INTS
                message.ints = arena.message { serkd__int_list__init($0) }.withPointee {
                    $0.n_values = v.count
                    $0.values = arena.array(v.map(Int64.init))
                }
            case .float(let v):
                message.value_case = SERKD__ATTRIBUTE__VALUE_FLOAT_VALUE
                message.float_value = v
            case .string(let v):
                message.value_case = SERKD__ATTRIBUTE__VALUE_STRING_VALUE
                message.string_value = arena.string(v)
            }
        }
    }

    private static func decode(_ attribute: Serkd__Attribute) throws -> (String, AttributeValue) {
        let name = String(cString: attribute.name)
        switch attribute.value_case {
        case SERKD__ATTRIBUTE__VALUE_INT_VALUE: return (name, .int(Int(attribute.int_value)))
        case SERKD__ATTRIBUTE__VALUE_INTS:
            let list = attribute.ints!.pointee
            return (name, .ints((0..<list.n_values).map { Int(list.values[$0]) }))
        case SERKD__ATTRIBUTE__VALUE_FLOAT_VALUE: return (name, .float(attribute.float_value))
        case SERKD__ATTRIBUTE__VALUE_STRING_VALUE: return (name, .string(String(cString: attribute.string_value)))
        default: throw InvalidInput(nil, "attribute '\(name)' has no value")
        }
    }
}

extension UnsafeMutablePointer {
    /// Mutates the pointee in place and returns the pointer, for building C messages field by field.
    public func withPointee(_ body: (inout Pointee) -> Void) -> UnsafeMutablePointer {
        body(&pointee)
        return self
    }
}

extension ValueKind {
    /// The kind's code in `schemas/serkd.proto`.
    public var wire: Serkd__ValueKind {
        switch self {
        case .intermediate: SERKD__VALUE_KIND__VALUE_KIND_INTERMEDIATE
        case .input: SERKD__VALUE_KIND__VALUE_KIND_INPUT
        case .parameter: SERKD__VALUE_KIND__VALUE_KIND_PARAMETER
        case .constant: SERKD__VALUE_KIND__VALUE_KIND_CONSTANT
        case .state: SERKD__VALUE_KIND__VALUE_KIND_STATE
        }
    }

    /// The kind with code `wire`, if there is one.
    public init?(wire: Serkd__ValueKind) {
        guard let kind = ValueKind.allCases.first(where: { $0.wire == wire }) else { return nil }
        self = kind
    }
}
