import CLI
import Compiler
import Foundation
import GraphIR
import Runtime

/// Forward plus backward of the RKD angle loss (the Gram form, METHOD §5.2) at one (B, N, D), with
/// the memory it plans: the number behind the paper's 0.95 GB / 17.73 GB remark (METHOD §6).
enum RKDAngleBenchmark {
    static func run(_ arguments: inout Arguments) throws {
        let batch = try arguments.intOption("batch", in: 1...4096) ?? 64
        let count = try arguments.intOption("tokens", in: 2...4096) ?? 196
        let width = try arguments.intOption("width", in: 1...16384) ?? 768
        let chunk = try arguments.intOption("chunk", in: 1...4096) ?? 16
        let repeats = try arguments.intOption("repeat", in: 1...1000) ?? 3
        let warmup = try arguments.intOption("warmup", in: 0...100) ?? 1
        let json = arguments.flag("json")
        try arguments.finish()

        var graph = Graph(name: "rkd_angle")
        let tokens = TensorType(.float32, [batch, count, width])
        let student = graph.addInput("student", tokens), teacher = graph.addInput("teacher", tokens)
        let loss = try graph.apply1(.rkdAngle(chunk: chunk), [student, teacher], name: "angle")
        let one = graph.addConstant("one", Tensor(scalar: Float(1)))
        let gradient = try graph.apply1(.rkdAngleBackward(chunk: chunk), [student, teacher, one], name: "angle_backward")
        graph.outputs = [loss, gradient]
        let (plan, memory) = try Lowering.plan(graph)
        let workspace = plan.steps.map(\.kernel.workspaceBytes).max() ?? 0

        // Uniform in [-1, 1) from a linear congruential sequence: the values do not matter, only that
        // tokens are distinct, and drawing 10⁸ of them from the system generator would dominate the run.
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        let inputs = (0..<2).map { _ in
            Tensor((0..<tokens.shape.elementCount).map { _ -> Float in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return Float(state >> 40) / Float(1 << 23) - 1
            }, shape: tokens.shape)
        }
        let executor = Executor(plan)
        let timing = try Timing.measure(repeats: repeats, warmup: warmup) { _ = try executor.run(inputs) }
        let maxRSS = peakResidentBytes()
        if json {
            print("{\"batch\": \(batch), \"tokens\": \(count), \"width\": \(width), \"chunk\": \(chunk), \"threads\": \(Parallel.threadCount), "
                  + "\"median_ms\": \(timing.median * 1000), \"min_ms\": \(timing.minimum * 1000), \"arena_bytes\": \(memory.arenaBytes), "
                  + "\"workspace_bytes\": \(workspace), \"max_rss_bytes\": \(maxRSS)}")
        } else {
            let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1048576) }
            print("rkd angle forward+backward, B \(batch), N \(count), D \(width), chunk \(chunk), \(Parallel.threadCount) threads: "
                  + "median \(String(format: "%.1f", timing.median * 1000)) ms, best \(String(format: "%.1f", timing.minimum * 1000)) ms; "
                  + "arena \(mib(memory.arenaBytes)) (largest workspace \(mib(workspace))), max RSS \(mib(maxRSS))")
        }
    }
}
