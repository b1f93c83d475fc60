import Compiler
import Data
import GraphIR
import ONNX
import Runtime
import Train

/// A model ready to run: a plan file as `serkd-compile model` wrote it (no graph work at all), or a
/// `.serkd`/`.onnx` model lowered here.
struct LoadedModel {
    /// The program.
    let plan: Plan
    /// The one input it takes.
    let input: TensorType
    /// Class names from the model's metadata, if any.
    let labels: [String]?
    /// The input normalisation the model's metadata records, if any.
    let normalization: Data.Normalization?
    /// The centre-crop fraction the model's metadata records, if any.
    let cropFraction: Double?
    /// What was loaded, for the first line of output.
    let summary: String

    /// Loads `path`; `batch` is the batch an ONNX model is imported for (a `.serkd` model or a plan
    /// keeps its own, and other batches are fed in chunks).
    init(_ path: String, batch: Int?) throws {
        if path.hasSuffix(".plan") {
            let file = try PlanFile.read(path)
            guard file.metadata["plan.kind"] != "training" else {
                throw InvalidInput(path, "is a training plan: run it with serkd-run train --config RUN.json --plan \(path)")
            }
            plan = file.plan
            labels = ClassScores.labels(metadata: file.metadata["model.labels"])
            normalization = try Data.Normalization(metadata: file.metadata, prefix: "model.", source: path)
            cropFraction = try Self.cropFraction(file.metadata["model." + ImagePreprocessing.cropFractionKey], path)
            summary = "plan of \(plan.steps.count) kernels, arena \(formatBytes(plan.arenaBytes))"
        } else {
            let graph = try loadModel(path, batch: batch)
            let compiled = try Pipeline.compile(graph.frozen())
            let (plan, memory) = (compiled.plan, compiled.memory)
            self.plan = plan
            labels = ClassScores.labels(metadata: graph.metadata["labels"])
            normalization = try Data.Normalization(metadata: graph.metadata, source: path)
            cropFraction = try Self.cropFraction(graph.metadata[ImagePreprocessing.cropFractionKey], path)
            summary = "\(graph.nodes.count) nodes → \(plan.steps.count) kernels, arena \(formatBytes(memory.arenaBytes))"
        }
        guard plan.inputs.count == 1 else { throw InvalidInput(path, "has \(plan.inputs.count) inputs; infer feeds exactly one") }
        let buffer = plan.buffers[plan.inputs[0].index]
        input = TensorType(buffer.dtype, buffer.shape)
    }

    /// A crop fraction from metadata: a number in (0, 1].
    private static func cropFraction(_ text: String?, _ path: String) throws -> Double? {
        guard let text else { return nil }
        guard let value = Double(text), value > 0, value <= 1 else {
            throw InvalidInput(path, "metadata \(ImagePreprocessing.cropFractionKey) should be a number in (0, 1], not '\(text)'")
        }
        return value
    }
}
