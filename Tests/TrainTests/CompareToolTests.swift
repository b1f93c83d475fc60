import BuiltTools
import Foundation
import Testing

/// `serkd-run compare` reads run folders as training leaves them and prints one row per run, or,
/// for a folder it cannot read, one error line and nothing else.
@Suite struct CompareToolTests {
    func writeRun(_ workspace: Workspace, _ name: String, method: String, evaluations: [(step: Int, top1: Double)]) throws -> String {
        let folder = workspace.file(name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try #"{"name": "\#(name)", "method": "\#(method)"}"#.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        var lines = [#"{"epoch": 1, "step": 10, "images_per_second": 100, "loss/total": 1.5}"#,
                     #"{"epoch": 1, "step": 20, "images_per_second": 300, "loss/total": 1.2}"#]
        for e in evaluations { lines.append(#"{"epoch": 1, "step": \#(e.step), "eval/top1": \#(e.top1), "eval/top5": 0.99}"#) }
        try lines.joined(separator: "\n").appending("\n").write(toFile: folder + "/metrics.jsonl", atomically: true, encoding: .utf8)
        return folder
    }

    @Test func aRowPerRunWithFinalAndBestTop1() throws {
        let workspace = try Workspace()
        let none = try writeRun(workspace, "none-seed0", method: "none", evaluations: [(20, 0.8), (40, 0.75)])
        let serkd = try writeRun(workspace, "serkd-seed0", method: "serkd", evaluations: [(40, 0.85)])
        let result = try BuiltTool.run("serkd-run", ["compare", none, serkd])
        #expect(result.status == 0)
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[1] == "none-seed0   none       40  75.00%  99.00%      80.00%    200")
        #expect(lines[2] == "serkd-seed0  serkd      40  85.00%  99.00%      85.00%    200")
    }

    @Test func aFolderWithoutMetricsIsOneErrorLineAndNoTable() throws {
        let workspace = try Workspace()
        let good = try writeRun(workspace, "good", method: "kd", evaluations: [(40, 0.85)])
        let missing = workspace.file("missing")
        let result = try BuiltTool.run("serkd-run", ["compare", good, missing])
        #expect(result.status != 0)
        #expect(result.output.isEmpty)
        #expect(result.error == "serkd-run: \(missing): no such file or folder\n")
    }

    @Test("entries that are not run folders are skipped with a note; a run not yet evaluated shows dashes")
    func nonRunEntries() throws {
        let workspace = try Workspace()
        let run = try writeRun(workspace, "serkd-seed0", method: "serkd", evaluations: [(40, 0.85)])
        let fresh = try writeRun(workspace, "fresh", method: "kd", evaluations: [])
        let plan = workspace.file("serkd.plan"), empty = workspace.file("empty")
        try "plan".write(toFile: plan, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let result = try BuiltTool.run("serkd-run", ["compare", run, plan, empty, fresh])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error == "serkd-run: note: skipping \(plan): not a run folder\nserkd-run: note: skipping \(empty): not a run folder\n")
        let lines = result.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[1] == "serkd-seed0  serkd      40  85.00%  99.00%      85.00%    200")
        #expect(lines[2] == "fresh        kd         20       –       –           –    200")
        let nothing = try BuiltTool.run("serkd-run", ["compare", plan, empty])
        #expect(nothing.status == 1)
        #expect(nothing.error.hasSuffix("serkd-run: none of the 2 entries is a run folder (one holding config.json and metrics.jsonl)\n"))
    }
}
