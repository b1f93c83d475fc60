import Compiler
import Distill
import GraphIR
import Runtime
import Testing

/// One compiled SeRKD training step of the ViT fixture (student, frozen teacher, losses, backward,
/// AdamW) with every pass against the same step with one pass switched off: the losses, gradients
/// and updated parameters agree, so no fusion changes what a step computes.
@Suite struct TrainingStepPassTests {
    /// Losses, gradients, and every trained value after the step.
    struct Outcome {
        var outputs: [Tensor]
        var updated: [String: Tensor]
        var steps: Int
    }

    static func run(_ fixture: TrainingStepFixtureTests.Case, disabled: Set<String>) throws -> Outcome {
        var graph = fixture.step.graph
        // Each run updates its own copy of the parameters and moments.
        graph.tensors = graph.tensors.mapValues { $0.copy() }
        let compiled = try Pipeline.compile(graph, options: .init(disabledPasses: disabled, verifyEachPass: true))
        let outputs = try Executor(compiled.plan).run(fixture.inputs)
        var updated: [String: Tensor] = [:]
        for id in graph.dataValues where graph[id].kind != .constant { updated[graph[id].name] = graph.tensors[id]! }
        return Outcome(outputs: outputs, updated: updated, steps: compiled.plan.steps.count)
    }

    @Test func everyPassLeavesTheStepUnchanged() throws {
        let fixture = try TrainingStepFixtureTests.Case("vit")
        let step = fixture.step
        let fused = try Self.run(fixture, disabled: [])
        let lr = Double(fixture.inputs[2].floats[0]), epsilon = Double(1e-8)
        for pass in Pipeline.passes.map(\.name) where pass != "dce" {
            let plain = try Self.run(fixture, disabled: [pass])
            #expect(fused.steps <= plain.steps, "disabling \(pass)")
            for (index, name) in step.lossNames.enumerated() {
                let (a, b) = (Double(fused.outputs[index].floats[0]), Double(plain.outputs[index].floats[0]))
                #expect(abs(a - b) <= 1e-5 * abs(b) + 1e-12, "without \(pass), \(name): \(a) vs \(b)")
            }
            var gradients: [String: [Double]] = [:]
            for (offset, name) in step.parameterNames.enumerated() {
                let index = step.lossNames.count + offset
                let error = TrainingStepFixtureTests.relativeError(fused.outputs[index], plain.outputs[index])
                #expect(error <= 1e-4, "without \(pass), gradient of \(name): relative error \(error)")
                gradients[name] = plain.outputs[index].doubles
            }
            // Updated values agree to 1e-5 of each tensor's scale, plus what the allowed gradient
            // error moves Adam's first step, lr·g/(|g| + ε), where |g| is near ε.
            for (name, after) in plain.updated {
                let ours = fused.updated[name]!.doubles, theirs = after.doubles
                let scale = max(theirs.map(abs).max() ?? 0, 1e-12)
                let gradient = gradients[name]
                let allowed = 1e-4 * (gradient?.map(abs).max() ?? 0)
                for (i, (a, b)) in zip(ours, theirs).enumerated() {
                    let g = gradient.map { abs($0[i]) } ?? 0
                    let slope = gradient == nil ? 0 : lr * epsilon / ((g + epsilon) * (g + epsilon))
                    if abs(a - b) > 1e-5 * scale + slope * allowed {
                        Issue.record("without \(pass), \(name)[\(i)] after the step: \(a) vs \(b)")
                        break
                    }
                }
            }
        }
    }

    @Test func theFrozenTeacherFusesAndTheStudentKeepsWhatBackwardReads() throws {
        let fixture = try TrainingStepFixtureTests.Case("vit")
        let graph = try Pipeline.compile(fixture.step.graph).graph
        func kinds(_ prefix: String) -> [String] { graph.nodes.filter { $0.name.hasPrefix(prefix) }.map(\.op.kindName) }
        let teacher = kinds("teacher/"), student = kinds("student/")
        #expect(teacher.contains("attention"))
        #expect(!teacher.contains("softmax"))
        #expect(student.contains("softmax"))
        #expect(student.contains("linear"))
        #expect(!student.contains("attention"))
    }
}
