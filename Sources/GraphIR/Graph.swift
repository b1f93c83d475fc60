@_exported import Tensor

/// The dtype and static shape of a value.
public struct TensorType: Hashable, Sendable, CustomStringConvertible {
    public var dtype: DType
    public var shape: Shape

    public init(_ dtype: DType, _ shape: Shape) {
        self.dtype = dtype
        self.shape = shape
    }

    /// `f32[2,3]`
    public var description: String { dtype.shortName + shape.description }
}

/// Identifies a value within one graph.
public struct ValueID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Position in `Graph.values`.
    public let index: Int

    public init(_ index: Int) { self.index = index }

    public static func < (a: ValueID, b: ValueID) -> Bool { a.index < b.index }

    public var description: String { "v\(index)" }
}

/// What a value is, which decides who writes it and whether it needs a gradient.
public enum ValueKind: String, Hashable, Sendable, CaseIterable {
    /// Fed by the caller on every run.
    case input
    /// A trainable weight: has data, receives a gradient, updated by the optimizer.
    case parameter
    /// Fixed data: frozen weights, folded constants.
    case constant
    /// Persistent data a training step updates in place but never differentiates: optimizer moments,
    /// batch-norm running statistics.
    case state
    /// Produced by a node.
    case intermediate
}

/// A value: a tensor that exists once per run, defined by exactly one node or by the graph itself.
public struct Value: Hashable, Sendable {
    /// Unique within the graph; ONNX tensor names are kept so taps can name them.
    public var name: String
    public var type: TensorType
    public var kind: ValueKind

    public init(name: String, type: TensorType, kind: ValueKind) {
        self.name = name
        self.type = type
        self.kind = kind
    }
}

/// One operation applied to values, producing new values.
public struct Node: Hashable, Sendable {
    public var op: Op
    public var inputs: [ValueID]
    public var outputs: [ValueID]
    /// A label for messages and dumps (the ONNX node name where there is one).
    public var name: String

    public init(op: Op, inputs: [ValueID], outputs: [ValueID], name: String) {
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
        self.name = name
    }
}

/// A static-shape SSA dataflow graph: the single IR every stage of serkd reads and writes.
///
/// Nodes are kept in a valid execution order (each node after the producers of its inputs). Values
/// are never reassigned; a pass builds a new graph or rewrites nodes, and `Verifier` checks the result.
/// Parameters and constants carry their data in `tensors`.
public struct Graph: Sendable {
    /// A label for dumps and reports.
    public var name: String
    public private(set) var values: [Value] = []
    public var nodes: [Node] = []
    public var inputs: [ValueID] = []
    public var outputs: [ValueID] = []
    /// Data of every parameter, constant and state value.
    public var tensors: [ValueID: Tensor] = [:]
    /// Free-form facts carried with the model (e.g. "batch", "source", "opsets").
    public var metadata: [String: String] = [:]
    private var names: [String: ValueID] = [:]

    public init(name: String) { self.name = name }

    /// Looks up a value by name.
    public func value(named name: String) -> ValueID? { names[name] }

    /// The record of a value.
    public subscript(id: ValueID) -> Value { values[id.index] }

    /// The type of a value.
    public func type(of id: ValueID) -> TensorType { values[id.index].type }

    /// Adds a value with a name made unique by suffixing `_1`, `_2`, … when taken.
    public mutating func addValue(_ name: String, _ type: TensorType, kind: ValueKind) -> ValueID {
        var unique = name.isEmpty ? "v\(values.count)" : name
        if names[unique] != nil {
            var suffix = 1
            while names["\(unique)_\(suffix)"] != nil { suffix += 1 }
            unique = "\(unique)_\(suffix)"
        }
        let id = ValueID(values.count)
        values.append(Value(name: unique, type: type, kind: kind))
        names[unique] = id
        return id
    }

    /// Adds a graph input.
    @discardableResult
    public mutating func addInput(_ name: String, _ type: TensorType) -> ValueID {
        let id = addValue(name, type, kind: .input)
        inputs.append(id)
        return id
    }

    /// Adds a trainable parameter holding `tensor`.
    public mutating func addParameter(_ name: String, _ tensor: Tensor) -> ValueID {
        let id = addValue(name, TensorType(tensor.dtype, tensor.shape), kind: .parameter)
        tensors[id] = tensor
        return id
    }

    /// Adds fixed data.
    public mutating func addConstant(_ name: String, _ tensor: Tensor) -> ValueID {
        let id = addValue(name, TensorType(tensor.dtype, tensor.shape), kind: .constant)
        tensors[id] = tensor
        return id
    }

