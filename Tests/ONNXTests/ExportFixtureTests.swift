import Foundation
import GraphIR
import ONNX
import Reference
import Testing

/// Real exporter output (`Tests/Fixtures/models`: ResNet, ViT and DeiT from torch's two exporters,
/// opsets 13–20) survives import → export → import: the same outputs on the fixture's input, and
/// the same per-sample outputs at other batches. Each model is exported at its own opset, so
/// every op maps to what it was imported from and the outputs agree exactly.
struct ExportFixtureTests {
    static var models: [String] { ExportedModelTests.models }

    @Test(arguments: models)
    func importExportImportKeepsTheOutputs(_ file: String) throws {
        let stem = String(file.dropLast(".onnx".count))
        let input = try NumPyFile.read("\(ExportedModelTests.folder)/\(stem).input.npy")
        let original = try ONNXImport.graph(fromFile: "\(ExportedModelTests.folder)/\(file)", options: .init(batch: input.shape[0]))
        let opset = try #require(original.metadata["opsets"].flatMap { Int($0.replacingOccurrences(of: "ai.onnx:", with: "")) })
        let (again, summary) = try exportAndImport(original, options: .init(opset: opset), batch: input.shape[0])
        #expect(summary.dynamicBatch, "\(summary.fixedBatchReason ?? "")")
        let expected = try Reference.run(original, inputs: [input])[0]
        let actual = try Reference.run(again, inputs: [input])[0]
        #expect(actual.shape == expected.shape)
        expectClose(actual.doubles, expected.doubles, tolerance: 0, file)
    }

    /// One model per architecture at batches 1 and 3 (the per-sample reference runs dominate the cost).
    @Test(arguments: ["tiny_resnet.bn.onnx", "tiny_vit_mae.onnx", "tiny_deit_distilled.dynamo.onnx"])
    func exportedFixturesTakeAnyBatch(_ file: String) throws {
        let original = try ONNXImport.graph(fromFile: "\(ExportedModelTests.folder)/\(file)", options: .init(batch: 2))
        for batch in [1, 3] {
            let resized = try exportAndImport(original, batch: batch).graph
            try expectSamePerSample(original, resized, batch: batch, tolerance: 0)
        }
    }
}
