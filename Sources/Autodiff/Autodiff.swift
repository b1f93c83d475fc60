import GraphIR

/// Reverse-mode differentiation of IR graphs: appends to a graph the nodes computing the gradient of
/// a scalar loss, from one gradient rule per core op.
///
/// Only nodes on a path from a differentiated value to the loss get backward nodes, so a frozen
/// teacher, and whatever only feeds it, costs nothing in backward. Gradients stop silently at values
/// that are not float32 (comparisons, argmax, indices, steps); a float32 op on the path that has no
/// rule is an error, and all such ops are reported together.
public enum Autodiff {
    /// Appends to `graph` the nodes computing d`loss`/d`v` for each `v` in `values` and says where
    /// the gradients are.
    ///
    /// - Parameters:
    ///   - loss: an f32 scalar.
    ///   - values: the values to differentiate with respect to — usually the student's parameters,
    ///     but any f32 value works (an input, an intermediate).
    ///   - graph: extended in place with the backward nodes, after the forward nodes; it is left
    ///     unchanged when this throws.
    /// - Returns: each value's gradient (same type, named `grad/<value name>`; a value with several
    ///   consumers gets the sum of their contributions). A value the loss does not depend on through
    ///   float32 ops gets no gradient and is listed in `Gradients.unreached` instead.
    /// - Throws: `InvalidInput` when the loss is not an f32 scalar, a value is not f32, or ops between
    ///   the values and the loss have no gradient rule (naming every such node and its op).
    public static func gradients(of loss: ValueID, withRespectTo values: [ValueID], in graph: inout Graph) throws -> Gradients {
        let pass = try Differentiation(graph, loss: loss, values: values)
        let (result, gradients) = try pass.run()
        graph = result
        return gradients
    }

    /// The forward values the gradient rule of `node` keeps alive into the backward pass when the
    /// inputs flagged in `inputsNeedingGradient` need gradients, or nil when its op has no rule.
    /// Softmax keeps its output, norms their input and statistics, matMul the operand opposite each
    /// gradient; gradients that need no forward value (add, reshape, averagePool) keep nothing.
    public static func keptValues(for node: Node, inputsNeedingGradient: [Bool]) -> [ValueID]? {
        rule(for: node.op)?.keptValues(for: node, needsGradient: inputsNeedingGradient)
    }
}

/// Where `Autodiff.gradients` put the gradients it appended, and what the backward pass keeps.
public struct Gradients: Sendable {
    /// For each differentiated value the loss depends on, the value holding d loss / d value.
    public var values: [ValueID: ValueID]
    /// Differentiated values with no float32 path to the loss, in request order: they get no
    /// gradient (an optimizer should leave them alone, or treat their gradient as zero).
    public var unreached: [ValueID]
    /// For each forward node that received backward nodes (by index in `graph.nodes`), the forward
    /// values those nodes read, in id order: what lives from the forward pass into backward.
    public var keptValues: [Int: [ValueID]]

    /// The gradient of `value`, or nil when it does not reach the loss.
    public subscript(value: ValueID) -> ValueID? { values[value] }
}

/// One reverse-mode pass: which nodes lie between the differentiated values and the loss, then
/// their rules applied in reverse order with gradient contributions summed per value.
struct Differentiation {
    let forward: Graph
    let loss: ValueID
    /// The differentiated values, without repeats, in request order.
    let values: [ValueID]
    /// f32 values that depend on a differentiated value through f32 values.
    private let active: [Bool]
    /// f32 values the loss depends on through f32 values.
    private let needed: [Bool]

    init(_ graph: Graph, loss: ValueID, values: [ValueID]) throws {
        func isFloat(_ id: ValueID) -> Bool { graph.type(of: id).dtype == .float32 }
        precondition(([loss] + values).allSatisfy { $0.index >= 0 && $0.index < graph.values.count }, "value outside the graph")
        guard graph.type(of: loss) == TensorType(.float32, []) else {
            throw InvalidInput("loss '\(graph[loss].name)'", "must be an f32 scalar, got \(graph.type(of: loss))")
        }
        for value in values where !isFloat(value) {
            throw InvalidInput("value '\(graph[value].name)'", "is \(graph.type(of: value)); only f32 values have gradients")
        }
        forward = graph
        self.loss = loss
        var seen = Set<ValueID>()
        self.values = values.filter { seen.insert($0).inserted }

        var active = [Bool](repeating: false, count: graph.values.count)
        for value in values { active[value.index] = true }
        for node in graph.nodes where node.inputs.contains(where: { active[$0.index] }) {
            for output in node.outputs where isFloat(output) { active[output.index] = true }
        }
        var needed = [Bool](repeating: false, count: graph.values.count)
        needed[loss.index] = true
        for node in graph.nodes.reversed() where node.outputs.contains(where: { needed[$0.index] }) {
            for input in node.inputs where isFloat(input) { needed[input.index] = true }
        }
        self.active = active
        self.needed = needed
    }

    /// Whether the gradient flows through `value`: it depends on a differentiated value, and the
    /// loss depends on it.
    private func carriesGradient(_ value: ValueID) -> Bool { active[value.index] && needed[value.index] }

