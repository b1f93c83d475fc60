import GraphIR

/// Edits a pass collects while it looks at a graph, applied together at the end: nodes removed,
/// nodes replaced in place, values substituted for others.
///
/// A fusion replaces the last node of a matched chain by the fused node (which keeps that node's
/// output values, so nothing downstream changes) and removes the chain's interior nodes; that is
/// always a valid order, since every input of the chain is defined before the chain's first node.
/// Producers and consumers describe the graph as the pass found it.
struct GraphRewrite {
    private(set) var graph: Graph
    /// Index of the node producing each value.
    let producers: [Int?]
    /// Indices of the nodes reading each value.
    let consumers: [[Int]]
    /// The graph's outputs, which no rewrite may make disappear.
    let outputs: Set<ValueID>
    private var removed = Set<Int>()
    private var replaced: [Int: Node] = [:]
    private var substitutions: [ValueID: ValueID] = [:]

    init(_ graph: Graph) {
        self.graph = graph
        producers = graph.producers
        consumers = graph.consumers
        outputs = Set(graph.outputs)
    }

    /// The node at `index` as the pass found it.
    subscript(index: Int) -> Node { graph.nodes[index] }

    /// The index of the node producing `value`, if a node that no edit has touched produces it.
    func producer(of value: ValueID) -> Int? {
        guard let index = producers[value.index], !isTouched(index) else { return nil }
        return index
    }

    /// Whether node `index` reads `value` and nothing else needs it: no other node and no graph output.
    func isOnlyRead(_ value: ValueID, by index: Int) -> Bool {
        !outputs.contains(value) && consumers[value.index].allSatisfy { $0 == index }
    }

    /// The one node reading `value`, when exactly one node does and the value is not a graph output.
    func soleConsumer(of value: ValueID) -> Int? {
        let readers = Set(consumers[value.index])
        guard readers.count == 1, !outputs.contains(value), let reader = readers.first, !isTouched(reader) else { return nil }
        return reader
    }

    /// Whether a previous edit removed or replaced node `index`.
    func isTouched(_ index: Int) -> Bool { removed.contains(index) || replaced[index] != nil }

    /// The value of a float32 constant holding a single element.
    func scalar(_ value: ValueID) -> Double? {
        let v = graph[value]
        guard v.kind == .constant, v.type.dtype == .float32, v.type.shape.elementCount == 1, let tensor = graph.tensors[value] else { return nil }
        return tensor.doubles[0]
    }

    /// Drops node `index`.
    mutating func remove(_ index: Int) {
        precondition(!isTouched(index), "node \(index) is already rewritten")
        removed.insert(index)
    }

    /// Puts `node` where node `index` was.
    mutating func replace(_ index: Int, with node: Node) {
        precondition(!isTouched(index), "node \(index) is already rewritten")
        replaced[index] = node
    }

    /// Makes every reader of `old` (nodes and graph outputs) read `new` instead.
    mutating func substitute(_ old: ValueID, with new: ValueID) {
        substitutions[old] = new
    }

    /// Adds fixed data.
    mutating func addConstant(_ name: String, _ tensor: Tensor) -> ValueID { graph.addConstant(name, tensor) }

    /// Adds an intermediate value for a new node's output.
    mutating func addIntermediate(_ name: String, _ type: TensorType) -> ValueID { graph.addValue(name, type, kind: .intermediate) }

    /// Turns the output of a node about to be removed into a constant holding `tensor`.
    mutating func makeConstant(_ value: ValueID, _ tensor: Tensor) {
        graph.setKind(value, .constant)
        graph.tensors[value] = tensor
    }

    /// The edited graph, without the values only removed nodes used.
    func finished() -> Graph {
        func resolve(_ id: ValueID) -> ValueID {
            var current = id
            while let next = substitutions[current] { current = next }
            return current
        }
        var result = graph
        result.nodes = graph.nodes.indices.compactMap { index -> Node? in
            guard !removed.contains(index) else { return nil }
            var node = replaced[index] ?? graph.nodes[index]
            node.inputs = node.inputs.map(resolve)
            return node
        }
        result.outputs = graph.outputs.map(resolve)
        return result.compacted()
    }
}
