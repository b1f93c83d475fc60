import GraphIR

/// Removes nodes whose results nothing needs, and the values only they used.
///
/// A node is live when a graph output depends on it, or when it updates state in place (optimizer
/// steps, running statistics): those effects are the point of a training step even though no output
/// reads them. Imported students carry heads and averaging nodes the training step does not use.
public enum DeadCodeElimination {
    /// The graph without dead nodes and unreferenced values.
    public static func run(_ graph: Graph) -> Graph {
        let producers = graph.producers
        var live = [Bool](repeating: false, count: graph.nodes.count)
        var pending = graph.outputs.compactMap { producers[$0.index] }
        pending += graph.nodes.indices.filter { !graph.nodes[$0].op.inPlaceOutputs.isEmpty }
        while let index = pending.popLast() {
            guard !live[index] else { continue }
            live[index] = true
            pending += graph.nodes[index].inputs.compactMap { producers[$0.index] }
        }
        var result = graph
        result.nodes = graph.nodes.indices.filter { live[$0] }.map { graph.nodes[$0] }
        return result.compacted()
    }
}
