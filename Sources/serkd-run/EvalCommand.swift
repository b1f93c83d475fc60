import CLI
import Data
import Foundation
import GraphIR
import Train

/// `serkd-run eval MODEL --config run.json`: top-1/top-5 of a model on the config's evaluation data
/// (its `data` section, normalised with the config's student normalisation unless the model records
/// its own).
enum EvalCommand {
    static let usage = """
        usage: serkd-run eval MODEL --config RUN.json [--set key=value]…

        Top-1/top-5 and loss of MODEL (.serkd or .onnx) on the evaluation data of RUN.json's `data`
        section, normalised as the model's metadata says (else as the config's student).

          --config FILE        the run config giving the data
          --set key=value      override a config key (repeatable)
        """

    static let command = Command("eval", usage: usage, syntax: Syntax(options: ["config", "set"]), run: run)

    static func run(_ arguments: inout Arguments) throws {
        let modelPath = try arguments.positional("model file (.serkd or .onnx)")
        guard let configPath = arguments.option("config") else { throw InvalidInput("--config", "missing (a run config giving the data)") }
        let overrides = arguments.options("set")
        try arguments.finish()
        let config = try RunConfig.load(configPath, overrides: overrides)
        var entry = config.student
        entry.source = modelPath
        entry.taps = nil
        let graph = try ModelLoader.load(entry, batch: config.evalBatch, data: config.data, seed: config.seed, role: "model").graph
        let normalization = try Normalization(metadata: graph.metadata, source: modelPath)
            ?? Normalization(mean: config.student.mean, std: config.student.std)
        guard normalization.mean.count == config.data.channels else {
            throw InvalidInput(modelPath, "normalises \(normalization.mean.count) channels, the data has \(config.data.channels)")
        }
        let (_, evalSource) = try Datasets.open(config.data)
        let transform = SampleTransform(channels: config.data.channels, width: config.data.imageSize, height: config.data.imageSize,
                                        steps: [Resize(width: config.data.imageSize, height: config.data.imageSize)], normalization: normalization)
        let loader = BatchLoader.evaluation(source: evalSource, transform: transform, batchSize: config.evalBatch, threads: config.data.workers)
        let result = try Evaluator(graph).evaluate(loader)
        print(String(format: "%@: top-1 %.2f%%, top-5 %.2f%%, loss %.4f on %d images", modelPath, result.top1 * 100, result.top5 * 100, result.loss, result.samples))
    }
}
