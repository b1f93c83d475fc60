import Foundation
import GraphIR
import ONNX
import Reference
import Testing

/// The ONNX backend node-test cases for the ops serkd claims (`Tests/Fixtures/onnx-node`, copied by
/// `scripts/extract_onnx_node_tests.py`) import and, run by the reference interpreter, reproduce
/// their expected outputs: float32 within 1e-4 + 1e-3·|expected|, integers and bools exactly.
/// Cases serkd deliberately does not support are listed with reasons in
/// `Tests/Fixtures/onnx-node-exclusions.txt`; an excluded case that starts passing fails the test,
/// so the list stays honest.
struct ConformanceTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    @Test func nodeCasesMatchTheirExpectedOutputs() throws {
        let suite = try ConformanceSuite(folder: Self.fixtures + "/onnx-node", exclusionFile: Self.fixtures + "/onnx-node-exclusions.txt")
        #expect(suite.caseNames.count >= 100, "expected the node cases in \(suite.folder)")
        let report = suite.run { graph, inputs in try Reference.run(graph, inputs: inputs) }
        print(report.summary(label: "reference interpreter"))
        for (name, reason) in report.failed { Issue.record("\(name): \(reason)") }
        for name in report.unexpectedlyPassed { Issue.record("\(name) passes now: remove it from onnx-node-exclusions.txt") }
    }
}
