import Distill
import Foundation
import GraphIR
import ONNX

/// Builds the graphs a run needs from the config's model entries: files (.serkd, .onnx) or zoo names.
public enum ModelLoader {
    /// A model ready for a run: its graph for `batch` images and its taps.
    public struct Loaded {
        public var graph: Graph
        public var taps: ModelTaps
    }

    /// The model of `entry` as an inference graph for `batch` images, with its taps (configured, or
    /// inferred from its structure). `forEvaluation` builds zoo models without drop path.
    public static func load(_ entry: RunConfig.Model, batch: Int, data: RunConfig.DataSettings, seed: UInt64, role: String,
                            forEvaluation: Bool = false) throws -> Loaded {
        let graph: Graph
        var taps = entry.taps
        if entry.source.hasSuffix(".onnx") {
            graph = try ONNXImport.graph(fromFile: entry.source, options: ONNXImport.Options(batch: batch))
        } else if entry.source.hasSuffix(".serkd") {
            graph = try rebatched(ModelFile.read(entry.source), batch: batch, source: entry.source)
        } else {
            let zoo = try ZooModels.build(entry, batch: batch, data: data, seed: seed, role: role, forEvaluation: forEvaluation)
            graph = zoo.graph
            taps = taps ?? zoo.taps
        }
        return Loaded(graph: graph, taps: try taps ?? DefaultTaps.infer(graph, role: role))
    }

    /// A `.serkd` model at another batch size. Its shapes are static, so the model goes through the
    /// exporter's batch analysis (an ONNX model with a symbolic batch, in memory) and is imported again
    /// at `batch`; models whose nodes mix samples cannot be re-batched and say so.
    static func rebatched(_ graph: Graph, batch: Int, source: String) throws -> Graph {
        guard let input = graph.inputs.first else { throw InvalidInput(source, "the model has no inputs") }
        let modelBatch = graph.type(of: input).shape[0]
        if modelBatch == batch { return graph }
        let (bytes, summary) = try ONNXExport.serialized(graph)
        guard summary.dynamicBatch else {
            throw InvalidInput(source, "was made for batch \(modelBatch) and cannot be re-batched to \(batch) (\(summary.fixedBatchReason ?? "its nodes mix samples")): import it again with `serkd-convert import … --batch \(batch)`")
        }
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("serkd-rebatch-\(UUID().uuidString).onnx").path
        try AtomicFile.write(bytes, to: temporary)
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        var rebatched = try ONNXImport.graph(fromFile: temporary, options: ONNXImport.Options(batch: batch))
        rebatched.name = graph.name
        rebatched.metadata = graph.metadata.merging(["batch": String(batch)]) { $1 }
        for id in rebatched.dataValues {
            // Keep what the file said a tensor is (a running statistic stays state).
            if let original = graph.value(named: rebatched[id].name), graph.tensors[original] != nil { rebatched.setKind(id, graph[original].kind) }
        }
        return rebatched
    }
}
