import CLI
import Compiler
import Foundation
import GraphIR
import ONNX
import Runtime
import Train

/// `serkd-run infer`: runs a model (or a compiled plan) on an input array and prints (and optionally
/// saves) the result.
enum Infer {
    static let usage = """
        usage: serkd-run infer MODEL (--input X.npy | --image FILE…) [--output Y.npy] [--top K]
                               [--labels FILE] [--repeat N] [--profile]
                               [--crop-fraction F] [--mean a,b,c] [--std a,b,c]

        Runs MODEL (.serkd, .onnx imported on the fly, or a .plan from serkd-compile model) on an
        input and prints, for a classifier, the top K classes of each image with their softmax
        probabilities (by name when the model's metadata or --labels names them).

          --input X.npy        the input array, as the model takes it
          --image FILE…        image files (PNG or JPEG), resized, centre-cropped and normalised as the
                               model's metadata says (ImageNet's for a 3-channel model recording none)
          --output Y.npy       also save the raw output
          --top K              how many classes to show (default 5; 0 shows none)
          --labels FILE        class names, one per line (default: the model's own, if it has them)
          --repeat N           run N times and report the median time
          --profile            time each kernel (its median over the --repeat runs)
          --crop-fraction F    centre crop fraction (default: the model's, else 0.875)
          --mean, --std        normalisation, one value or one per channel, over the model's own
        """

    static let command = Command("infer", usage: usage,
                                 syntax: Syntax(flags: ["profile"], options: ["input", "output", "top", "labels", "repeat", "crop-fraction", "mean", "std"],
                                                lists: ["image"]),
                                 run: run)

    static func run(_ arguments: inout Arguments) throws {
        let modelPath = try arguments.positional("model file (.serkd, .onnx or .plan)")
        let inputPath = arguments.option("input")
        let imagePaths = arguments.options("image")
        let preprocessing = try ImagePreprocessing(&arguments)
        guard (inputPath == nil) != imagePaths.isEmpty else {
            throw InvalidInput(nil, "give either --input X.npy or one or more --image FILE")
        }
        if inputPath != nil, let flag = preprocessing.givenFlag { throw InvalidInput(flag, "applies to --image only (--input is fed as it is)") }
        let outputPath = arguments.option("output")
        let top = try arguments.intOption("top", in: 0...1000) ?? 5
        let labelsPath = arguments.option("labels")
        let repeats = try arguments.intOption("repeat", in: 1...10000) ?? 1
        let profile = arguments.flag("profile")
        try arguments.finish()

        let input: Tensor
        let model: LoadedModel
        if let inputPath {
            input = try NumPyFile.read(inputPath)
            model = try LoadedModel(modelPath, batch: input.shape.rank > 0 ? input.shape[0] : nil)
        } else {
            model = try LoadedModel(modelPath, batch: imagePaths.count)
            input = try preprocessing.batch(imagePaths, for: model.input, own: model.normalization, ownCropFraction: model.cropFraction)
        }
        let labels = try labelsPath.map(ClassScores.labels(file:)) ?? model.labels
        let inputName = inputPath ?? imagePaths[0]
        let expected = model.input
        let executor = Executor(model.plan, frozenWeights: .packed)

        let batches = try Batching(input: input, modelInput: expected, path: inputName)
        var outputs: [Tensor] = []
        var seconds: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            outputs = try batches.run { try executor.run([$0])[0] }
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let output = input.shape == expected.shape ? outputs[0] : try Batching.join(outputs, count: input.shape[0])

        let median = seconds.sorted()[seconds.count / 2]
        print("\(modelPath): \(model.summary)")
        print("input \(input.dtype.shortName)\(input.shape) → output \(output.dtype.shortName)\(output.shape) in \(String(format: "%.2f", median * 1000)) ms\(repeats > 1 ? " (median of \(repeats))" : "")")
        if output.dtype == .float32, output.shape.rank == 2, top > 0 {
            if let labelsPath, let labels, labels.count != output.shape[1] {
                throw InvalidInput(labelsPath, "names \(labels.count) classes, the model has \(output.shape[1])")
            }
            for line in ClassScores(output, labels: labels).lines(top: min(top, output.shape[1])) { print(line) }
        }
        if profile { try printProfile(executor, batches.chunks[0], runs: repeats) }
        if let outputPath { try NumPyFile.write(output, to: outputPath) }
    }

    /// Prints where the time goes: per class of work and backend, with GFLOP/s against this
    /// machine's sgemm peak, then the slowest steps; each step's median over `runs` runs.
    static func printProfile(_ executor: Executor, _ input: Tensor, runs: Int) throws {
        let profile = try KernelProfile(executor, [input], runs: runs)
        print("profile (\(runs > 1 ? "median of \(runs) runs per kernel" : "one run"), \(String(format: "%.2f", profile.total * 1000)) ms):")
        for line in profile.lines(plan: executor.plan, peak: KernelProfile.measuredSgemmPeak(), slowest: 12) { print(line) }
    }
}

/// Loads a `.serkd` model, or imports an `.onnx` one for the given batch.
func loadModel(_ path: String, batch: Int?) throws -> Graph {
    if path.lowercased().hasSuffix(".onnx") {
        return try ONNXImport.graph(fromFile: path, options: ONNXImport.Options(batch: batch))
    }
    return try ModelFile.read(path)
}