    /// Adds persistent state (optimizer moments, running statistics) holding `tensor`.
    public mutating func addState(_ name: String, _ tensor: Tensor) -> ValueID {
        let id = addValue(name, TensorType(tensor.dtype, tensor.shape), kind: .state)
        tensors[id] = tensor
        return id
    }

    /// Appends a node applying `op` to `inputs`, inferring its output types. Outputs are named
    /// `outputNames` where given, else after the node.
    @discardableResult
    public mutating func apply(_ op: Op, _ inputs: [ValueID], name: String, outputNames: [String] = []) throws -> [ValueID] {
        let types: [TensorType]
        do {
            types = try op.outputTypes(for: inputs.map { type(of: $0) })
        } catch let error as InvalidInput {
            throw InvalidInput(nil, "node '\(name)' (\(op.kindName)): \(error.problem)")
        }
        let outputs = types.enumerated().map { index, type in
            let outputName = index < outputNames.count ? outputNames[index] : (types.count == 1 ? name : "\(name):\(index)")
            return addValue(outputName, type, kind: .intermediate)
        }
        nodes.append(Node(op: op, inputs: inputs, outputs: outputs, name: name))
        return outputs
    }

    /// Appends a node with exactly one output and returns it.
    public mutating func apply1(_ op: Op, _ inputs: [ValueID], name: String) throws -> ValueID {
        try apply(op, inputs, name: name)[0]
    }

    /// Renames a value (the new name must be free).
    public mutating func rename(_ id: ValueID, to newName: String) {
        precondition(names[newName] == nil || names[newName] == id, "value name '\(newName)' is taken")
        names[values[id.index].name] = nil
        values[id.index].name = newName
        names[newName] = id
    }

    /// Changes what a value is (e.g. freezing a parameter into a constant).
    public mutating func setKind(_ id: ValueID, _ kind: ValueKind) {
        values[id.index].kind = kind
    }

    /// For each value, the node that produces it (nil for inputs, parameters and constants).
    public var producers: [Int?] {
        var result = [Int?](repeating: nil, count: values.count)
        for (index, node) in nodes.enumerated() { for output in node.outputs { result[output.index] = index } }
        return result
    }

    /// For each value, the indices of the nodes that read it, in order.
    public var consumers: [[Int]] {
        var result = [[Int]](repeating: [], count: values.count)
        for (index, node) in nodes.enumerated() { for input in node.inputs { result[input.index].append(index) } }
        return result
    }

    /// Values holding data (parameters, constants, state) in id order.
    public var dataValues: [ValueID] { tensors.keys.sorted() }

    /// Number of parameter elements and bytes, optionally only of one kind.
    public func dataSize(of kind: ValueKind? = nil) -> (elements: Int, bytes: Int) {
        var elements = 0, bytes = 0
        for (id, tensor) in tensors where kind == nil || values[id.index].kind == kind {
            elements += tensor.elementCount
            bytes += tensor.byteCount
        }
        return (elements, bytes)
    }

    /// A copy without the values no node, input or output refers to, with ids renumbered densely.
    /// Graph inputs are kept even when unused: they are the graph's calling convention.
    public func compacted() -> Graph {
        var used = Set(inputs + outputs)
        for node in nodes { used.formUnion(node.inputs); used.formUnion(node.outputs) }
        var result = Graph(name: name)
        result.metadata = metadata
        var map: [ValueID: ValueID] = [:]
        for (index, value) in values.enumerated() where used.contains(ValueID(index)) {
            let id = result.addValue(value.name, value.type, kind: value.kind)
            map[ValueID(index)] = id
            if let tensor = tensors[ValueID(index)] { result.tensors[id] = tensor }
        }
        result.inputs = inputs.map { map[$0]! }
        result.outputs = outputs.map { map[$0]! }
        result.nodes = nodes.map { Node(op: $0.op, inputs: $0.inputs.map { map[$0]! }, outputs: $0.outputs.map { map[$0]! }, name: $0.name) }
        return result
    }
}

extension Graph {
    /// The graph for inference: parameters and state become constants, so the compiler may fold
    /// them (batch norms into convolutions, weight transposes). Tensors are shared, not copied.
    public func frozen() -> Graph {
        var graph = self
        for id in dataValues where graph[id].kind == .parameter || graph[id].kind == .state { graph.setKind(id, .constant) }
        return graph
    }
}