    /// Appends the backward nodes to a copy of the graph; returns it and where the gradients are.
    func run() throws -> (Graph, Gradients) {
        let nodes = forward.nodes.indices.filter { forward.nodes[$0].outputs.contains(where: carriesGradient) }
        var rules: [Int: GradientRule] = [:]
        var missing: [String] = []
        for index in nodes {
            let node = forward.nodes[index]
            guard let rule = Autodiff.rule(for: node.op) else {
                missing.append("'\(node.name.isEmpty ? forward[node.outputs[0]].name : node.name)' (\(node.op.kindName))")
                continue
            }
            rules[index] = rule
        }
        if !missing.isEmpty {
            throw InvalidInput("graph '\(forward.name)'", "no gradient rule for \(missing.count) node\(missing.count == 1 ? "" : "s") "
                               + "between the parameters and the loss: " + missing.joined(separator: ", "))
        }
        guard active[loss.index] else { return (forward, Gradients(values: [:], unreached: values, keptValues: [:])) }

        var builder = GradientBuilder(graph: forward)
        var accumulation = Accumulation(firstNewValue: forward.values.count)
        accumulation.contributions[loss] = [builder.constant("grad/\(forward[loss].name)", Tensor(scalar: Float(1)))]
        var kept: [Int: [ValueID]] = [:]
        for index in nodes.reversed() {
            let node = forward.nodes[index]
            let outputGradients = try node.outputs.map { try accumulation.gradient(of: $0, &builder) }
            guard outputGradients.contains(where: { $0 != nil }) else { continue }
            let needsGradient = node.inputs.map { active[$0.index] }
            builder.start(node, outputGradients: outputGradients, needsGradient: needsGradient)
            let firstNode = builder.graph.nodes.count
            let rule = rules[index]!
            let results = try rule.build(&builder)
            precondition(results.count == node.inputs.count, "rule of \(node.op.kindName) returned \(results.count) gradients for \(node.inputs.count) inputs")

            let read = Set(builder.graph.nodes[firstNode...].flatMap(\.inputs).filter { $0.index < forward.values.count })
            assert(read.isSubset(of: rule.keptValues(for: node, needsGradient: needsGradient)),
                   "rule of \(node.op.kindName) reads \(read.map { forward[$0].name }) but keeps only "
                   + "\(rule.keptValues(for: node, needsGradient: needsGradient).map { forward[$0].name })")
            if !read.isEmpty { kept[index] = read.sorted() }

            for (input, (gradient, wanted)) in zip(node.inputs, zip(results, needsGradient)) where wanted {
                guard let gradient else { continue }
                precondition(builder.graph.type(of: gradient) == forward.type(of: input),
                             "rule of \(node.op.kindName) gives '\(forward[input].name)' a \(builder.graph.type(of: gradient)) gradient")
                accumulation.contributions[input, default: []].append(gradient)
            }
        }

        var gradients = Gradients(values: [:], unreached: [], keptValues: kept)
        for value in values {
            if let gradient = try accumulation.gradient(of: value, &builder) {
                gradients.values[value] = gradient
            } else {
                gradients.unreached.append(value)
            }
        }
        try Verifier.verify(builder.graph)
        return (builder.graph, gradients)
    }
}

/// Gradient contributions collected per value until every consumer has contributed, then summed
/// once into the value's gradient `grad/<value name>`.
struct Accumulation {
    /// Values created by autodiff have ids from here on; only those may be renamed.
    let firstNewValue: Int
    /// Contributions not yet summed.
    var contributions: [ValueID: [ValueID]] = [:]
    /// Summed gradients.
    private var totals: [ValueID: ValueID] = [:]
    /// Values already named after the value they are the gradient of: a gradient passed through
    /// unchanged (add, identity) keeps the name of the first value it was the gradient of.
    private var renamed: Set<ValueID> = []

    init(firstNewValue: Int) { self.firstNewValue = firstNewValue }

    /// The gradient of `value`: its contributions summed with `add` nodes, or the single
    /// contribution renamed `grad/<value name>` when autodiff created it; nil when there are none.
    /// Call only once every consumer of `value` has contributed.
    mutating func gradient(of value: ValueID, _ builder: inout GradientBuilder) throws -> ValueID? {
        if let total = totals[value] { return total }
        guard let parts = contributions.removeValue(forKey: value), let first = parts.first else { return nil }
        let name = "grad/\(builder.graph[value].name)"
        var total = first
        if parts.count == 1 {
            if first.index >= firstNewValue && builder.graph[first].kind == .intermediate && builder.graph.value(named: name) == nil
                && !renamed.contains(first) {
                builder.rename(first, to: name)
            }
        } else {
            for (index, part) in parts.dropFirst().enumerated() {
                total = try builder.append(.binary(.add), [total, part], name: "\(name)/sum",
                                           outputName: index == parts.count - 2 ? name : nil)
            }
        }
        renamed.insert(total)
        totals[value] = total
        return total
    }
}
