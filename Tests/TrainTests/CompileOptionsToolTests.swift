import BuiltTools
import Foundation
import Testing

/// `serkd-compile graph` as the README shows it: `--memory-budget` with a unit, `--dump` alone.
@Suite struct CompileOptionsToolTests {
    @Test("graph --dump without -o prints the plan and writes no file")
    func dumpWithoutOutput() throws {
        let workspace = try Workspace()
        try workspace.writeCIFAR(count: 8)
        let config = try workspace.writeConfig(workspace.config())
        let result = try BuiltTool.run("serkd-compile", ["graph", "--config", config, "--dump"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.hasPrefix("steps ("))
        #expect(result.output.contains("\nbuffers ("))
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.path).filter { $0.hasSuffix(".plan") }.isEmpty)
    }

    @Test("graph --memory-budget takes a size with a unit: 2GiB compiles, 1KiB is refused naming the flag")
    func memoryBudget() throws {
        let workspace = try Workspace()
        try workspace.writeCIFAR(count: 8)
        let config = try workspace.writeConfig(workspace.config())
        let plan = workspace.file("train.plan")
        let roomy = try BuiltTool.run("serkd-compile", ["graph", "--config", config, "-o", plan, "--memory-budget", "2GiB"])
        #expect(roomy.status == 0, "\(roomy.error)")
        #expect(FileManager.default.fileExists(atPath: plan))
        let tight = try BuiltTool.run("serkd-compile", ["graph", "--config", config, "-o", workspace.file("tight.plan"), "--memory-budget", "1KiB"])
        #expect(tight.status == 1)
        #expect(tight.error.hasPrefix("serkd-compile: --memory-budget: the plan needs "))
        #expect(tight.error.hasSuffix(" over the budget of 1024\n"))
        let garbage = try BuiltTool.run("serkd-compile", ["graph", "--config", config, "-o", plan, "--memory-budget", "lots"])
        #expect(garbage.error == "serkd-compile: --memory-budget: expected a positive size like 512MiB or 2GiB, got 'lots'\n")
    }
}
