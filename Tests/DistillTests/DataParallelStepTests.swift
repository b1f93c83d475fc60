import Compiler
import Data
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
                                    objective: DistillationObjective(), optimizer: optimizer, shard: Shard(1, of: 2))
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

    @Test("each rank draws its own drop-path masks; rank 0 keeps the model's")
    func ranksDrawTheirOwnMasks() throws {
        let model = try VisionTransformer(imageSize: 16, patchSize: 4, classes: 3, width: 16, depth: 2, heads: 2, dropPath: 0.2).graph(batch: 2, seed: 1)
        func seeds(_ shard: Shard) throws -> [Int] {
            let step = try TrainingStep(student: model.graph, studentTaps: model.taps, teacher: nil, objective: DistillationObjective(kdWeight: 0, featureWeight: 0, relation: RelationLoss(distanceWeight: 0, angleWeight: 0)),
                                        optimizer: OptimizerSettings(), shard: shard)
            return step.graph.nodes.compactMap { if case .training(.gradient(.dropout(_, let seed, _))) = $0.op { seed } else { nil } }
        }
        let whole = try seeds(.whole), first = try seeds(Shard(0, of: 2)), second = try seeds(Shard(1, of: 2))
        #expect(whole.count == 2 && first == whole)
        #expect(second.count == whole.count && zip(second, whole).allSatisfy { $0 != $1 })
    }
}
