import Distill
import GraphIR

/// Zoo models named in a config, with the config's `options` applied to the preset.
enum ZooModels {
    /// The model `entry.source` names, sized for the run's data. Evaluation builds turn drop path off
    /// (names are unchanged, so trained weights bind by name).
    static func build(_ entry: RunConfig.Model, batch: Int, data: RunConfig.DataSettings, seed: UInt64, role: String,
                      forEvaluation: Bool) throws -> (graph: Graph, taps: ModelTaps) {
        guard ModelZoo.names.contains(entry.source) else {
            throw InvalidInput("\(role).model", "'\(entry.source)' is not a .serkd/.onnx file or a zoo model (\(ModelZoo.names.joined(separator: ", ")))")
        }
        var architecture = try ModelZoo.architecture(entry.source, classes: data.classes, imageSize: data.imageSize, channels: data.channels)
        let options = entry.zoo
        switch architecture {
        case .visionTransformer(var vit):
            if let width = options["dim"] ?? options["width"] { vit.width = Int(width) }
            if let depth = options["depth"] { vit.depth = Int(depth) }
            if let heads = options["heads"] { vit.heads = Int(heads) }
            if let patch = options["patch"] { vit.patchSize = Int(patch) }
            if let ratio = options["mlp_ratio"] { vit.mlpRatio = ratio }
            if let rate = options["drop_path"] { vit.dropPath = Float(rate) }
            if forEvaluation { vit.dropPath = 0 }
            architecture = .visionTransformer(vit)
        case .resNet(var resnet):
            if let width = options["width"] { resnet.widths = resnet.widths.map { $0 * Int(width) / resnet.widths[0] } }
            if options["dim"] != nil || options["depth"] != nil || options["heads"] != nil || options["patch"] != nil || options["drop_path"] != nil {
                throw InvalidInput("\(role).options", "a ResNet takes only 'width' (the first stage's channels)")
            }
            architecture = .resNet(resnet)
        }
        do {
            return try architecture.graph(batch: batch, seed: seed, name: entry.source)
        } catch let error as InvalidInput {
            throw InvalidInput("\(role).options", error.problem)
        }
    }
}
