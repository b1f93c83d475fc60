import Distill
import GraphIR

/// Where the distillation signals are in a model nobody annotated, read from the graph's structure
/// so that it works for both torch exporters (whose tensor names differ completely):
/// - logits: the output; when the output is the mean of two heads (DeiT), those heads;
/// - ViT tokens: the token sequence [B, T, D] that the model pools (MAE: a slice then a mean over
///   tokens) or normalises before picking tokens (DeiT: the final norm) — the last block's output;
///   prefix tokens = T − the patch count of the first convolution (the patch embedding);
/// - CNN stages: the last feature map at each spatial resolution, after the stem.
/// Models trained and exported by serkd record their taps in metadata (`taps.*`), which wins.
public enum DefaultTaps {
    /// The taps of `graph`, or an error saying what to set by hand.
    public static func infer(_ graph: Graph, role: String) throws -> ModelTaps {
        if let recorded = ModelTaps(metadata: graph.metadata, prefix: "taps.") { return recorded }
        guard let output = graph.outputs.first, graph.type(of: output).shape.rank == 2 else {
            throw InvalidInput(role, "expected a classifier whose first output is logits [B, classes]")
        }
        let producers = graph.producers
        func producer(_ value: ValueID) -> Node? { producers[value.index].map { graph.nodes[$0] } }

        var taps = ModelTaps(logits: graph[output].name)
        if let heads = averagedHeads(output, producer) {
            taps.logits = graph[heads.0].name
            taps.distillationLogits = graph[heads.1].name
        }
        if let tokens = tokenSequence(graph, producer) {
            taps.tokens = graph[tokens].name
            let count = graph.type(of: tokens).shape[1]
            if let patches = graph.nodes.first(where: { if case .core(.conv) = $0.op { return true } else { return false } })
                .map({ graph.type(of: $0.outputs[0]).shape }), patches[2] * patches[3] <= count {
                taps.prefixTokens = count - patches[2] * patches[3]
            }
            return taps
        }
        taps.stages = stageOutputs(graph)
        guard taps.stages.count == 3 else {
            throw InvalidInput(role, "cannot tell where its tokens or stages are: set '\(role).taps' (logits, and tokens + prefix_tokens, or stages) in the config")
        }
        return taps
    }

    /// (class head, distillation head) when `output` is (a + b)/2 or (a + b)·0.5.
    static func averagedHeads(_ output: ValueID, _ producer: (ValueID) -> Node?) -> (ValueID, ValueID)? {
        guard let last = producer(output), case .core(.binary(let f)) = last.op, f == .div || f == .mul,
              let sum = producer(last.inputs[0]), case .binary(.add) = sum.op,
              sum.inputs.allSatisfy({ producer($0).map { node in if case .core(.matMul) = node.op { return true }; if case .binary(.add) = node.op { return true }; return false } ?? false })
        else { return nil }
        return (sum.inputs[0], sum.inputs[1])
    }

    /// The last block's token sequence: what a mean over tokens (MAE) or the final norm (DeiT) reads.
    static func tokenSequence(_ graph: Graph, _ producer: (ValueID) -> Node?) -> ValueID? {
        for node in graph.nodes.reversed() {
            if case .core(.reduce(.mean, let axes, _)) = node.op, axes == [1], graph.type(of: node.inputs[0]).shape.rank == 3 {
                let pooled = node.inputs[0]
                if let slice = producer(pooled), case .core(.slice) = slice.op { return slice.inputs[0] }
                return pooled
            }
            if case .core(.layerNorm) = node.op, graph.type(of: node.inputs[0]).shape.rank == 3 {
                let consumers = graph.consumers[node.outputs[0].index].map { graph.nodes[$0].op }
                let picksTokens = consumers.contains { if case .core(.slice) = $0 { return true }; if case .core(.gather) = $0 { return true }; return false }
                if picksTokens { return node.inputs[0] }
            }
        }
        return nil
    }

    /// Names of the last rank-4 value at each of the first three resolutions after the stem.
    static func stageOutputs(_ graph: Graph) -> [String] {
        var lastAt: [(size: [Int], value: ValueID)] = []
        for node in graph.nodes {
            let shape = graph.type(of: node.outputs[0]).shape
            guard shape.rank == 4, shape[2] > 1 || shape[3] > 1 else { continue }
            let size = [shape[2], shape[3]]
            if let index = lastAt.firstIndex(where: { $0.size == size }) { lastAt[index].value = node.outputs[0] } else { lastAt.append((size, node.outputs[0])) }
        }
        // torchvision's stem runs at its own resolution (conv1 at 1/2, layer1 after the max pool at
        // 1/4): with five resolutions the first is the stem's.
        let stages = lastAt.count >= 5 ? Array(lastAt.dropFirst()) : lastAt
        return stages.prefix(3).map { graph[$0.value].name }
    }
}
