import Compiler
import Data
import Distill
import Foundation
import GraphIR
import ONNX
import Reference
import Runtime
import Testing

/// One SeRKD training step against PyTorch (`scripts/make_training_fixtures.py`, METHOD §11 and §9):
/// the same ONNX student and teacher, the same batch, the same settings. Every loss term must match
/// to 1e-5 relative, every student gradient to 1e-4 relative (per-tensor max), and every parameter
/// after one AdamW step to 1e-6 absolute — plus, per element, the effect of the allowed gradient
/// error through Adam's first step, lr·g/(|g| + ε): its slope lr·ε/(|g| + ε)² is negligible for
/// ordinary gradients but huge where the exact gradient is below ε (a key bias's gradient is
/// mathematically zero; float32 leaves ~1e-9 of noise there, in PyTorch as here).
@Suite struct TrainingStepFixtureTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/training").path

    /// A fixture case: settings, arrays, and the step built from them.
    struct Case {
        let config: [String: Any]
        let arrays: ZipArchive
        let step: TrainingStep
        let inputs: [Tensor]

        init(_ name: String) throws {
            let config = try JSONSerialization.jsonObject(with: Foundation.Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name).json"))) as! [String: Any]
            let arrays = try ZipArchive(path: "\(folder)/\(name).npz")
            self.config = config
            self.arrays = arrays
            let batch = config["batch"] as! Int
            let student = try ONNXImport.graph(fromFile: "\(folder)/\(config["student"] as! String)", options: .init(batch: batch))
            let teacher = try ONNXImport.graph(fromFile: "\(folder)/\(config["teacher"] as! String)", options: .init(batch: batch))
            let studentTaps = Self.taps(config["student_taps"] as! [String: Any])
            let teacherTaps = Self.taps(config["teacher_taps"] as! [String: Any])
            let number = { (key: String) in Float((config[key] as! NSNumber).doubleValue) }
            var objective = DistillationObjective(kdWeight: number("alpha"), temperature: number("temperature"), featureWeight: number("beta"),
                                                  relation: RelationLoss(distanceWeight: number("gamma"), angleWeight: number("delta")),
                                                  clustering: TokenClustering(mode: .superpixel, grid: config["grid"] as! Int, iterations: config["iterations"] as! Int))
            if let strides = config["tokenizer_strides"] as? [Int] { objective.stageStrides = strides }
            let optimizer = OptimizerSettings(beta1: number("beta1"), beta2: number("beta2"), epsilon: number("eps"), weightDecay: number("weight_decay"),
                                              noWeightDecay: config["no_weight_decay_names"] as! [String])
            let projection = try? (weight: Self.array(arrays, "initial/proj.weight"), bias: Self.array(arrays, "initial/proj.bias"))
            step = try TrainingStep(student: student, studentTaps: studentTaps, teacher: (teacher, teacherTaps), objective: objective,
                                    optimizer: optimizer, projection: projection, exposeGradients: true)
            inputs = [try Self.array(arrays, "input"), try Self.array(arrays, "targets"), Tensor(scalar: number("lr")), Tensor(scalar: Float(1))]
        }

        static func taps(_ json: [String: Any]) -> ModelTaps {
            ModelTaps(logits: json["class_logits"] as? String ?? json["logits"] as! String, distillationLogits: json["distillation_logits"] as? String,
                      tokens: json["tokens"] as? String, prefixTokens: json["prefix_tokens"] as? Int ?? 0, stages: json["stages"] as? [String] ?? [])
        }

        static func array(_ archive: ZipArchive, _ key: String) throws -> Tensor {
            try archive.contents(of: key + ".npy").withUnsafeBytes { try NumPyFile.decode($0) }
        }

        func expected(_ key: String) throws -> Tensor { try Self.array(arrays, key) }

        /// The fixture key of a parameter of the step (`student/blocks.0.norm1.weight` → `blocks.0.norm1.weight`,
        /// `loss/feat.projection.weight` → `proj.weight`).
        func key(_ parameter: String) -> String {
            if parameter.hasPrefix("student/") { return String(parameter.dropFirst("student/".count)) }
            return parameter.replacingOccurrences(of: "loss/feat.projection.", with: "proj.")
        }
    }

    static func relativeError(_ ours: Tensor, _ theirs: Tensor) -> Double {
        let a = ours.doubles, b = theirs.doubles
        let scale = max(b.map(abs).max() ?? 0, 1e-12)
        return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }

    func checkLossesAndGradients(_ fixture: Case, _ outputs: [Tensor], label: String) throws {
        let step = fixture.step
        for (name, value) in zip(step.lossNames, outputs) {
            let expected = try fixture.expected(name).doubles[0]
            #expect(abs(Double(value.floats[0]) - expected) <= 1e-5 * abs(expected), "\(label) \(name): \(value.floats[0]) vs \(expected)")
        }
        #expect(step.gradientNames.count == step.parameterNames.count)
        for (parameter, gradient) in zip(step.parameterNames, outputs[step.lossNames.count...]) {
            let expected = try fixture.expected("grad/" + fixture.key(parameter))
            #expect(Self.relativeError(gradient, expected) <= 1e-4, "\(label) gradient of \(parameter): relative error \(Self.relativeError(gradient, expected))")
        }
    }

    @Test(arguments: ["vit", "resnet"])
    func lossesAndGradientsMatchPyTorchThroughTheReference(_ name: String) throws {
        let fixture = try Case(name)
        let outputs = try Reference.run(fixture.step.graph, inputs: fixture.inputs)
        try checkLossesAndGradients(fixture, outputs, label: "reference")
    }

    @Test("the step as the trainer runs it (on AVX-512: linear layers and the teacher's convolutions on oneDNN) matches PyTorch", arguments: ["vit", "resnet"])
    func trainerExecutorMatchesPyTorch(_ name: String) throws {
        let fixture = try Case(name)
        let plan = try Pipeline.compile(fixture.step.graph).plan
        let executor = Executor(plan, frozenWeights: .inPlace)
        let onOneDNN = plan.steps.indices.filter { executor.backend(ofStep: $0) == .oneDNN }
        #expect(onOneDNN.isEmpty == !Backend.trainingStepLinearLayers)
        // Linear layers, and the teacher's convolutions where the backend rule sends them there.
        #expect(onOneDNN.allSatisfy {
            switch plan.steps[$0].kernel {
            case .gemm: true
            case .conv2d: Backend.trainingStepConvolutions && plan.steps[$0].label.hasPrefix("teacher/")
            default: false
            }
        })
        try checkLossesAndGradients(fixture, try executor.run(fixture.inputs), label: "trainer")
    }

    @Test("packing takes only weights no step writes: the teacher's, never those the optimizer updates in place", arguments: ["vit", "resnet"])
    func packingLeavesUpdatedWeightsAlone(_ name: String) throws {
        let plan = try Pipeline.compile(try Case(name).step.graph).plan
        func persistentIndex(_ id: BufferID) -> Int? {
            if case .persistent(let index, _) = plan.buffers[id.index].location { index } else { nil }
        }
        let written = Set(plan.steps.flatMap(\.results).compactMap(persistentIndex))
        #expect(!written.isEmpty)
        let executor = Executor(plan, frozenWeights: .packed)
        let packed = plan.steps.indices.filter {
            switch plan.steps[$0].kernel {
            case .gemm, .conv2d: executor.backend(ofStep: $0) == .oneDNN
            default: false
            }
        }
        #expect(packed.isEmpty == (OneDNN.library == nil))
        for index in packed {
            let weight = try #require(persistentIndex(plan.steps[index].operands[1]))
            #expect(!written.contains(weight), "step \(plan.steps[index].label) packs a weight the step updates")
        }
    }

    @Test(arguments: ["vit", "resnet"])
    func compiledStepMatchesPyTorchIncludingTheUpdate(_ name: String) throws {
        let fixture = try Case(name)
        let graph = fixture.step.graph
        let executor = Executor(try Lowering.plan(graph).plan)
        let outputs = try executor.run(fixture.inputs)
        try checkLossesAndGradients(fixture, outputs, label: "compiled")
        let lr = Double(fixture.inputs[2].floats[0]), epsilon = (fixture.config["eps"] as! NSNumber).doubleValue
        var checked = 0
        for id in graph.dataValues where graph[id].kind != .constant && !graph[id].name.hasPrefix("adamw/") {
            guard let expected = try? fixture.expected("updated/" + fixture.key(graph[id].name)) else { continue }
            let exactGradient = (try? fixture.expected("grad/" + fixture.key(graph[id].name)))?.doubles
            let allowedGradientError = 1e-4 * (exactGradient?.map(abs).max() ?? 0)
            for (index, (ours, theirs)) in zip(executor.read(BufferID(id.index)).doubles, expected.doubles).enumerated() {
                let g = exactGradient.map { abs($0[index]) } ?? 0
                let slope = exactGradient == nil ? 0 : lr * epsilon / ((g + epsilon) * (g + epsilon))
                let tolerance = 1e-6 + slope * allowedGradientError
                if abs(ours - theirs) > tolerance {
                    Issue.record("\(graph[id].name)[\(index)] after the step: \(ours) vs \(theirs) (tolerance \(tolerance))")
                    break
                }
            }
            checked += 1
        }
        #expect(checked >= fixture.step.parameterNames.count)
    }
}
