import CProto
import GraphIR
import Reference

/// The state of one import: the graph being built, the ONNX names in scope, and the problems found.
/// Lowering rules (in the `Lowering+*.swift` files) extend it.
struct Importer {
    let file: String
    let message: ModelMessage
    let options: ONNXImport.Options
    var graph: Graph
    var reader: TensorReader
    let opsets: [String: Int]
    /// Local functions by "domain/name".
    let functions: [String: UnsafeMutablePointer<Onnx__FunctionProto>]

    /// ONNX value name → IR value.
    var values: [String: ValueID] = [:]
    /// ONNX values not computed because an unsupported node would have produced them.
    var unavailable: Set<String> = []
    /// Every ONNX value some node or graph output reads.
    var used: Set<String> = []
    var problems = ProblemList()
    var origins = WeightOrigins()
    /// Attribute tensors already decoded (an inlined function may repeat one).
    var attributeTensors: [UnsafeMutableRawPointer: Tensor] = [:]
    private var inlineCount = 0
    /// Calls of local functions being expanded, innermost last: a call of one of them is recursion.
    private var inlineStack: [String] = []
    /// Nested function calls allowed: far deeper than any exporter writes, shallow enough that the
    /// recursive expansion cannot exhaust the stack.
    private static let inlineDepthLimit = 64

    /// The node being lowered and its opset.
    var node = ONNXNode(name: "", opType: "", domain: "", inputs: [], outputs: [], attributes: [:])
    var opset = 0

    init(message: ModelMessage, options: ONNXImport.Options) throws {
        self.message = message
        self.options = options
        let file = message.path
        self.file = file
        let slash = file.lastIndex(of: "/")
        let folder = slash.map { $0 == file.startIndex ? "/" : String(file[..<$0]) } ?? "."
        reader = TensorReader(file: file, folder: folder)
        opsets = try message.opsets()
        if let version = opsets[""], !ONNXImport.supportedOpsets.contains(version) {
            throw InvalidInput(file, "default-domain opset \(version) is outside the opsets serkd reads "
                               + "(\(ONNXImport.supportedOpsets.lowerBound)–\(ONNXImport.supportedOpsets.upperBound))")
        }
        var functions: [String: UnsafeMutablePointer<Onnx__FunctionProto>] = [:]
        for function in messages(message.proto.pointee.functions, message.proto.pointee.n_functions) {
            functions[ONNXDomain.normalized(text(function.pointee.domain)) + "/" + text(function.pointee.name)] = function
        }
        self.functions = functions
        let graphName = text(message.graph.pointee.name)
        graph = Graph(name: graphName.isEmpty ? String(file.split(separator: "/").last ?? "model") : graphName)
    }

    /// Builds the graph.
    mutating func run() throws -> Graph {
        let proto = message.graph.pointee
        let nodes = messages(proto.node, proto.n_node).map(ONNXNode.init)
        let outputNames = messages(proto.output, proto.n_output).map { text($0.pointee.name) }
        for node in nodes { used.formUnion(node.inputs) }
        used.formUnion(outputNames)

        try addInitializers()
        try addInputs()
        for node in nodes { try process(node) }
        if !problems.isEmpty { throw InvalidInput(file, problems.summary) }
        try bindOutputs(outputNames)
        graph = graph.removingDeadNodes()
        recordMetadata()
        return graph
    }

    // MARK: Initializers and inputs

    private mutating func addInitializers() throws {
        let proto = message.graph.pointee
        for initializer in messages(proto.initializer, proto.n_initializer) {
            let name = text(initializer.pointee.name)
            guard !name.isEmpty else { throw InvalidInput(file, "an initializer has no name") }
            guard values[name] == nil else { throw InvalidInput(file, "initializer '\(name)' is defined twice") }
            let (tensor, source) = try reader.read(initializer, what: "initializer '\(name)'")
            origins.count(source)
            // Float weights are parameters a training step may learn; integer data and single floats
            // (exporters' scalar constants such as GELU's 0.5) are constants.
            let isWeight = tensor.dtype == .float32 && tensor.elementCount > 1
            values[name] = isWeight ? graph.addParameter(name, tensor) : graph.addConstant(name, tensor)
        }
    }

