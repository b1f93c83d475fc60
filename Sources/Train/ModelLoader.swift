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

    /// A `.serkd` model has the batch it was imported or exported for; other batch sizes need the
    /// original (ONNX or zoo) model.
    static func rebatched(_ graph: Graph, batch: Int, source: String) throws -> Graph {
        guard let input = graph.inputs.first else { throw InvalidInput(source, "the model has no inputs") }
        let modelBatch = graph.type(of: input).shape[0]
        guard modelBatch == batch else {
            throw InvalidInput(source, "was imported for batch \(modelBatch), the run needs batch \(batch): import it again with `serkd-convert import … --batch \(batch)` or give the .onnx file")
        }
        return graph
    }
}
