import BuiltTools
import Foundation
import GraphIR
import Testing

/// `serkd-compile model` and `serkd-run infer` on its plan, run as a user would: the built
/// executables in a subprocess, checking output, exit status and the files left behind.
@Suite struct PlanFileToolTests {
    static let models = PlanFileTests.models


    @Test func aCompiledModelRunsFromItsPlan() throws {
        let folder = try PlanFileTests.Folder()
        let plan = folder.file("resnet.plan")
        let compiled = try BuiltTool.run("serkd-compile", ["model", "\(Self.models)/tiny_resnet.onnx", "-o", plan, "--batch", "2", "--dump"])
        #expect(compiled.status == 0, "\(compiled.error)")
        #expect(compiled.error.isEmpty)
        let lines = compiled.output.split(separator: "\n").map(String.init)
        let steps = try #require(lines.first { $0.hasPrefix("steps (") })
        let count = try #require(Int(steps.dropFirst("steps (".count).prefix { $0.isNumber }))
        #expect(lines.filter { $0.hasPrefix("  ") && $0.contains(" # ") }.count == count, "one line per step")
        #expect(lines.contains { $0.hasPrefix("  0: conv2d ") && $0.contains("workspace") })
        #expect(lines.contains { $0.hasPrefix("buffers (") })
        for heading in ["passes:", "kernels: \(count) (", "arena: ", "persistent: ", "plan file: "] {
            #expect(lines.contains { $0.hasPrefix(heading) }, "no '\(heading)' line")
        }

        let output = folder.file("y.npy")
        let inferred = try BuiltTool.run("serkd-run", ["infer", plan, "--input", "\(Self.models)/tiny_resnet.input.npy", "--output", output])
        #expect(inferred.status == 0, "\(inferred.error)")
        #expect(inferred.output.hasPrefix("\(plan): plan of \(count) kernels, arena "))
        let expected = try NumPyFile.read("\(Self.models)/tiny_resnet.output.npy")
        #expect(zip(try NumPyFile.read(output).floats, expected.floats).allSatisfy { abs($0 - $1) <= 1e-4 })
    }

    @Test func theCompilerListsItsPasses() throws {
        let listed = try BuiltTool.run("serkd-compile", ["--list-passes"])
        #expect(listed.status == 0)
        #expect(listed.output.hasPrefix("dce "))
    }

    @Test func aFailedCompilationWritesNothing() throws {
        let folder = try PlanFileTests.Folder()
        let plan = folder.file("model.plan")
        try Data("an older plan".utf8).write(to: URL(fileURLWithPath: plan))
        let missing = try BuiltTool.run("serkd-compile", ["model", folder.file("missing.onnx"), "-o", plan])
        #expect(missing.status == 1)
        #expect(missing.error == "serkd-compile: \(folder.file("missing.onnx")): no such file\n")
        let unknown = try BuiltTool.run("serkd-compile", ["model", "\(Self.models)/tiny_resnet.onnx", "-o", plan, "--disable-pass", "nope"])
        #expect(unknown.status == 1)
        #expect(unknown.error.hasPrefix("serkd-compile: --disable-pass nope: no such pass (passes: dce"))
        #expect(unknown.error.split(separator: "\n").count == 1)
        #expect(try String(contentsOfFile: plan, encoding: .utf8) == "an older plan")
        #expect(folder.contents == ["model.plan"])
    }

    @Test func aDamagedPlanIsRefusedInOneLine() throws {
        let folder = try PlanFileTests.Folder()
        let (path, _) = try PlanFileTests.smallPlan(in: folder)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count - 8] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: path))
        let input = folder.file("x.npy")
        try NumPyFile.write(PlanFileTests.input([1, 2, 5, 5]), to: input)
        let result = try BuiltTool.run("serkd-run", ["infer", path, "--input", input])
        #expect(result.status == 1)
        #expect(result.error == "serkd-run: \(path): checksum mismatch: the file is corrupt (rewrite it with serkd-compile)\n")
        #expect(result.output.isEmpty)
    }
}
