import CLI
import Compiler
import Distill
import Foundation
import GraphIR
import ONNX
import Runtime
import Train

/// One SeRKD training step of a student distilling from a frozen teacher (zoo presets or ONNX files),
/// compiled with the given passes switched off: the plan's size and memory, and the step's wall-clock time.
enum TrainStepBenchmark {
    /// Zoo preset `name`, or the ONNX model at path `name` (imported for `batch`, its taps inferred
    /// as a run would infer them), initialised from `seed`.
    static func model(_ name: String, role: String, batch: Int, classes: Int, imageSize: Int?, seed: UInt64) throws -> (graph: Graph, taps: ModelTaps) {
        guard name.hasSuffix(".onnx") else { return try ModelZoo.model(name, batch: batch, classes: classes, imageSize: imageSize, seed: seed) }
        let graph = try ONNXImport.graph(fromFile: name, options: ONNXImport.Options(batch: batch))
        return (graph, try DefaultTaps.infer(graph, role: role))
    }

    static func run(_ arguments: inout Arguments) throws {
        let studentName = arguments.option("student") ?? "deit_tiny_distilled"
        let teacherName = arguments.option("teacher") ?? "vit_base_mae"
        let batch = try arguments.intOption("batch", in: 1...4096) ?? 8
        let imageSize = try arguments.intOption("image-size", in: 8...4096)
        let classes = try arguments.intOption("classes", in: 1...100_000) ?? 1000
        let repeats = try arguments.intOption("repeat", in: 1...1000) ?? 3
        let warmup = try arguments.intOption("warmup", in: 0...100) ?? 1
        let disabled = Set(arguments.options("disable-pass"))
        let json = arguments.flag("json")
        let profile = arguments.flag("profile")
        try arguments.finish()

        let student = try model(studentName, role: "student", batch: batch, classes: classes, imageSize: imageSize, seed: 1)
        let teacher = try model(teacherName, role: "teacher", batch: batch, classes: classes, imageSize: imageSize, seed: 2)
        let step = try TrainingStep(student: student.graph, studentTaps: student.taps, teacher: teacher,
                                    objective: DistillationObjective(), optimizer: OptimizerSettings())
        let start = DispatchTime.now().uptimeNanoseconds
        let compiled = try Pipeline.compile(step.graph, options: .init(disabledPasses: disabled, adoptsState: true))
        let compileSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9

        // As `Trainer` runs the step: linear layers on oneDNN, reading the weights where they are.
        let executor = Executor(compiled.plan, frozenWeights: .inPlace)
        let imageType = step.graph.type(of: step.graph.inputs[0])
        var generator = SystemRandomNumberGenerator()
        let images = Tensor((0..<imageType.shape.elementCount).map { _ in Float.random(in: -1...1, using: &generator) }, shape: imageType.shape)
        // The student's classes: --classes for a zoo preset, what its logits say for an ONNX model.
        let classCount = step.graph.type(of: step.graph.inputs[1]).shape[1]
        let targets = Tensor((0..<(batch * classCount)).map { Float($0 % classCount == ($0 / classCount) % classCount ? 1 : 0) },
                             shape: [batch, classCount])
        var t: Float = 0
        let timing = try Timing.measure(repeats: repeats, warmup: warmup) {
            t += 1
            _ = try executor.run([images, targets, Tensor(scalar: Float(1e-4)), Tensor(scalar: t)])
        }

        let memory = compiled.memory, plan = compiled.plan
        let maxRSS = peakResidentBytes()
        if json {
            print("{\"student\": \"\(studentName)\", \"teacher\": \"\(teacherName)\", \"batch\": \(batch), \"disabled\": [\(disabled.sorted().map { "\"\($0)\"" }.joined(separator: ", "))], \"nodes\": \(compiled.graph.nodes.count), \"kernels\": \(plan.steps.count), \"arena_bytes\": \(memory.arenaBytes), \"lower_bound_bytes\": \(memory.lowerBound), \"naive_bytes\": \(memory.naiveBytes), \"median_ms\": \(timing.median * 1000), \"min_ms\": \(timing.minimum * 1000), \"compile_s\": \(compileSeconds), \"max_rss_bytes\": \(maxRSS)}")
            return
        }
        let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1048576) }
        print("\(studentName) ← \(teacherName), batch \(batch)\(disabled.isEmpty ? "" : ", without " + disabled.sorted().joined(separator: ", "))")
        for pass in compiled.passes {
            print("  pass \(pass.name.padding(toLength: 20, withPad: " ", startingAt: 0)) nodes \(pass.nodesBefore) → \(pass.nodesAfter)  (\(String(format: "%.2f", pass.seconds)) s)")
        }
        print("  kernels \(plan.steps.count); arena \(mib(memory.arenaBytes)), lower bound \(mib(memory.lowerBound)), naive sum \(mib(memory.naiveBytes)); max RSS \(mib(maxRSS))")
        print("  step: median \(String(format: "%.1f", timing.median * 1000)) ms, best \(String(format: "%.1f", timing.minimum * 1000)) ms over \(repeats) runs; compiled in \(String(format: "%.1f", compileSeconds)) s")
        guard profile else { return }
        // One more step, timed kernel by kernel: where the time goes, by class of work.
        let report = try KernelProfile(executor, [images, targets, Tensor(scalar: Float(1e-4)), Tensor(scalar: t + 1)])
        for line in report.lines(plan: plan, peak: KernelProfile.measuredSgemmPeak(), slowest: 20) { print(line) }
    }
}
