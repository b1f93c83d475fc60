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
        #expect(result.error == "serkd-run: \(missing)/metrics.jsonl: no such file\n")
    }
}
