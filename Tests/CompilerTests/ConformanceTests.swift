import Compiler
import Foundation
import GraphIR
import ONNX
import Runtime
import Testing

/// The ONNX node conformance cases, run the way serkd-run runs a model: lowered to a plan with a
/// planned arena and executed by the runtime's kernels. Same cases, exclusions and tolerances as the
/// reference-interpreter pass in ONNXTests.
struct CompiledConformanceTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    @Test func nodeCasesMatchWhenCompiledAndExecuted() throws {
        let suite = try ConformanceSuite(folder: Self.fixtures + "/onnx-node", exclusionFile: Self.fixtures + "/onnx-node-exclusions.txt")
        #expect(suite.caseNames.count >= 100, "expected the node cases in \(suite.folder)")
        let report = suite.run { graph, inputs in try Executor(Lowering.plan(graph).plan).run(inputs) }
        print(report.summary(label: "compiled runtime"))
        for (name, reason) in report.failed { Issue.record("\(name): \(reason)") }
        for name in report.unexpectedlyPassed { Issue.record("\(name) passes now: remove it from onnx-node-exclusions.txt") }
    }
}
