import GraphIR

/// A value on a forward node, by position: how a gradient rule names what it keeps.
enum NodeOperand: Hashable {
    /// The node's input at this index.
    case input(Int)
    /// The node's output at this index.
    case output(Int)
}

/// How to differentiate one kind of node: the backward nodes to append, and which forward values
/// those nodes read (DESIGN §7), so the memory planner knows what lives from forward into backward.
struct GradientRule {
    /// For each forward value the backward nodes may read, the inputs whose gradients need it. A
    /// value is kept when any of those inputs needs a gradient. Debug builds check after every
    /// rule application that the backward nodes read no other forward value.
    var keeps: [NodeOperand: Set<Int>]
    /// Appends the backward nodes through the builder and returns, for each input of the forward
    /// node, its gradient contribution (a value of the input's type) or nil where none flows.
    var build: (inout GradientBuilder) throws -> [ValueID?]

    init(keeping keeps: [NodeOperand: Set<Int>] = [:], _ build: @escaping (inout GradientBuilder) throws -> [ValueID?]) {
        self.keeps = keeps
        self.build = build
    }

    /// The forward values kept when the inputs flagged in `needsGradient` need gradients.
    func keptValues(for node: Node, needsGradient: [Bool]) -> [ValueID] {
        let wanted = Set(needsGradient.indices.filter { needsGradient[$0] })
        return keeps.compactMap { operand, users -> ValueID? in
            guard !users.isDisjoint(with: wanted) else { return nil }
            switch operand {
            case .input(let i): return i < node.inputs.count ? node.inputs[i] : nil
            case .output(let i): return i < node.outputs.count ? node.outputs[i] : nil
            }
        }.sorted()
    }
}

/// What a gradient rule works with: the forward node, the gradients flowing into its outputs, and
/// the graph it appends backward nodes to.
///
/// Backward nodes are named `grad/<forward node>/<label>`, so a dump reads as the forward graph
/// followed by its mirror image.
struct GradientBuilder {
    /// The graph being extended.
    private(set) var graph: Graph
    /// The forward node being differentiated.
    private(set) var node = Node(op: .identity, inputs: [], outputs: [], name: "")
    /// The gradient of the loss with respect to each output of `node`, nil where none flows back.
    private(set) var outputGradients: [ValueID?] = []
    /// Whether each input of `node` needs a gradient (it depends on a value being differentiated).
    private(set) var needsGradient: [Bool] = []
    /// Scalar constants already added, by value, so rules share one `0`, `1`, `0.5`.
    private var scalars: [Float: ValueID] = [:]

    init(graph: Graph) { self.graph = graph }

    /// Points the builder at the next forward node.
    mutating func start(_ node: Node, outputGradients: [ValueID?], needsGradient: [Bool]) {
        self.node = node
        self.outputGradients = outputGradients
        self.needsGradient = needsGradient
    }

    /// The forward node's input at `index`.
    func input(_ index: Int) -> ValueID { node.inputs[index] }

    /// The forward node's output at `index`.
    func output(_ index: Int) -> ValueID { node.outputs[index] }

    /// The gradient of a single-output node's output (always present when its rule runs).
    var outputGradient: ValueID {
        guard let gradient = outputGradients[0] else { preconditionFailure("rule of '\(node.name)' ran without an output gradient") }
        return gradient
    }

    /// Whether the forward node's input at `index` needs a gradient.
    func needs(_ index: Int) -> Bool { needsGradient[index] }

    /// The shape of a value.
    func shape(of value: ValueID) -> Shape { graph.type(of: value).shape }

    /// The forward node's name, or its first output's name when it has none.
    var nodeName: String { node.name.isEmpty ? graph[node.outputs[0]].name : node.name }

    /// Appends `op` on `inputs` as node `grad/<forward node>/<label>` and returns its outputs.
    @discardableResult
    mutating func apply(_ op: Op, _ inputs: [ValueID], _ label: String) throws -> [ValueID] {
        try graph.apply(op, inputs, name: "grad/\(nodeName)/\(label)")
    }

    /// Appends a single-output `op` and returns its output.
    mutating func apply1(_ op: Op, _ inputs: [ValueID], _ label: String) throws -> ValueID {
        try apply(op, inputs, label)[0]
    }

    /// Appends a node outside any forward node's rule (gradient accumulation), named `name`.
    mutating func append(_ op: Op, _ inputs: [ValueID], name: String, outputName: String? = nil) throws -> ValueID {
        try graph.apply(op, inputs, name: name, outputNames: outputName.map { [$0] } ?? [])[0]
    }

    /// A float32 scalar constant, shared by every rule that asks for the same value.
    mutating func scalar(_ value: Float) -> ValueID {
        if let existing = scalars[value] { return existing }
        let id = graph.addConstant("grad/scalar/\(value)", Tensor(scalar: value))
        scalars[value] = id
        return id
    }

    /// A named constant (the seed gradient of the loss).
    mutating func constant(_ name: String, _ tensor: Tensor) -> ValueID {
        graph.addConstant(name, tensor)
    }

    /// Renames a value created by autodiff.
    mutating func rename(_ value: ValueID, to name: String) {
        graph.rename(value, to: name)
    }

    /// `gradient` summed over the axes along which a value of `shape` was broadcast (numpy rules)
    /// to produce it, then reshaped to `shape`: the adjoint of broadcasting.
    mutating func unbroadcast(_ gradient: ValueID, to shape: Shape) throws -> ValueID {
        let from = self.shape(of: gradient)
        if from == shape { return gradient }
        let leading = from.rank - shape.rank
        let axes = (0..<from.rank).filter { $0 < leading || (shape[$0 - leading] == 1 && from[$0] != 1) }
        var result = gradient
        if !axes.isEmpty { result = try apply1(.reduce(.sum, axes: axes, keepDims: false), [result], "sum") }
        return try reshape(result, to: shape)
    }

    /// `gradient` reduced to the shape of the forward node's input at `index`.
    mutating func unbroadcast(_ gradient: ValueID, toInput index: Int) throws -> ValueID {
        try unbroadcast(gradient, to: shape(of: input(index)))
    }

    /// `value` reshaped to `shape`, or `value` itself when it already has that shape.
    mutating func reshape(_ value: ValueID, to shape: Shape) throws -> ValueID {
        self.shape(of: value) == shape ? value : try apply1(.reshape(shape), [value], "reshape")
    }
}