    private mutating func addInputs() throws {
        let proto = message.graph.pointee
        let declared = messages(proto.input, proto.n_input)
        for (name, _) in options.bindings where !declared.contains(where: { text($0.pointee.name) == name }) {
            throw InvalidInput(file, "cannot bind '\(name)': the model has no input of that name")
        }
        var inputs: [(name: String, type: ElementType, dims: [Dimension])] = []
        for input in declared {
            let name = text(input.pointee.name)
            if let tensor = options.bindings[name] {
                if let existing = values[name] { graph.tensors[existing] = nil }
                values[name] = graph.addConstant(name, tensor)
                continue
            }
            // Old exporters list initializers as inputs too: those are constants with defaults.
            if values[name] != nil { continue }
            guard let (type, dims) = Self.tensorType(input.pointee.type) else {
                throw InvalidInput(file, "input '\(name)' is not a tensor with a known element type and shape")
            }
            inputs.append((name, type, dims))
        }

        let symbolicBatch = inputs.contains { $0.dims.first.map { $0.value == nil } ?? false }
        let fixedBatch = symbolicBatch ? nil : inputs.first { !$0.dims.isEmpty }?.dims[0].value
        if let requested = options.batch, let fixedBatch, requested != fixedBatch {
            throw InvalidInput(file, "the model's inputs have a fixed batch of \(fixedBatch); a batch of \(requested) cannot apply")
        }
        let batch = options.batch ?? fixedBatch ?? 1
        if symbolicBatch || fixedBatch != nil { graph.metadata["batch"] = String(batch) }

        for (name, type, dims) in inputs {
            guard let dtype = type.storedAs else {
                throw InvalidInput(file, "input '\(name)' has element type \(type), which serkd does not support")
            }
            var extents: [Int] = []
            for (axis, dim) in dims.enumerated() {
                if let value = dim.value {
                    extents.append(value)
                } else if axis == 0 {
                    extents.append(batch)
                } else {
                    throw InvalidInput(file, "input '\(name)' axis \(axis) is symbolic (\(dim.description)); serkd needs static "
                                       + "shapes and only sets the leading (batch) axis")
                }
            }
            guard let count = Shape(extents).checkedElementCount, count <= ShapeLimits.maxElements else {
                throw InvalidInput(file, "input '\(name)' has an invalid shape \(extents)")
            }
            values[name] = graph.addInput(name, TensorType(dtype, Shape(extents)))
        }
    }

    /// One axis of a declared input shape.
    struct Dimension: CustomStringConvertible {
        /// The extent, or nil when symbolic or unknown.
        var value: Int?
        var parameter: String
        var description: String { value.map(String.init) ?? (parameter.isEmpty ? "unknown" : "'\(parameter)'") }
    }

    /// The element type and dims of a tensor `TypeProto`, or nil if it is not one or has no shape.
    static func tensorType(_ type: UnsafeMutablePointer<Onnx__TypeProto>?) -> (ElementType, [Dimension])? {
        guard let type, type.pointee.value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE,
              let tensor = type.pointee.tensor_type, let shape = tensor.pointee.shape else { return nil }
        let dims = messages(shape.pointee.dim, shape.pointee.n_dim).map { dim -> Dimension in
            switch dim.pointee.value_case {
            case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE where dim.pointee.dim_value >= 0:
                return Dimension(value: Int(dim.pointee.dim_value), parameter: "")
            case ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM:
                return Dimension(value: nil, parameter: text(dim.pointee.dim_param))
            default:
                return Dimension(value: nil, parameter: "")
            }
        }
        return (ElementType(code: tensor.pointee.has_elem_type != 0 ? tensor.pointee.elem_type : 0), dims)
    }

    // MARK: Nodes

    /// Lowers one node, or records why it cannot be.
    mutating func process(_ onnx: ONNXNode) throws {
        let function = functions[onnx.domain + "/" + onnx.opType]
        let version = opsets[onnx.domain]
        if onnx.inputs.contains(where: { !$0.isEmpty && unavailable.contains($0) }) {
            // Downstream of an unsupported node: still report an op type that is unsupported itself.
            if function == nil, let version, !onnx.domain.isEmpty || Self.rules[onnx.opType] == nil {
                problems.add(onnx, opset: version, reason: "")
            }
            unavailable.formUnion(onnx.outputs)
            return
        }
        if let function {
            try inline(onnx, function)
            return
        }
        guard let version else {
            problems.add(onnx, opset: nil, reason: "its domain is not in the model's opset imports")
            unavailable.formUnion(onnx.outputs)
            return
        }
        node = onnx
        opset = version
        let start = graph.values.count
        do {
            guard onnx.domain.isEmpty, let rule = Self.rules[onnx.opType] else { throw LoweringError.unsupported("") }
            let results = try rule(&self)
            var renamed: Set<ValueID> = []
            for (index, name) in onnx.outputs.enumerated() where !name.isEmpty {
                guard index < results.count, let value = results[index] else {
                    if used.contains(name) { throw LoweringError.unsupported("output \(index) ('\(name)') is not supported") }
                    continue
                }
                if value.index >= start, !renamed.contains(value), graph.value(named: name) == nil {
                    graph.rename(value, to: name)
                    renamed.insert(value)
                }
                values[name] = value
            }
        } catch LoweringError.unsupported(let reason) {
            problems.add(onnx, opset: version, reason: reason)
            unavailable.formUnion(onnx.outputs)
        } catch LoweringError.invalid(let problem) {
            throw InvalidInput(file, "node '\(onnx.label)' (\(onnx.opType)): \(problem)")
        }
    }

