import CProto
import GraphIR

/// What an ONNX file contains, read without lowering it: for `serkd-convert inspect` and for
/// deciding whether a model is worth importing.
public struct ONNXModelSummary: CustomStringConvertible, Sendable {
    /// A graph input or output with its ONNX type, e.g. `input: float32[N,3,224,224]`.
    public struct Port: Sendable, Equatable {
        /// The ONNX value name.
        public var name: String
        /// ONNX element type and dims, symbolic dims by name (`?` when unknown).
        public var type: String
    }

    /// The path the summary was read from.
    public var file: String
    /// `producer_name producer_version` (empty when the exporter left them out).
    public var producer: String
    /// The file's IR version.
    public var irVersion: Int
    /// Domain ("ai.onnx" for the default) → opset version.
    public var opsets: [String: Int]
    /// Graph inputs that are not initializers.
    public var inputs: [Port]
    /// Graph outputs.
    public var outputs: [Port]
    /// Op type (prefixed by its domain outside the default one) → node count, main graph only.
    public var opHistogram: [String: Int]
    /// Local functions defined in the file.
    public var functionCount: Int
    /// Elements and bytes (at each tensor's ONNX element size) of all initializers.
    public var parameterCount: Int
    /// Bytes of `parameterCount`.
    public var parameterBytes: Int
    /// Initializers stored in `raw_data`.
    public var rawDataInitializers: Int
    /// Initializers stored in the typed fields (`float_data`, …).
    public var typedFieldInitializers: Int
    /// Initializers stored in external files.
    public var externalInitializers: Int
    /// The external-data files named, sorted.
    public var externalFiles: [String]
    /// Tensor-valued `Constant` nodes (exporters put small weights there).
    public var constantNodes: Int
    /// Op types the importer does not lower (default domain) or other domains' ops, sorted.
    public var unsupportedOps: [String]
    /// The model's `metadata_props`: labels, normalisation, taps, training record.
    public var metadata: [String: String]

    /// Reads `path`; throws a one-line `InvalidInput` when it is not an ONNX model.
    public init(path: String) throws {
        let message = try ModelMessage(path: path)
        let model = message.proto.pointee, graph = message.graph.pointee
        file = path
        producer = message.producer
        metadata = message.metadataProperties
        irVersion = message.irVersion
        opsets = Dictionary(try message.opsets().map { (ONNXDomain.display($0.key), $0.value) }, uniquingKeysWith: { $1 })

        let initializers = messages(graph.initializer, graph.n_initializer)
        let initializerNames = Set(initializers.map { text($0.pointee.name) })
        func port(_ info: UnsafeMutablePointer<Onnx__ValueInfoProto>) -> Port {
            let name = text(info.pointee.name)
            guard let (type, dims) = Importer.tensorType(info.pointee.type) else { return Port(name: name, type: "(not a tensor with a shape)") }
            let extents = dims.map { $0.value.map(String.init) ?? ($0.parameter.isEmpty ? "?" : $0.parameter) }
            return Port(name: name, type: "\(type)[\(extents.joined(separator: ","))]")
        }
        inputs = messages(graph.input, graph.n_input).filter { !initializerNames.contains(text($0.pointee.name)) }.map(port)
        outputs = messages(graph.output, graph.n_output).map(port)

        let functions = Set(messages(model.functions, model.n_functions).map {
            ONNXDomain.normalized(text($0.pointee.domain)) + "." + text($0.pointee.name)
        })
        var histogram: [String: Int] = [:]
        var constants = 0
        var unsupported = Set<String>()
        for node in messages(graph.node, graph.n_node) {
            let domain = ONNXDomain.normalized(text(node.pointee.domain)), opType = text(node.pointee.op_type)
            let key = domain.isEmpty ? opType : "\(domain).\(opType)"
            histogram[key, default: 0] += 1
            if (!domain.isEmpty || Importer.rules[opType] == nil) && !functions.contains(domain + "." + opType) { unsupported.insert(key) }
            if domain.isEmpty && opType == "Constant",
               messages(node.pointee.attribute, node.pointee.n_attribute).contains(where: { text($0.pointee.name) == "value" }) {
                constants += 1
            }
        }
        opHistogram = histogram
        functionCount = model.n_functions
        constantNodes = constants
        unsupportedOps = unsupported.sorted()

        var elements = 0, bytes = 0, raw = 0, typed = 0, external = 0
        var files = Set<String>()
        for initializer in initializers {
            let tensor = initializer.pointee
            let dims = scalars(tensor.dims, tensor.n_dims)
            let count = dims.allSatisfy { $0 >= 0 } ? Shape(dims.map { Int(clamping: $0) }).checkedElementCount ?? 0 : 0
            let type = ElementType(code: tensor.has_data_type != 0 ? tensor.data_type : 0)
            elements = elements &+ count
            bytes = bytes &+ count.multipliedReportingOverflow(by: type.byteSize ?? 0).partialValue
            if tensor.has_data_location != 0 && tensor.data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL {
                external += 1
                if let location = entries(tensor.external_data, tensor.n_external_data).first(where: { $0.key == "location" }) {
                    files.insert(location.value)
                }
            } else if tensor.has_raw_data != 0 {
                raw += 1
            } else {
                typed += 1
            }
        }
        parameterCount = elements
        parameterBytes = bytes
        rawDataInitializers = raw
        typedFieldInitializers = typed
        externalInitializers = external
        externalFiles = files.sorted()
    }

    /// A multi-line report.
    public var description: String {
        var lines = ["\(file): ONNX model, IR version \(irVersion)" + (producer.isEmpty ? "" : ", produced by \(producer)")]
        lines.append("opsets: " + opsets.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        for input in inputs { lines.append("input  \(input.name): \(input.type)") }
        for output in outputs { lines.append("output \(output.name): \(output.type)") }
        let nodeCount = opHistogram.values.reduce(0, +)
        lines.append("nodes: \(nodeCount)" + (functionCount > 0 ? ", local functions: \(functionCount)" : ""))
        for (op, count) in opHistogram.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            lines.append("  \(op.padding(to: 24)) \(count)")
        }
        lines.append("parameters: \(parameterCount) (\(ByteCount.describe(parameterBytes)))")
        var origin = "weights: \(rawDataInitializers) raw_data, \(typedFieldInitializers) typed-field, \(externalInitializers) external initializers"
        if !externalFiles.isEmpty { origin += " (in \(externalFiles.joined(separator: ", ")))" }
        lines.append(origin + "; \(constantNodes) Constant nodes")
        if !unsupportedOps.isEmpty { lines.append("not importable: " + unsupportedOps.joined(separator: ", ")) }
        lines += MetadataListing.lines(metadata)
        return lines.joined(separator: "\n")
    }
}

/// Human-readable byte counts.
public enum ByteCount {
    /// `812 B`, `44.8 KiB`, `330.1 MiB`.
    public static func describe(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : "\((value * 10).rounded() / 10) \(units[unit])"
    }
}

extension String {
    /// Pads with spaces on the right to `width` characters.
    func padding(to width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
