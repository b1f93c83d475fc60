import GraphIR

/// Merges chains of elementwise ops into one `elementwise` op whose kernel evaluates the whole
/// chain in one pass over memory, a cache-sized block at a time.
///
/// A group grows backwards from its last node through producers that are float32 unary, binary,
/// comparison or select ops, whose output has the group's full shape (a smaller operand, such as a
/// bias, stays an input and is broadcast) and is read by nothing outside the group. Comparisons
/// join only as the condition of a select in the same group, so every group input and output is
/// float32.
public enum ElementwiseFusion {
    /// Most instructions in one program: a bound on the kernel's scratch space.
    static let instructionLimit = 24
    /// Most inputs of one program.
    static let inputLimit = 8

    /// The graph with elementwise chains fused.
    public static func run(_ graph: Graph) -> Graph {
        var rewrite = GraphRewrite(graph)
        var grouped = Set<Int>()
        for root in graph.nodes.indices.reversed() where !grouped.contains(root) && !rewrite.isTouched(root) {
            guard role(of: graph.nodes[root], graph) == .root else { continue }
            let shape = graph.type(of: graph.nodes[root].outputs[0]).shape
            var members: Set<Int> = [root]
            var frontier = [root]
            while let member = frontier.popLast() {
                for value in Set(graph.nodes[member].inputs) {
                    guard let producer = rewrite.producer(of: value), !members.contains(producer), !grouped.contains(producer),
                          graph.type(of: value).shape == shape, rewrite.consumers[value.index].allSatisfy({ members.contains($0) }),
                          !rewrite.outputs.contains(value), members.count < instructionLimit else { continue }
                    switch role(of: graph.nodes[producer], graph) {
                    case .root: break
                    case .condition:
                        // A comparison only feeds selects' conditions.
                        guard rewrite.consumers[value.index].allSatisfy({ reader in
                            if case .core(.select) = graph.nodes[reader].op { graph.nodes[reader].inputs[0] == value } else { false }
                        }) else { continue }
                    case nil: continue
                    }
                    members.insert(producer)
                    frontier.append(producer)
                }
            }
            guard members.count >= 2, let (program, inputs) = program(for: members.sorted(), graph),
                  inputs.count <= inputLimit else { continue }
            // Every select's condition must come from inside the group (inputs are float32).
            guard inputs.allSatisfy({ graph.type(of: $0).dtype == .float32 }) else { continue }
            grouped.formUnion(members)
            for member in members where member != root { rewrite.remove(member) }
            let node = graph.nodes[root]
            rewrite.replace(root, with: Node(op: .elementwise(program), inputs: inputs, outputs: node.outputs, name: node.name))
        }
        return rewrite.finished()
    }

    enum Role {
        /// A float32 op that may end a group or sit inside one.
        case root
        /// A comparison of float32 values: inside a group, as a select's condition.
        case condition
    }

    static func role(of node: Node, _ graph: Graph) -> Role? {
        let floats = node.inputs.allSatisfy { graph.type(of: $0).dtype == .float32 }
        guard case .core(let op) = node.op else { return nil }
        switch op {
        case .unary, .binary: return floats ? .root : nil
        case .compare: return floats ? .condition : nil
        case .select:
            let branches = node.inputs.dropFirst().allSatisfy { graph.type(of: $0).dtype == .float32 }
            return branches ? .root : nil
        case .logicalNot, .cast, .identity, .matMul, .conv, .maxPool, .averagePool, .globalAveragePool, .globalMaxPool, .batchNorm,
             .layerNorm, .softmax, .logSoftmax, .reduce, .argMax, .reshape, .transpose, .slice, .concat, .gather, .expand,
             .pad, .tile:
            return nil
        }
    }

    /// The program computing the group `members` (node indices in execution order) and its inputs.
    static func program(for members: [Int], _ graph: Graph) -> (ElementwiseProgram, [ValueID])? {
        let produced = Set(members.flatMap { graph.nodes[$0].outputs })
        var inputs: [ValueID] = []
        var register: [ValueID: Int] = [:]
        for member in members {
            for value in graph.nodes[member].inputs where !produced.contains(value) && register[value] == nil {
                register[value] = inputs.count
                inputs.append(value)
            }
        }
        var instructions: [ElementwiseProgram.Instruction] = []
        for member in members {
            let node = graph.nodes[member]
            let r = node.inputs.map { register[$0]! }
            switch node.op {
            case .core(.unary(let f)): instructions.append(.unary(f, r[0]))
            case .core(.binary(let f)): instructions.append(.binary(f, r[0], r[1]))
            case .core(.compare(let c)): instructions.append(.compare(c, r[0], r[1]))
            case .core(.select): instructions.append(.select(r[0], r[1], r[2]))
            case .core, .training, .fused: return nil
            }
            register[node.outputs[0]] = inputs.count + instructions.count - 1
        }
        return (ElementwiseProgram(inputCount: inputs.count, instructions: instructions), inputs)
    }
}
