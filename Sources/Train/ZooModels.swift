import Distill
import GraphIR

/// Zoo models named in a config.
enum ZooModels {
    static func build(_ entry: RunConfig.Model, batch: Int, data: RunConfig.DataSettings, seed: UInt64, role: String) throws -> (graph: Graph, taps: ModelTaps) {
        throw InvalidInput("\(role).model", "'\(entry.source)' is not a .serkd/.onnx file or a zoo model")
    }
}
