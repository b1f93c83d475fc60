import BuiltTools
import Foundation
import Testing
import Train

/// The resolved config a run prints and saves: short, float32 settings in their shortest decimal,
/// and only once everything it names has been checked.
@Suite struct ResolvedConfigTests {
    @Test("float32 settings print as the shortest decimal that reads back as the same float")
    func shortestFloats() throws {
        #expect(ConfigTree.float(0.286).description == "0.286")
        #expect(ConfigTree.float(1e-8).description == "1e-08")
        #expect(ConfigTree.float(0.1).description == "0.1")
        let workspace = try Workspace()
        let config = try RunConfig.load(try workspace.writeConfig(#"""
            {"student": {"model": "s.onnx", "normalization": {"mean": [0.286], "std": [0.353]}}, "teacher": {"model": "t.onnx"},
             "loss": {"distance": {"weight": 0.3}}}
            """#))
        let text = config.resolved.description
        #expect(text.contains(#""normalization": {"mean": [0.286], "std": [0.353]}"#))
        #expect(text.contains(#""distance": {"weight": 0.3, "per_image_mean": true}"#))
        #expect(!text.contains("0000000"))
    }

    @Test("the dump is short: lines of at most 100 characters, under 40 of them, and it reads back as the same tree")
    func short() throws {
        let workspace = try Workspace()
        let config = try RunConfig.load(try workspace.writeConfig(workspace.config()))
        let text = config.resolved.description
        let lines = text.split(separator: "\n")
        #expect(lines.count < 40)
        #expect(lines.allSatisfy { $0.count <= 100 }, "\(lines.filter { $0.count > 100 })")
        #expect(try ConfigTree(json: text, source: "dump") == config.resolved)
    }

    @Test("a missing teacher file is the first and only thing a run prints: no config dump before it")
    func validatedBeforePrinting() throws {
        let workspace = try Workspace()
        try workspace.writeCIFAR(count: 2)
        let config = try workspace.writeConfig(workspace.config())
        let missing = workspace.file("no-teacher.onnx")
        let result = try BuiltTool.run("serkd-run", ["train", "--config", config, "--set", "teacher.model=\(missing)"])
        #expect(result.status == 1)
        #expect(result.output.isEmpty)
        #expect(result.error == "serkd-run: \(missing): no such file\n")
    }
}
