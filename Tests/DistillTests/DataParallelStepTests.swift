import Compiler
import Distill
import GraphIR
import Runtime
import Testing

/// One rank's step of a data-parallel job averages its gradients over the ranks in one all-reduce,
/// after backward and before anything reads them.
@Suite struct DataParallelStepTests {
    @Test("a 2-rank step has one all-reduce over every gradient; clipping and every update read its outputs")
    func oneAllReduceBetweenBackwardAndUpdate() throws {
        let models = try TrainingStepTests().resnets()
        var optimizer = OptimizerSettings()
        optimizer.maxGradientNorm = 1
        let step = try TrainingStep(student: models.student, studentTaps: models.studentTaps, teacher: (models.teacher, models.teacherTaps),
                                    objective: DistillationObjective(), optimizer: optimizer, ranks: 2)
        let graph = step.graph
        let reductions = graph.nodes.filter { $0.op == .training(.collective(.allReduceMean(ranks: 2))) }
        let reduction = try #require(reductions.count == 1 ? reductions[0] : nil)
        #expect(reduction.inputs.count == step.parameterNames.count && step.parameterNames.count > 20)
        let averaged = Set(reduction.outputs)
        let clipping = graph.nodes.filter { $0.name.hasPrefix("clip/square") && !$0.name.hasPrefix("clip/squared") }
        #expect(clipping.count == step.parameterNames.count && clipping.allSatisfy { averaged.contains($0.inputs[0]) })

        let plan = try Pipeline.compile(graph).plan
        let kernels = plan.steps.map(\.kernel.name)
        let position = try #require(kernels.firstIndex(of: "allreduce_mean"))
        #expect(kernels.filter { $0 == "allreduce_mean" }.count == 1)
        let firstUpdate = try #require(kernels.firstIndex { $0.hasPrefix("adamw") })
        let lastGradient = try #require(plan.steps.lastIndex { $0.label.hasPrefix("grad") || $0.label.contains("backward") })
        #expect(lastGradient < position && position < firstUpdate)
    }

    @Test("the one-process step has no all-reduce")
    func noAllReduceForOneRank() throws {
        let models = try TrainingStepTests().resnets()
        let step = try TrainingStep(student: models.student, studentTaps: models.studentTaps, teacher: (models.teacher, models.teacherTaps),
                                    objective: DistillationObjective(), optimizer: OptimizerSettings())
        #expect(!step.graph.nodes.contains { if case .training(.collective) = $0.op { true } else { false } })
    }
}
