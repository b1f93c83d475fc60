import Compiler
import Data
import Distill
import Foundation
import GraphIR
import Reference
import Runtime
import Testing

/// The zoo's graphs against the timm and torchvision classes they copy (`scripts/make_zoo_fixtures.py`):
/// a tiny configuration of each architecture with random weights saved as a PyTorch state dict,
/// loaded by name into the zoo graph, must give PyTorch's output and tapped module outputs to 1e-5
/// of each tensor's largest magnitude, through the reference interpreter and the compiled runtime.
@Suite struct ZooParityTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/zoo").path

    /// One entry of cases.json: the batch and the zoo configuration of a fixture.
    struct Case: Decodable {
        let name: String
        let batch: Int
        let visionTransformer: VisionTransformer?
        let resNet: ResNet?

        var model: ZooModel { visionTransformer.map(ZooModel.visionTransformer) ?? .resNet(resNet!) }

        static func named(_ name: String) throws -> Case {
            let cases = try JSONDecoder().decode([Case].self, from: Foundation.Data(contentsOf: URL(fileURLWithPath: "\(folder)/cases.json")))
            return try #require(cases.first { $0.name == name })
        }
    }

    /// The fixture's model with PyTorch's weights, its taps, the input and the expected tensors by
    /// name (`output` and the tapped module names).
    static func load(_ name: String) throws -> (graph: Graph, taps: ModelTaps, input: Tensor, expected: [String: Tensor]) {
        let fixture = try Case.named(name)
        var (graph, taps) = try fixture.model.graph(batch: fixture.batch, seed: 7, name: name)
        try graph.load(try StateDict(npz: "\(folder)/\(name).weights.npz"), source: "\(name).weights.npz")
        let arrays = try StateDict(npz: "\(folder)/\(name).npz").tensors
        var expected: [String: Tensor] = ["output": try #require(arrays["output"])]
        for (key, tensor) in arrays where key.hasPrefix("tap/") { expected[String(key.dropFirst(4))] = tensor }
        return (graph, taps, try #require(arrays["input"]), expected)
    }

    /// The graph with every expected tensor as an output, in `names` order (`output` is the first).
    static func outputs(of graph: Graph, _ names: [String]) throws -> Graph {
        var result = graph
        result.outputs = try names.map { $0 == "output" ? graph.outputs[0] : try #require(graph.value(named: $0), "no value '\($0)'") }
        try Verifier.verify(result)
        return result
    }

    static func relativeError(_ actual: Tensor, _ expected: Tensor) -> Double {
        let scale = expected.doubles.map(abs).max() ?? 0
        return zip(actual.doubles, expected.doubles).map { abs($0 - $1) }.max().map { $0 / max(scale, 1e-30) } ?? 0
    }

    func check(_ name: String, run: (Graph, Tensor) throws -> [Tensor]) throws {
        let (graph, _, input, expected) = try Self.load(name)
        let names = ["output"] + expected.keys.filter { $0 != "output" }.sorted()
        let results = try run(try Self.outputs(of: graph, names), input)
        for (label, result) in zip(names, results) {
            let reference = expected[label]!
            #expect(result.shape == reference.shape, "\(name) \(label): shape \(result.shape) vs \(reference.shape)")
            let error = Self.relativeError(result, reference)
            #expect(error <= 1e-5, "\(name) \(label): relative error \(error)")
        }
    }

    @Test(arguments: ["deit", "vit_mae", "resnet", "resnet_small"])
    func referenceInterpreterMatchesPyTorch(_ name: String) throws {
        try check(name) { try Reference.run($0, inputs: [$1]) }
    }

    @Test(arguments: ["deit", "vit_mae", "resnet", "resnet_small"])
    func compiledRuntimeMatchesPyTorch(_ name: String) throws {
        try check(name) { try Executor(try Lowering.plan($0).plan).run([$1]) }
    }

    @Test(arguments: ["deit", "vit_mae", "resnet", "resnet_small"])
    func defaultTapsAreTheModuleOutputsTheFixtureRecords(_ name: String) throws {
        let (graph, taps, _, expected) = try Self.load(name)
        let tapped = [taps.logits] + [taps.distillationLogits, taps.tokens].compactMap { $0 } + taps.stages
        #expect(Set(tapped) == Set(expected.keys.filter { $0 != "output" }))
        for tap in tapped { #expect(graph.value(named: tap).map { graph.type(of: $0).shape } == expected[tap]?.shape, "tap \(tap)") }
    }

    @Test func stateDictLoadingIsStrictAboutNamesAndShapes() throws {
        let fixture = try Case.named("resnet")
        let (graph, _) = try fixture.model.graph(batch: 1, seed: 0, name: "resnet")
        let weights = try StateDict(npz: "\(Self.folder)/resnet.weights.npz")

        var missing = weights
        missing.tensors["layer2.0.downsample.1.running_var"] = nil
        var copy = graph
        #expect(throws: InvalidInput("resnet.weights.npz", "no entry for the model's weight 'layer2.0.downsample.1.running_var' f32[8]")) {
            try copy.load(missing, source: "resnet.weights.npz")
        }
        var extra = weights
        extra.tensors["layer5.0.conv1.weight"] = Tensor(scalar: Float(1))
        #expect(throws: InvalidInput("resnet.weights.npz", "entries the model has no weight for: layer5.0.conv1.weight")) {
            try copy.load(extra, source: "resnet.weights.npz")
        }
        var reshaped = weights
        reshaped.tensors["fc.bias"] = Tensor([Float](repeating: 0, count: 6), shape: [6])
        #expect(throws: InvalidInput("resnet.weights.npz", "'fc.bias' is f32[6], the model's weight is f32[5]")) {
            try copy.load(reshaped, source: "resnet.weights.npz")
        }
        #expect(copy.tensors[try #require(copy.value(named: "fc.bias"))]!.floats == graph.tensors[graph.value(named: "fc.bias")!]!.floats,
                "a failed load changes nothing")
        try copy.load(weights, source: "resnet.weights.npz")
        #expect(copy.tensors[try #require(copy.value(named: "fc.bias"))]!.floats == weights.tensors["fc.bias"]!.floats)
    }
}
