extension Graph {
    /// The graph without nodes whose results nothing needs, and without the values only they used.
    ///
    /// A node is live when a graph output depends on it, or when it updates state in place (optimizer
    /// steps, running statistics): those effects are the point of a training step even though no
    /// output reads them. Imported models carry shape arithmetic, and students carry heads and
    /// averaging nodes, that nothing downstream uses.
    public func removingDeadNodes() -> Graph {
        let producers = self.producers
        var live = [Bool](repeating: false, count: nodes.count)
        var pending = outputs.compactMap { producers[$0.index] }
        pending += nodes.indices.filter { !nodes[$0].op.inPlaceOutputs.isEmpty }
        while let index = pending.popLast() {
            guard !live[index] else { continue }
            live[index] = true
            pending += nodes[index].inputs.compactMap { producers[$0.index] }
        }
        var result = self
        result.nodes = nodes.indices.filter { live[$0] }.map { nodes[$0] }
        return result.compacted()
    }
}
