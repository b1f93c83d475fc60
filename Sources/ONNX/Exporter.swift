import GraphIR

/// The state of one export: the ONNX graph being assembled and the names already taken. The op
/// rules (`ExportRules.swift`) extend it.
struct Exporter {
    let graph: Graph
    let opset: Int
    /// The batch analysis when the batch is exported symbolic; nil keeps every extent fixed.
    let batch: BatchAnalysis?
    private(set) var result: ExportedGraph
    /// Every ONNX value name in use (the graph's value names and those made up here).
    private var taken: Set<String>
    /// The initializer name of each data value.
    private var dataNames: [ValueID: String] = [:]
    /// Values some node or graph output reads.
    private let used: Set<ValueID>
    /// The run-time batch extent as an int64 [1] tensor, once computed.
    private var batchExtent: String?
    /// The node being exported, whose name labels the ONNX nodes made for it.
    var node = Node(op: .identity, inputs: [], outputs: [], name: "")
    var nodeIndex = 0

    init(graph: Graph, opset: Int, batch: BatchAnalysis?) {
        self.graph = graph
        self.opset = opset
        self.batch = batch
        result = ExportedGraph(name: graph.name)
        taken = Set(graph.values.map(\.name))
        var used = Set(graph.outputs)
        for node in graph.nodes { used.formUnion(node.inputs) }
        self.used = used
    }

    /// Builds `result`.
    mutating func run() throws {
        let dataOutputs = Set(graph.outputs.filter { graph.tensors[$0] != nil })
        for id in graph.dataValues where used.contains(id) {
            let name = dataOutputs.contains(id) ? fresh(graph[id].name + "/data") : graph[id].name
            dataNames[id] = name
            result.initializers.append((name, graph.tensors[id]!))
        }
        for input in graph.inputs {
            let type = graph.type(of: input)
            var dims = type.shape.dims.map { ExportedDimension.fixed($0) }
            if batch != nil { dims[0] = .symbolic("N") }
            result.inputs.append(ExportedPort(name: graph[input].name, dtype: type.dtype, dims: dims))
        }
        for (index, node) in graph.nodes.enumerated() {
            self.node = node
            nodeIndex = index
            try export(node)
        }
        for output in graph.outputs {
            let type = graph.type(of: output)
            var dims = type.shape.dims.map { ExportedDimension.fixed($0) }
            if let axis = batch?.axes[output] { dims[axis.axis] = .symbolic(axis.factor == 1 ? "N" : "N*\(axis.factor)") }
            if dataOutputs.contains(output) {
                result.nodes.append(ExportedNode(opType: "Identity", name: graph[output].name, inputs: [dataNames[output]!], outputs: [graph[output].name]))
            }
            result.outputs.append(ExportedPort(name: graph[output].name, dtype: type.dtype, dims: dims))
        }
    }

    // MARK: Names and values

    /// The ONNX name of a value.
    func name(_ id: ValueID) -> String { dataNames[id] ?? graph[id].name }

    /// The ONNX names of the current node's outputs, "" for optional outputs (all but the first)
    /// that nothing reads.
    var outputNames: [String] {
        node.outputs.enumerated().map { index, output in index == 0 || used.contains(output) ? graph[output].name : "" }
    }

    /// A value name not yet taken, based on `base`.
    mutating func fresh(_ base: String) -> String {
        var candidate = base
        var suffix = 1
        while taken.contains(candidate) {
            candidate = "\(base)_\(suffix)"
            suffix += 1
        }
        taken.insert(candidate)
        return candidate
    }

    /// A fresh name for a value made for the current node.
    mutating func temporary(_ label: String) -> String { fresh(node.name + "/" + label) }

    /// Appends an ONNX node labelled after the current node; trailing omitted inputs are dropped.
    mutating func emit(_ opType: String, _ inputs: [String], _ outputs: [String], _ attributes: [ExportedAttribute] = [], label: String = "") {
        var inputs = inputs
        while inputs.last == "" { inputs.removeLast() }
        var outputs = outputs
        while outputs.count > 1 && outputs.last == "" { outputs.removeLast() }
        let name = label.isEmpty ? node.name : node.name + "/" + label
        result.nodes.append(ExportedNode(opType: opType, name: name, inputs: inputs, outputs: outputs, attributes: attributes))
    }

    /// Emits a one-output node into a fresh value and returns its name.
    mutating func emitValue(_ opType: String, _ inputs: [String], _ attributes: [ExportedAttribute] = [], label: String) -> String {
        let output = temporary(label)
        emit(opType, inputs, [output], attributes, label: label)
        return output
    }

    /// A new initializer holding `tensor`.
    mutating func initializer(_ tensor: Tensor, _ label: String) -> String {
        let name = temporary(label)
        result.initializers.append((name, tensor))
        return name
    }

    /// A 1-D int64 initializer (shapes, axes, bounds).
    mutating func integers(_ values: [Int], _ label: String) -> String {
        initializer(Tensor(values.map { Int64($0) }, shape: [values.count]), label)
    }

    /// A scalar initializer of `dtype`.
    mutating func scalar(_ value: Double, _ label: String, dtype: DType = .float32) -> String {
        initializer(Tensor(doubles: [value], dtype: dtype, shape: []), label)
    }

    // MARK: The run-time batch

    /// The batch the model runs with, as an int64 [1] tensor read off the first graph input.
    mutating func runtimeBatch() -> String {
        if let batchExtent { return batchExtent }
        let shape = fresh("batch/shape"), extent = fresh("batch")
        let first = fresh("batch/axis0")
        result.initializers.append((first, Tensor([Int64(0)], shape: [1])))
        result.nodes.append(ExportedNode(opType: "Shape", name: "batch/shape", inputs: [name(graph.inputs[0])], outputs: [shape]))
        result.nodes.append(ExportedNode(opType: "Gather", name: "batch", inputs: [shape, first], outputs: [extent], attributes: [.int("axis", 0)]))
        batchExtent = extent
        return extent
    }

    /// A shape tensor equal to `dims` except that axis `axis` is the run-time batch.
    mutating func shapeWithBatch(_ dims: [Int], axis: Int, _ label: String) -> String {
        let extent = runtimeBatch()
        var parts: [String] = []
        if axis > 0 { parts.append(integers(Array(dims[..<axis]), label + "/leading")) }
        parts.append(extent)
        if axis + 1 < dims.count { parts.append(integers(Array(dims[(axis + 1)...]), label + "/trailing")) }
        return parts.count == 1 ? extent : emitValue("Concat", parts, [.int("axis", 0)], label: label)
    }
}
