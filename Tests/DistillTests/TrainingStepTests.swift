import Compiler
import Distill
import Foundation
import GraphIR
import ONNX
import Reference
import Runtime
import Testing

/// How the training step treats stage tokenizers, gradient clipping and bad settings.
@Suite struct TrainingStepTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/training").path

    func resnets() throws -> (student: Graph, teacher: Graph, studentTaps: ModelTaps, teacherTaps: ModelTaps) {
        let student = try ONNXImport.graph(fromFile: Self.folder + "/resnet_student.onnx", options: .init(batch: 4))
        let teacher = try ONNXImport.graph(fromFile: Self.folder + "/resnet_teacher.onnx", options: .init(batch: 4))
        let stages = (1...3).map { "/layer\($0)/layer\($0).0/relu_1/Relu_output_0" }
        return (student, teacher, ModelTaps(logits: "logits", stages: stages), ModelTaps(logits: "logits", stages: stages))
    }

    @Test func aConvTokenizerTrainsTheStudentSideOnly() throws {
        let models = try resnets()
        var objective = DistillationObjective(featureWeight: 0)
        objective.stageTokenizer = .conv
        let step = try TrainingStep(student: models.student, studentTaps: models.studentTaps, teacher: (models.teacher, models.teacherTaps),
                                    objective: objective, optimizer: OptimizerSettings())
        let tokenizers = step.parameterNames.filter { $0.contains("tokenizer") }
        #expect(tokenizers.sorted() == (1...3).flatMap { ["student/tokenizer\($0).bias", "student/tokenizer\($0).weight"] }.sorted())
        let teacherSide = step.graph.values.filter { $0.name.hasPrefix("teacher/tokenizer") }
        #expect(teacherSide.count == 6 && teacherSide.allSatisfy { $0.kind == .constant })
        #expect(!step.graph.nodes.contains { $0.name.hasPrefix("update/teacher") })
    }

    @Test func maxPoolTokensHaveTheWindowedShape() throws {
        var graph = Graph(name: "t")
        let map = graph.addInput("map", TensorType(.float32, [2, 8, 16, 16]))
        let tokens = try graph.stageTokens(map, stride: 4, tokenizer: .maxpool, weights: nil, name: "tokens")
        #expect(graph.type(of: tokens) == TensorType(.float32, [2, 16, 8]))
        #expect(throws: InvalidInput("tokenizer 'bad'", "stride 3 does not divide the 16×16 map")) {
            try graph.stageTokens(map, stride: 3, tokenizer: .avgpool, weights: nil, name: "bad")
        }
    }

    @Test func clippingScalesGradientsToTheMaximumNorm() throws {
        var graph = Graph(name: "clip")
        let w = graph.addParameter("w", Tensor([3, 4], shape: [2]))
        let x = graph.addInput("x", TensorType(.float32, [2]))
        let product = try graph.apply1(.binary(.mul), [w, x], name: "product")
        let loss = try graph.apply1(.reduce(.sum, axes: [0], keepDims: false), [product], name: "loss")
        graph.outputs = [loss]
        // dL/dw = x = [6, 8] has norm 10; clipped to norm 1 it becomes [0.6, 0.8] (up to the 1e-6 guard).
        var step = graph
        let gradients = try step.clipGradientsForTesting(of: loss, parameters: [w], maxNorm: 1)
        step.outputs = [gradients[w]!]
        let clipped = try Reference.run(step, inputs: [Tensor([6, 8], shape: [2])])[0].floats
        #expect(abs(clipped[0] - 0.6) < 1e-6 && abs(clipped[1] - 0.8) < 1e-6)
    }

    @Test func aTeacherOfAnotherResolutionIsRefused() throws {
        let models = try resnets()
        let student = try ONNXImport.graph(fromFile: Self.folder + "/vit_student.onnx", options: .init(batch: 4))
        #expect(throws: InvalidInput.self) {
            try TrainingStep(student: student, studentTaps: ModelTaps(logits: "/head/Gemm_output_0"), teacher: (models.teacher, models.teacherTaps),
                             objective: DistillationObjective(), optimizer: OptimizerSettings())
        }
    }
}
