import Compiler
import Data
import Distill
import Foundation
import GraphIR
import Runtime
import Testing

/// Zoo models plug into `TrainingStep` as they are: a student distils from a teacher with every
/// SeRKD term, compiled, for three steps on random data.
@Suite struct ZooTrainingTests {
    /// Runs three compiled steps on random grey 32 px images; returns each step's losses and the
    /// names of the student's weights (parameters and BatchNorm statistics) that did not change.
    static func train(student: (graph: Graph, taps: ModelTaps), teacher: (graph: Graph, taps: ModelTaps),
                      batch: Int, classes: Int) throws -> (step: TrainingStep, losses: [[Float]], unchanged: [String]) {
        let step = try TrainingStep(student: student.graph, studentTaps: student.taps, teacher: teacher,
                                    objective: DistillationObjective(), optimizer: OptimizerSettings())
        let graph = step.graph
        let weights = graph.dataValues.filter { graph[$0].name.hasPrefix("student/") && graph[$0].kind != .constant }
        let before = weights.map { graph.tensors[$0]!.floats }
        let executor = Executor(try Lowering.plan(graph).plan)
        var generator = SplitMix64(seed: 5)
        var losses: [[Float]] = []
        for t in 1...3 {
            let images = Tensor((0..<(batch * 32 * 32)).map { _ in Float(generator.next() >> 40) / Float(1 << 24) * 2 - 1 }, shape: [batch, 1, 32, 32])
            let targets = Tensor((0..<(batch * classes)).map { Float($0 % classes == ($0 / classes + t) % classes ? 1 : 0) }, shape: [batch, classes])
            losses.append(try executor.run([images, targets, Tensor(scalar: Float(1e-3)), Tensor(scalar: Float(t))]).map { $0.floats[0] })
        }
        let unchanged = zip(weights, before).filter { executor.read(BufferID($0.0.index)).floats == $0.1 }.map { graph[$0.0].name }
        return (step, losses, unchanged)
    }

    @Test func aSmallImageDeiTDistilsFromASmallImageMAETeacher() throws {
        let (batch, classes) = (4, 10)
        let student = try ModelZoo.model("deit_distilled_small_images", batch: batch, classes: classes, channels: 1, seed: 1)
        let teacher = try ModelZoo.model("vit_mae_small_images", batch: batch, classes: classes, channels: 1, seed: 2)
        let (step, losses, unchanged) = try Self.train(student: student, teacher: teacher, batch: batch, classes: classes)
        #expect(step.lossNames == ["loss/ce", "loss/kd", "loss/feat", "loss/distance", "loss/angle", "loss/total"])
        #expect(step.parameterNames.count == student.graph.dataValues.filter { student.graph[$0].kind == .parameter }.count + 2,
                "the student's parameters and the feature projection's")
        #expect(losses.allSatisfy { $0.allSatisfy { $0.isFinite } }, "\(losses)")
        #expect(abs(losses[0][0] - log(Float(classes))) < 0.2, "near-uniform predictions at the start: CE \(losses[0][0])")
        #expect(unchanged.isEmpty, "unchanged: \(unchanged)")
    }

    @Test func aSmallImageResNetDistilsFromAWiderOneAndUpdatesItsStatistics() throws {
        let (batch, classes) = (4, 10)
        let narrow = ResNet(imageSize: 32, channels: 1, classes: classes, blocks: [1, 1, 1, 1], widths: [4, 8, 8, 16], stem: .smallImages)
        var wide = narrow
        wide.widths = [8, 8, 16, 16]
        let student = try narrow.graph(batch: batch, seed: 1), teacher = try wide.graph(batch: batch, seed: 2)
        let (_, losses, unchanged) = try Self.train(student: student, teacher: teacher, batch: batch, classes: classes)
        #expect(losses.allSatisfy { $0.count == 5 && $0.allSatisfy { $0.isFinite } }, "\(losses)")
        #expect(unchanged.isEmpty, "unchanged: \(unchanged)")
    }
}
