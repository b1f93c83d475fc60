import Distill
import Foundation
import GraphIR
import Reference
import Testing

/// The zoo's presets: what they build, how many parameters (timm's and torchvision's counts, from
/// `sum(p.numel() for p in model.parameters())`), how weights start, and drop path's wiring.
@Suite struct ZooModelTests {
    static func parameterCount(_ graph: Graph) -> Int { graph.dataSize(of: .parameter).elements }

    @Test func theZooListsItsPresets() {
        #expect(ModelZoo.names == ["deit_tiny_distilled", "deit_small_distilled", "deit_distilled_small_images", "vit_base_mae",
                                   "vit_mae_small_images", "resnet18", "resnet18_small_images"])
    }

    /// deit_tiny_distilled_patch16_224 5,910,800; deit_small_distilled_patch16_224 22,436,432;
    /// resnet18 11,689,512; vit_base_patch16_224 with global_pool='avg', fc_norm=True 86,567,656.
    @Test(arguments: [("deit_tiny_distilled", 5_910_800), ("deit_small_distilled", 22_436_432), ("resnet18", 11_689_512)])
    func imageNetPresetsHaveTheOriginalParameterCounts(_ name: String, _ count: Int) throws {
        let (graph, _) = try ModelZoo.model(name, batch: 1, classes: 1000)
        #expect(Self.parameterCount(graph) == count)
        try Verifier.verify(graph)
    }

    /// timm/torchvision with the same settings (10 classes, grey 32 px images): VisionTransformerDistilled
    /// (patch 4, dim 64, depth 4, 2 heads) 206,804; VisionTransformer (patch 4, dim 128, depth 4, 4 heads,
    /// global_pool='avg', fc_norm=True) 805,258; resnet18 with a 3×3 grey conv1 11,172,810.
    @Test(arguments: [("deit_distilled_small_images", 206_804), ("vit_mae_small_images", 805_258), ("resnet18_small_images", 11_172_810)])
    func smallImagePresetsHaveTheirPyTorchTwinsParameterCounts(_ name: String, _ count: Int) throws {
        let (graph, _) = try ModelZoo.model(name, batch: 1, classes: 10, channels: 1)
        #expect(Self.parameterCount(graph) == count)
    }

    /// Built with one block (86M weights take long to draw in a debug build): the rest are copies of it.
    @Test func theMAETeacherHasViTBasesParameterCount() throws {
        guard case .visionTransformer(var vit) = try ModelZoo.architecture("vit_base_mae", classes: 1000) else {
            Issue.record("vit_base_mae is not a vision transformer")
            return
        }
        #expect(vit.depth == 12)
        vit.depth = 1
        let graph = try vit.graph(batch: 1, seed: 0).graph
        let block = graph.dataValues.filter { graph[$0].kind == .parameter && graph[$0].name.hasPrefix("blocks.0.") }.map { graph.tensors[$0]!.elementCount }.reduce(0, +)
        #expect(Self.parameterCount(graph) + 11 * block == 86_567_656)
    }

    @Test func distilledDeiTTapsBothHeadsAndTheLastBlock() throws {
        let (graph, taps) = try ModelZoo.model("deit_distilled_small_images", batch: 2, classes: 10, imageSize: 28, channels: 1)
        try Verifier.verify(graph)
        #expect(taps == ModelTaps(logits: "head", distillationLogits: "head_dist", tokens: "blocks", prefixTokens: 2))
        #expect(graph.inputs.count == 1 && graph.type(of: graph.inputs[0]) == TensorType(.float32, [2, 1, 28, 28]))
        #expect(graph.type(of: graph.outputs[0]) == TensorType(.float32, [2, 10]))
        #expect(graph.type(of: try #require(graph.value(named: "head_dist"))) == TensorType(.float32, [2, 10]))
        #expect(graph.type(of: try #require(graph.value(named: "blocks"))) == TensorType(.float32, [2, 2 + 7 * 7, 64]))
        #expect(graph.value(named: "pos_embed").map { graph.type(of: $0).shape } == [1, 51, 64])
    }

    @Test func maeTeacherTapsItsLogitsAndTokensWithOnePrefixToken() throws {
        let (graph, taps) = try ModelZoo.model("vit_mae_small_images", batch: 2, classes: 10)
        try Verifier.verify(graph)
        #expect(taps == ModelTaps(logits: "head", tokens: "blocks", prefixTokens: 1))
        #expect(graph.outputs.map { graph[$0].name } == ["head"])
        #expect(graph.type(of: try #require(graph.value(named: "blocks"))) == TensorType(.float32, [2, 1 + 8 * 8, 128]))
        #expect(graph.value(named: "norm.weight") == nil && graph.value(named: "fc_norm.weight") != nil)
    }

    @Test(arguments: [("resnet18", 224, [56, 28, 14]), ("resnet18_small_images", 32, [32, 16, 8])])
    func resNetsTapTheFirstThreeLayers(_ name: String, _ size: Int, _ sides: [Int]) throws {
        let (graph, taps) = try ModelZoo.model(name, batch: 1, classes: 10, channels: 1)
        try Verifier.verify(graph)
        #expect(taps == ModelTaps(logits: "fc", stages: ["layer1", "layer2", "layer3"]))
        #expect(graph.type(of: graph.inputs[0]).shape == [1, 1, size, size])
        for (stage, (side, width)) in zip(taps.stages, zip(sides, [64, 128, 256])) {
            #expect(graph.value(named: stage).map { graph.type(of: $0).shape } == [1, width, side, side], "\(stage)")
        }
        let statistics = graph.dataValues.filter { graph[$0].kind == .state }.map { graph[$0].name }
        #expect(statistics.count == 2 * 20 && statistics.allSatisfy { $0.hasSuffix("running_mean") || $0.hasSuffix("running_var") })
    }

    @Test func weightsStartFromTheOriginalDistributions() throws {
        let (vit, _) = try ModelZoo.model("deit_tiny_distilled", batch: 1, classes: 1000, seed: 3)
        func values(_ graph: Graph, _ name: String) throws -> [Double] { graph.tensors[try #require(graph.value(named: name))]!.doubles }
        func standardDeviation(_ x: [Double]) -> Double {
            let mean = x.reduce(0, +) / Double(x.count)
            return (x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)).squareRoot()
        }
        let qkv = try values(vit, "blocks.5.attn.qkv.weight")
        #expect(abs(standardDeviation(qkv) - 0.02) < 0.0005 && qkv.allSatisfy { abs($0) <= 2 })
        #expect(try values(vit, "blocks.5.attn.qkv.bias").allSatisfy { $0 == 0 })
        #expect(try values(vit, "blocks.5.norm1.weight").allSatisfy { $0 == 1 })
        #expect(abs(standardDeviation(try values(vit, "pos_embed")) - 0.02) < 0.001)
        let patch = try values(vit, "patch_embed.proj.weight"), bound = 1 / Double(3 * 16 * 16).squareRoot()
        #expect(patch.allSatisfy { abs($0) <= bound } && abs(standardDeviation(patch) - bound / 3.0.squareRoot()) < 0.02 * bound)

        let (resnet, _) = try ModelZoo.model("resnet18_small_images", batch: 1, classes: 10, seed: 3)
        let conv = try values(resnet, "layer3.1.conv2.weight")
        #expect(abs(standardDeviation(conv) - (2.0 / (256 * 9)).squareRoot()) < 0.01 * (2.0 / (256 * 9)).squareRoot())
        #expect(try values(resnet, "layer3.1.bn2.running_var").allSatisfy { $0 == 1 })
        #expect(try values(resnet, "fc.weight").allSatisfy { abs($0) <= 1 / 512.0.squareRoot() })
    }

    @Test func theSeedDecidesTheWeightsAndEachWeightDependsOnlyOnItsName() throws {
        let small = VisionTransformer(imageSize: 16, patchSize: 4, classes: 3, width: 16, depth: 1, heads: 2)
        var deeper = small
        deeper.depth = 2
        let a = try small.graph(batch: 1, seed: 1).graph, b = try small.graph(batch: 1, seed: 1).graph
        let c = try small.graph(batch: 1, seed: 2).graph, d = try deeper.graph(batch: 1, seed: 1).graph
        func weight(_ graph: Graph, _ name: String = "blocks.0.mlp.fc1.weight") -> [Float] { graph.tensors[graph.value(named: name)!]!.floats }
        #expect(weight(a) == weight(b))
        #expect(weight(a) != weight(c))
        #expect(weight(a) == weight(d) && weight(a, "head.weight") == weight(d, "head.weight"))
    }

    @Test func dropPathAddsAStepInputAndLinearlyIncreasingPerSampleDropout() throws {
        let model = VisionTransformer(imageSize: 16, patchSize: 4, classes: 3, width: 16, depth: 5, heads: 2, dropPath: 0.2)
        #expect(model.dropPathRates == [0, 0.05, 0.1, 0.15, 0.2])
        let (graph, _) = try model.graph(batch: 4, seed: 0)
        try Verifier.verify(graph)
        #expect(graph.inputs.map { graph[$0].name } == ["images", VisionTransformer.stepInput])
        #expect(graph.type(of: graph.inputs[1]) == TensorType(.int64, []))
        let dropouts = graph.nodes.compactMap { node -> (String, Float, Bool)? in
            if case .training(.gradient(.dropout(let ratio, _, let perSample))) = node.op { return (node.name, ratio, perSample) }
            return nil
        }
        #expect(dropouts.map(\.0) == (1..<5).flatMap { ["blocks.\($0).drop_path1", "blocks.\($0).drop_path2"] })
        #expect(dropouts.map(\.1) == [0.05, 0.05, 0.1, 0.1, 0.15, 0.15, 0.2, 0.2])
        #expect(dropouts.allSatisfy { $0.2 })

        let images = Tensor((0..<(4 * 3 * 16 * 16)).map { Float($0 % 17) / 17 - 0.5 }, shape: [4, 3, 16, 16])
        let first = try Reference.run(graph, inputs: [images, Tensor(scalar: Int64(1))])[0]
        #expect(try Reference.run(graph, inputs: [images, Tensor(scalar: Int64(1))])[0].floats == first.floats, "a step's masks are fixed")
        let steps = try (2...6).map { try Reference.run(graph, inputs: [images, Tensor(scalar: Int64($0))])[0].floats }
        #expect(steps.contains { $0 != first.floats }, "other steps draw other masks")

        var plain = model
        plain.dropPath = 0
        #expect(try plain.graph(batch: 4, seed: 0).graph.inputs.count == 1)
    }

    @Test func badRequestsAreRefusedWithTheirReason() throws {
        #expect(throws: InvalidInput("model 'resnet50'", "not in the zoo, which has \(ModelZoo.names.joined(separator: ", "))")) {
            try ModelZoo.model("resnet50", batch: 1, classes: 10)
        }
        #expect(throws: InvalidInput("vision transformer", "patch size 16 must divide the image size 40")) {
            _ = try ModelZoo.model("deit_tiny_distilled", batch: 1, classes: 10, imageSize: 40)
        }
        #expect(throws: InvalidInput("vision transformer", "channels must be 1 or 3, got 4")) {
            _ = try ModelZoo.model("deit_distilled_small_images", batch: 1, classes: 10, channels: 4)
        }
        #expect(throws: InvalidInput("resnet", "blocks [2, 2] and widths [8] must be positive, one of each per layer")) {
            _ = try ResNet(imageSize: 32, classes: 10, blocks: [2, 2], widths: [8]).graph(batch: 1, seed: 0)
        }
        #expect(throws: InvalidInput("vision transformer", "drop path must be in [0, 1), got 1.0")) {
            _ = try VisionTransformer(imageSize: 32, patchSize: 4, width: 8, depth: 2, heads: 2, dropPath: 1).graph(batch: 1, seed: 0)
        }
    }
}
