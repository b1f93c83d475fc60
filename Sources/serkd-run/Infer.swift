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
    static func run(_ arguments: inout Arguments) throws {
        let modelPath = try arguments.positional("model file (.serkd, .onnx or .plan)")
        let inputPath = arguments.option("input")
        let imagePaths = arguments.options("image")
        let preprocessing = try ImagePreprocessing(&arguments)
        guard (inputPath == nil) != imagePaths.isEmpty else {
            throw InvalidInput(nil, "give either --input X.npy or one or more --image FILE")
        }
        let outputPath = arguments.option("output")
        let top = try arguments.intOption("top", in: 0...1000) ?? 5
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
            input = try preprocessing.batch(imagePaths, for: model.input)
        }
        let inputName = inputPath ?? imagePaths[0]
        let expected = model.input
        let executor = Executor(model.plan, frozenWeights: true)

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
            printTop(output, k: min(top, output.shape[1]), labels: model.labels)
        }
        if profile { try printProfile(executor, batches.chunks[0]) }
        if let outputPath { try NumPyFile.write(output, to: outputPath) }
    }

    /// Prints where the time goes: seconds per op class, largest first, then the slowest steps.
    static func printProfile(_ executor: Executor, _ input: Tensor) throws {
        let profile = try Profile(executor, [input])
        for line in profile.lines { print(line) }
        print("slowest steps:")
        for (step, time) in zip(executor.plan.steps, profile.stepSeconds).sorted(by: { $0.1 > $1.1 }).prefix(12) {
            let shapes = step.operands.map { executor.plan.buffers[$0.index].shape.description }.joined(separator: " ")
            print("  \(String(format: "%7.2f ms", time * 1000))  \(step.kernel.name) \(step.label)  \(shapes)")
        }
    }

    /// Class labels stored in a model's metadata ("labels": one per line, or comma-separated), if any.
    static func labels(_ text: String?) -> [String]? {
        text.map { text in
            text.split(separator: text.contains("\n") ? "\n" : ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    static func printTop(_ scores: Tensor, k: Int, labels: [String]?) {
        let values = scores.floats
        let classes = scores.shape[1]
        for row in 0..<scores.shape[0] {
            let slice = values[(row * classes)..<((row + 1) * classes)]
            let best = slice.indices.sorted { slice[$0] > slice[$1] || (slice[$0] == slice[$1] && $0 < $1) }.prefix(k)
            let text = best.map { index -> String in
                let c = index - row * classes
                let name = labels.flatMap { c < $0.count ? $0[c] : nil } ?? "class \(c)"
                return "\(name) \(String(format: "%.4f", slice[index]))"
            }
            print("  [\(row)] " + text.joined(separator: ", "))
        }
    }
}

/// Loads a `.serkd` model, or imports an `.onnx` one for the given batch.
func loadModel(_ path: String, batch: Int?) throws -> Graph {
    if path.lowercased().hasSuffix(".onnx") {
        return try ONNXImport.graph(fromFile: path, options: ONNXImport.Options(batch: batch))
    }
    return try ModelFile.read(path)
}
