import GraphIR

/// Trades compute for memory when a plan exceeds a budget: a cheap value that is read early and
/// then again much later (a GELU's output, read by the next layer and, in the backward pass, by that
/// layer's weight gradient; a layer norm's output) is recomputed just before its late readers
/// instead of being kept alive in between.
///
/// A value qualifies when its producer is cheap (elementwise ops, layer norm) and every input of
/// that producer is still alive at the late reader anyway (kept for another reason, or data), so
/// the recomputation makes no new long-lived buffer. Reads through views (reshape, identity) count
/// as reads of the value, and the views are recomputed with it. The decision uses only the
/// schedule's liveness, not names, so it survives fusion and CSE. Candidates are ranked by
/// bytes × gap.
public enum Recomputation {
    /// A recomputable value: its producer, where recomputation resumes, and the reads it serves.
    struct Candidate {
        var value: ValueID
        var producer: Int
        var resume: Int
        var saving: Int
        /// Late reads: the reading node and the views between the value and it.
        var lateUses: [(reader: Int, views: [Int])]
    }

    /// Every non-view node reading `value`, directly or through views, with the view chain.
    static func uses(of value: ValueID, _ graph: Graph, _ consumers: [[Int]]) -> [(reader: Int, views: [Int])] {
        var result: [(reader: Int, views: [Int])] = []
        func visit(_ value: ValueID, _ path: [Int]) {
            for reader in consumers[value.index] {
                if graph.nodes[reader].op.isView { visit(graph.nodes[reader].outputs[0], path + [reader]) } else { result.append((reader, path)) }
            }
        }
        visit(value, [])
        return result.sorted { $0.reader < $1.reader }
    }

    /// Values worth recomputing in `graph` (in its node order), best first.
    static func candidates(_ graph: Graph) -> [Candidate] {
        let consumers = graph.consumers
        let outputs = Set(graph.outputs)
        let minimumGap = max(8, graph.nodes.count / 10)
        var result: [Candidate] = []
        for (index, node) in graph.nodes.enumerated() where node.op.isCheap {
            for output in node.outputs where graph[output].kind == .intermediate && !outputs.contains(output) {
                let reads = uses(of: output, graph, consumers)
                guard reads.allSatisfy({ read in read.views.allSatisfy { !outputs.contains(graph.nodes[$0].outputs[0]) } }) else { continue }
                // The widest gap between consecutive reads (the producer counts as the first touch).
                let positions = [index] + reads.map(\.reader)
                var gap = (size: 0, resume: 0)
                for (a, b) in zip(positions, positions.dropFirst()) where b - a > gap.size { gap = (b - a, b) }
                guard gap.size >= minimumGap, gap.resume != reads.first?.reader else { continue }
                let inputsAlive = node.inputs.allSatisfy { input in
                    graph.tensors[input] != nil || (consumers[input.index].last ?? -1) >= gap.resume || outputs.contains(input)
                }
                guard inputsAlive else { continue }
                result.append(Candidate(value: output, producer: index, resume: gap.resume, saving: graph.type(of: output).byteCount * gap.size,
                                        lateUses: reads.filter { $0.reader >= gap.resume }))
            }
        }
        return result.sorted { ($0.saving, -$0.producer) > ($1.saving, -$1.producer) }
    }

    /// The graph with its `count` best candidates recomputed before their late readers.
    public static func run(_ graph: Graph, count: Int) -> Graph {
        let chosen = candidates(graph).prefix(count)
        guard !chosen.isEmpty else { return graph }
        var result = graph
        var insertions: [Int: [Node]] = [:]
        var redirect: [Int: [ValueID: ValueID]] = [:]
        for candidate in chosen {
            let producer = graph.nodes[candidate.producer]
            var copies: [ValueID: ValueID] = [:]
            func copy(_ value: ValueID) -> ValueID {
                let id = result.addValue(graph[value].name + "/recomputed", graph.type(of: value), kind: .intermediate)
                copies[value] = id
                return id
            }
            var recomputed = [Node(op: producer.op, inputs: producer.inputs, outputs: producer.outputs.map(copy), name: producer.name + "/recomputed")]
            for use in candidate.lateUses {
                for view in use.views where copies[graph.nodes[view].outputs[0]] == nil {
                    let node = graph.nodes[view]
                    recomputed.append(Node(op: node.op, inputs: node.inputs.map { copies[$0] ?? $0 }, outputs: [copy(node.outputs[0])],
                                           name: node.name + "/recomputed"))
                }
                let read = use.views.last.map { graph.nodes[$0].outputs[0] } ?? candidate.value
                redirect[use.reader, default: [:]][read] = copies[read]
            }
            insertions[candidate.resume, default: []] += recomputed
        }
        var nodes: [Node] = []
        for (index, node) in graph.nodes.enumerated() {
            nodes += insertions[index] ?? []
            var node = node
            if let map = redirect[index] { node.inputs = node.inputs.map { map[$0] ?? $0 } }
            nodes.append(node)
        }
        result.nodes = nodes
        return result
    }
}
