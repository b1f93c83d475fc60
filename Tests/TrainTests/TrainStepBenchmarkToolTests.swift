import BuiltTools
import Foundation
import Testing

/// `serkd-bench train-step` on a user's ONNX models: the step a run would compile for them, with
/// their taps inferred the way `serkd-run train` infers them.
@Suite struct TrainStepBenchmarkToolTests {
    static let models = DocumentationLinkTests.root.appendingPathComponent("Tests/Fixtures/models").path

    @Test("an ONNX DeiT student distils from an ONNX MAE teacher: one JSON line with the compiled step")
    func onnxPair() throws {
        let result = try BuiltTool.run("serkd-bench", ["train-step", "--student", "\(Self.models)/tiny_deit_distilled.onnx",
                                                       "--teacher", "\(Self.models)/tiny_vit_mae.onnx", "--batch", "2",
                                                       "--repeat", "1", "--warmup", "0", "--json"])
        #expect(result.status == 0, "\(result.error)")
        let line = try #require(result.output.split(separator: "\n").last.map(String.init))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect((json["kernels"] as? Int ?? 0) > 100)
        let arena = json["arena_bytes"] as? Int ?? 0, lowerBound = json["lower_bound_bytes"] as? Int ?? 0
        #expect(arena >= lowerBound && lowerBound > 0)
        #expect((json["median_ms"] as? Double ?? 0) > 0)
    }

    @Test("a teacher whose input differs from the student's is refused with one line")
    func mismatchedTeacher() throws {
        let result = try BuiltTool.run("serkd-bench", ["train-step", "--student", "resnet18", "--teacher", "\(Self.models)/tiny_vit_mae.onnx",
                                                       "--batch", "2", "--repeat", "1", "--warmup", "0"])
        #expect(result.status == 1)
        #expect(result.error == "serkd-bench: teacher: must take one input of the student's type f32[2,3,224,224], it takes [\"f32[2,3,32,32]\"]\n")
    }
}
