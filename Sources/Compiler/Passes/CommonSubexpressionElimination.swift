import GraphIR

/// Computes each distinct (op, inputs) once: a second node applying the same op to the same values
/// is dropped and its readers read the first node's outputs. Small constants holding the same data
/// are merged first, so `x·0.5` written twice against two copies of 0.5 is recognised too.
///
/// Nodes that update a value in place, and dropout (each node draws its own mask), are never merged.
public enum CommonSubexpressionElimination {
    /// Constants up to this many elements are compared by content.
    static let constantLimit = 64

    /// The graph with duplicate nodes and small duplicate constants removed.
    public static func run(_ graph: Graph) -> Graph {
        var rewrite = GraphRewrite(graph)
        var canonical: [ValueID: ValueID] = [:]
        var constants: [ConstantKey: ValueID] = [:]
        for id in graph.dataValues where graph[id].kind == .constant {
            let tensor = graph.tensors[id]!
            guard tensor.elementCount <= constantLimit else { continue }
            let key = ConstantKey(dtype: tensor.dtype, shape: tensor.shape,
                                  bytes: Array(UnsafeRawBufferPointer(start: tensor.rawPointer, count: tensor.byteCount)))
            if let first = constants[key], !rewrite.outputs.contains(id) {
                canonical[id] = first
                rewrite.substitute(id, with: first)
            } else {
                constants[key] = id
            }
        }
        var seen: [NodeKey: Int] = [:]
        for (index, node) in graph.nodes.enumerated() {
            guard node.op.isPure else { continue }
            let key = NodeKey(op: node.op, inputs: node.inputs.map { canonical[$0] ?? $0 })
            guard let first = seen[key] else {
                seen[key] = index
                continue
            }
            guard node.outputs.allSatisfy({ !rewrite.outputs.contains($0) }) else { continue }
            for (output, kept) in zip(node.outputs, graph.nodes[first].outputs) {
                canonical[output] = kept
                rewrite.substitute(output, with: kept)
            }
            rewrite.remove(index)
        }
        return rewrite.finished()
    }

    struct NodeKey: Hashable {
        var op: Op
        var inputs: [ValueID]
    }

    struct ConstantKey: Hashable {
        var dtype: DType
        var shape: Shape
        var bytes: [UInt8]
    }
}
