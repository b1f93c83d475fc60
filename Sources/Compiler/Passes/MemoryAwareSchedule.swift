import GraphIR

/// Reorders nodes to keep fewer bytes alive at once: greedy list scheduling that, among the nodes
/// whose inputs are ready, runs the one that allocates least net of what it frees, and among equals
/// the one continuing the most recent work (depth first).
///
/// Any topological order computes the same values; the order decides the liveness lower bound the
/// memory planner can reach. The greedy choice finishes chains before starting new ones (a chain
/// frees its previous activation), so a frozen teacher's transient activations die before the
/// next ones are made, and an optimizer update runs as soon as its gradient exists, freeing it.
/// Nodes that overwrite a value in place wait until every other reader of that value has run.
/// Views (reshape, identity) cost nothing but keep their source alive, so they are not scheduled on
/// their own: each is emitted just before the first node that reads it.
public enum MemoryAwareSchedule {
    /// The graph with its nodes reordered (values and ids unchanged).
    public static func run(_ graph: Graph) -> Graph {
        let count = graph.nodes.count
        guard count > 1 else { return graph }
        let producers = graph.producers
        let consumers = graph.consumers
        // Bytes a node adds to the arena: outputs that are new buffers (not views, not in place).
        func allocated(_ node: Node) -> Int {
            if case .core(.reshape) = node.op { return 0 }
            if case .core(.identity) = node.op { return 0 }
            let inPlace = Set(node.op.inPlaceOutputs.keys)
            return node.outputs.enumerated().reduce(0) { sum, item in
                inPlace.contains(item.offset) ? sum : sum + graph.type(of: item.element).byteCount
            }
        }
        let kept = Set(graph.outputs)
        // Dependencies: producers of inputs, and for in-place nodes every other reader of the value
        // they overwrite.
        var predecessors = [Set<Int>](repeating: [], count: count)
        for (index, node) in graph.nodes.enumerated() {
            for input in node.inputs { if let producer = producers[input.index] { predecessors[index].insert(producer) } }
            for input in node.op.inPlaceOutputs.values {
                for reader in consumers[node.inputs[input].index] where reader != index { predecessors[index].insert(reader) }
            }
        }
        func isView(_ index: Int) -> Bool { graph.nodes[index].op.isView }
        // Views are never scheduled on their own, so a node waits for what its views wait for.
        var effective = [Set<Int>?](repeating: nil, count: count)
        func effectivePredecessors(_ index: Int) -> Set<Int> {
            if let known = effective[index] { return known }
            var result = Set<Int>()
            for p in predecessors[index] { if isView(p) { result.formUnion(effectivePredecessors(p)) } else { result.insert(p) } }
            effective[index] = result
            return result
        }
        var successors = [[Int]](repeating: [], count: count)
        var waiting = [Int](repeating: 0, count: count)
        for index in 0..<count where !isView(index) {
            let set = effectivePredecessors(index)
            waiting[index] = set.count
            for p in set { successors[p].append(index) }
        }
        var unscheduledReaders = consumers.map(\.count)
        var position = [Int](repeating: -1, count: count)
        var ready = Set((0..<count).filter { !isView($0) && waiting[$0] == 0 })
        var order: [Int] = []
        order.reserveCapacity(count)
        var emitted = [Bool](repeating: false, count: count)
        func emit(_ index: Int) {
            guard !emitted[index] else { return }
            // The views this node reads (and views of views) go just before it.
            for input in graph.nodes[index].inputs {
                if let producer = producers[input.index], isView(producer), !emitted[producer] { emit(producer) }
            }
            emitted[index] = true
            ready.remove(index)
            position[index] = order.count
            order.append(index)
            for input in graph.nodes[index].inputs { unscheduledReaders[input.index] -= 1 }
            for next in successors[index] {
                waiting[next] -= 1
                if waiting[next] == 0 { ready.insert(next) }
            }
        }
        // The bytes a node frees: inputs (or the sources behind its views) it is the last reader of.
        while !ready.isEmpty {
            var best: (score: Int, recency: Int, index: Int)?
            for index in ready {
                let node = graph.nodes[index]
                var freed = 0
                var seen = Set<Int>()
                for input in node.inputs where seen.insert(input.index).inserted {
                    let value = graph[input]
                    guard value.kind == .intermediate || value.kind == .input, !kept.contains(input) else { continue }
                    let uses = node.inputs.filter { $0 == input }.count
                    if unscheduledReaders[input.index] == uses { freed += value.type.byteCount }
                }
                let score = allocated(node) - freed
                let recency = node.inputs.compactMap { producers[$0.index].map { position[$0] } }.max() ?? -1
                if best == nil || (score, -recency, index) < (best!.score, -best!.recency, best!.index) { best = (score, recency, index) }
            }
            emit(best!.index)
        }
        // Views nothing scheduled reads (graph outputs) go last.
        for index in 0..<count where !emitted[index] { emit(index) }
        precondition(order.count == count, "the graph has a cycle")
        var result = graph
        result.nodes = order.map { graph.nodes[$0] }
        return result
    }
}
