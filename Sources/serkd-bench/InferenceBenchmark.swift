import CLI
import Compiler
import Foundation
import GraphIR
import ONNX
import Runtime

/// Inference latency of one model at one batch size, excluding import and planning.
enum InferenceBenchmark {
    static func run(_ arguments: inout Arguments) throws {
        let path = try arguments.positional("model file (.serkd or .onnx)")
        let batch = try arguments.intOption("batch", in: 1...4096) ?? 1
        let repeats = try arguments.intOption("repeat", in: 1...10000) ?? 10
        let warmup = try arguments.intOption("warmup", in: 0...1000) ?? 3
        let json = arguments.flag("json")
        try arguments.finish()

        let graph: Graph
        if path.lowercased().hasSuffix(".onnx") {
            graph = try ONNXImport.graph(fromFile: path, options: ONNXImport.Options(batch: batch))
        } else if path.lowercased().hasSuffix(".txt") {
            graph = try Graph(text: try String(contentsOfFile: path, encoding: .utf8))
        } else {
            graph = try ModelFile.read(path)
        }
        let compiled = try Pipeline.compile(graph.frozen())
        let (plan, memory) = (compiled.plan, compiled.memory)
        let executor = Executor(plan, frozenWeights: .packed)
        var generator = SystemRandomNumberGenerator()
        let inputs = graph.inputs.map { id -> Tensor in
            let type = graph.type(of: id)
            return Tensor((0..<type.shape.elementCount).map { _ in Float.random(in: -1...1, using: &generator) }, shape: type.shape)
        }
        let timing = try Timing.measure(repeats: repeats, warmup: warmup) { _ = try executor.run(inputs) }
        if json {
            print("{\"model\": \"\(path)\", \"batch\": \(batch), \"median_ms\": \(timing.median * 1000), \"min_ms\": \(timing.minimum * 1000), \"arena_bytes\": \(memory.arenaBytes), \"kernels\": \(plan.steps.count)}")
        } else {
            print("\(path) batch \(batch): median \(String(format: "%.2f", timing.median * 1000)) ms, best \(String(format: "%.2f", timing.minimum * 1000)) ms over \(repeats) runs; \(plan.steps.count) kernels, arena \(memory.arenaBytes) bytes")
        }
    }
}
