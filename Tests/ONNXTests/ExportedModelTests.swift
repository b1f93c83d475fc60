import Foundation
import GraphIR
import ONNX
import Reference
import Testing

/// Models exported by torch (legacy and dynamo exporters, opsets 13–20) import and reproduce
/// onnxruntime's outputs (`Tests/Fixtures/models`, written by `scripts/export_models.py`).
struct ExportedModelTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models").path

    static var models: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".onnx") }.sorted()
    }

    @Test func fixturesArePresent() {
        #expect(Self.models.count >= 3, "expected tiny_*.onnx fixtures in \(Self.folder)")
    }

    /// Tolerance: |Δ| ≤ 1e-5·(1 + |expected|). The reference interpreter computes in double and
    /// rounds per op; onnxruntime uses float32 kernels, so differences are float32 rounding.
    @Test(arguments: models)
    func matchesOnnxRuntime(_ file: String) throws {
        let stem = String(file.dropLast(".onnx".count))
        let input = try NumPyFile.read("\(Self.folder)/\(stem).input.npy")
        let expected = try NumPyFile.read("\(Self.folder)/\(stem).output.npy")
        let graph = try ONNXImport.graph(fromFile: "\(Self.folder)/\(file)", options: .init(batch: input.shape[0]))
        try Verifier.verify(graph)
        let output = try Reference.run(graph, inputs: [input])[0]
        #expect(output.shape == expected.shape)
        var worst = 0.0
        for (a, e) in zip(output.doubles, expected.doubles) {
            worst = max(worst, abs(a - e))
            #expect(abs(a - e) <= 1e-5 * (1 + abs(e)), "\(file): \(a) vs \(e)")
        }
        print("\(file): max |Δ| = \(worst)")
    }
}
