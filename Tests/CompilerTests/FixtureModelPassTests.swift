import Compiler
import Foundation
import GraphIR
import ONNX
import Runtime
import Testing

/// The tiny models torch exports (`Tests/Fixtures/models`) compiled with every pass compute what they
/// compute with the optimisation passes off, and the passes find what the exporters wrote.
@Suite struct FixtureModelPassTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models").path

    static var models: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".onnx") }.sorted()
    }

    /// Every pass that changes what is computed (dce and schedule only remove and reorder).
    static let optimisations: Set<String> = Set(Pipeline.passes.map(\.name)).subtracting(["dce", "schedule"])

    /// The graph with every weight and statistic frozen into a constant, as a distillation teacher is.
    static func frozen(_ graph: Graph) -> Graph {
        var result = graph
        for id in graph.dataValues { result.setKind(id, .constant) }
        return result
    }

    /// Compiled with all passes against compiled with none, and against onnxruntime's output; as
    /// imported (trainable weights) and frozen (a teacher).
    @Test(arguments: models, [false, true])
    func fusedModelsMatchUnfusedOnes(_ file: String, freeze: Bool) throws {
        let stem = String(file.dropLast(".onnx".count))
        let input = try NumPyFile.read("\(Self.folder)/\(stem).input.npy")
        let expected = try NumPyFile.read("\(Self.folder)/\(stem).output.npy")
        let imported = try ONNXImport.graph(fromFile: "\(Self.folder)/\(file)", options: .init(batch: input.shape[0]))
        let graph = freeze ? Self.frozen(imported) : imported
        let fused = try Pipeline.compile(graph, options: .init(verifyEachPass: true))
        let plain = try Pipeline.compile(graph, options: .init(disabledPasses: Self.optimisations))
        let a = try Executor(fused.plan).run([input])[0], b = try Executor(plain.plan).run([input])[0]
        #expect(PassCheck.relativeError(a, b) <= 1e-5, "\(file): fused against unfused")
        #expect(PassCheck.relativeError(a, expected) <= 1e-4, "\(file): fused against onnxruntime")
        #expect(fused.plan.steps.count <= plain.plan.steps.count)
    }

    /// What the passes make of each exporter's spelling of the same tiny ViT.
    @Test(arguments: ["tiny_vit_mae.onnx", "tiny_vit_mae.opset13.onnx", "tiny_vit_mae.dynamo.onnx"])
    func vitBlocksFuseIntoLayerNormsAttentionAndLinearLayers(_ file: String) throws {
        let input = try NumPyFile.read("\(Self.folder)/\(file.dropLast(5)).input.npy")
        let graph = try ONNXImport.graph(fromFile: "\(Self.folder)/\(file)", options: .init(batch: input.shape[0]))
        let kinds = PassCheck.kinds(try Pipeline.compile(graph).graph)
        for kind in ["layernorm", "attention", "linear"] { #expect(kinds.contains(kind), "\(file): no \(kind) in \(Set(kinds).sorted())") }
        for kind in ["erf", "softmax", "sqrt", "pow"] { #expect(!kinds.contains(kind), "\(file): \(kind) left in \(Set(kinds).sorted())") }
        // Of all the means only the head's pooling remains.
        #expect(kinds.filter { $0 == "reduce_mean" }.count == 1)
    }

    @Test func resnetBatchNormsFoldIntoItsConvolutions() throws {
        let input = try NumPyFile.read("\(Self.folder)/tiny_resnet.bn.input.npy")
        let graph = try ONNXImport.graph(fromFile: "\(Self.folder)/tiny_resnet.bn.onnx", options: .init(batch: input.shape[0]))
        #expect(PassCheck.kinds(graph).contains("batchnorm"))
        let kinds = PassCheck.kinds(try Pipeline.compile(Self.frozen(graph)).graph)
        #expect(!kinds.contains("batchnorm"))
        #expect(!kinds.contains("relu"))
        #expect(kinds.contains("conv_activation"))
        // Trainable convolutions keep their batch norms.
        #expect(PassCheck.kinds(try Pipeline.compile(graph).graph).contains("batchnorm"))
    }
}