    /// Expands a call of a local function into its body, with values and nodes renamed under the
    /// calling node's name and attribute references resolved against the call.
    private mutating func inline(_ call: ONNXNode, _ function: UnsafeMutablePointer<Onnx__FunctionProto>) throws {
        inlineCount += 1
        guard inlineCount <= 10_000 else { throw InvalidInput(file, "local functions expand without end (recursive calls?)") }
        let key = call.domain + "/" + call.opType
        if inlineStack.contains(key) {
            throw InvalidInput(file, "local function '\(key)' calls itself (through \(inlineStack.joined(separator: " → ")))")
        }
        guard inlineStack.count < Self.inlineDepthLimit else {
            throw InvalidInput(file, "local functions nest deeper than \(Self.inlineDepthLimit) calls")
        }
        inlineStack.append(key)
        defer { inlineStack.removeLast() }
        let f = function.pointee
        let formalInputs = texts(f.input, f.n_input), formalOutputs = texts(f.output, f.n_output)
        var rename: [String: String] = ["": ""]
        for (index, formal) in formalInputs.enumerated() { rename[formal] = index < call.inputs.count ? call.inputs[index] : "" }
        for (index, formal) in formalOutputs.enumerated() { rename[formal] = index < call.outputs.count ? call.outputs[index] : "" }
        let prefix = call.label + "/"
        func renamed(_ name: String) -> String { rename[name] ?? prefix + name }
        let body = messages(f.node, f.n_node).map { proto -> ONNXNode in
            var inner = ONNXNode(proto)
            inner.name = prefix + inner.label
            inner.inputs = inner.inputs.map(renamed)
            inner.outputs = inner.outputs.map(renamed)
            for (key, value) in inner.attributes {
                if case .reference(let target) = value { inner.attributes[key] = call.attributes[target] }
            }
            return inner
        }
        for inner in body { used.formUnion(inner.inputs) }
        for inner in body { try process(inner) }
    }

    // MARK: Outputs, pruning, metadata

    private mutating func bindOutputs(_ names: [String]) throws {
        for name in names {
            guard let value = values[name] else { throw InvalidInput(file, "graph output '\(name)' is never computed") }
            var output = value
            if graph[value].name != name || graph.outputs.contains(value) {
                // An alias (Identity, Dropout) or a repeated output: give the output its own value.
                if let tensor = graph.tensors[value] {
                    output = graph[value].kind == .parameter ? graph.addParameter(name, tensor) : graph.addConstant(name, tensor)
                } else {
                    output = try graph.apply(.identity, [value], name: name)[0]
                }
            }
            graph.outputs.append(output)
        }
    }

    private mutating func recordMetadata() {
        graph.metadata["source"] = String(file.split(separator: "/").last ?? Substring(file))
        graph.metadata["producer"] = message.producer
        let properties = message.metadataProperties
        for (key, value) in properties { graph.metadata["onnx." + key] = value }
        // Exporters store class names under different keys (Paddle: "character", one per line).
        if let labels = ["labels", "classes", "class_names", "character"].lazy.compactMap({ properties[$0] }).first {
            graph.metadata["labels"] = labels
        }
        // The input preprocessing serkd writes on export, kept under the keys the runtime reads.
        for key in ["normalization.mean", "normalization.std", "preprocessing.crop_fraction"] where properties[key] != nil { graph.metadata[key] = properties[key] }
        graph.metadata["ir_version"] = String(message.irVersion)
        graph.metadata["opsets"] = ONNXDomain.describe(opsets)
        origins.externalFiles = reader.externalFiles.count
        graph.metadata["weights"] = origins.description
    }
}

/// How many weight tensors came from each place in the file.
struct WeightOrigins: CustomStringConvertible {
    var rawData = 0
    var typedFields = 0
    var external = 0
    var externalFiles = 0
    var constantNodes = 0

    mutating func count(_ source: TensorSource) {
        switch source {
        case .rawData: rawData += 1
        case .typedFields: typedFields += 1
        case .external: external += 1
        }
    }

    /// `initializers: 26 raw_data, 0 typed fields, 0 external (0 files); Constant nodes: 54`
    var description: String {
        "initializers: \(rawData) raw_data, \(typedFields) typed fields, \(external) external (\(externalFiles) files); "
            + "Constant nodes: \(constantNodes)"
    }
}

/// Unsupported nodes, grouped by op type, domain, opset and reason.
struct ProblemList {
    private var order: [String] = []
    private var entries: [String: (node: String, description: String, more: Int)] = [:]

    var isEmpty: Bool { order.isEmpty }

    mutating func add(_ node: ONNXNode, opset: Int?, reason: String) {
        let version = opset.map { " opset \($0)" } ?? ""
        let description = "\(node.opType) (\(ONNXDomain.display(node.domain))\(version))" + (reason.isEmpty ? "" : ": \(reason)")
        if let existing = entries[description] {
            entries[description] = (existing.node, description, existing.more + 1)
        } else {
            order.append(description)
            entries[description] = (node.label, description, 0)
        }
    }

    /// `2 unsupported ops: node 'Resize_12' Resize (ai.onnx opset 17); node 'x' MyOp (com.foo opset 1)`
    var summary: String {
        let lines = order.map { key -> String in
            let entry = entries[key]!
            return "node '\(entry.node)' \(entry.description)" + (entry.more > 0 ? " (and \(entry.more) more like it)" : "")
        }
        return "\(lines.count) unsupported op\(lines.count == 1 ? "" : "s"): " + lines.joined(separator: "; ")
    }
}
