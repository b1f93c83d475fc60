import BuiltTools
import Foundation
import GraphIR
import Testing

/// `serkd-run train` as a user meets it: an existing run folder, Ctrl-C.
@Suite struct TrainToolTests {
    /// A workspace whose evaluation split is only 8 images (the training split keeps `count` per batch file).
    func workspace(trainingRecords count: Int) throws -> Workspace {
        let workspace = try Workspace()
        try workspace.writeCIFAR(count: count)
        let test = URL(fileURLWithPath: workspace.file("test_batch.bin"))
        try Data(try Data(contentsOf: test).prefix(8 * 3073)).write(to: test)
        return workspace
    }

    @Test("a folder that holds a run is refused without --resume or --force, before any work; --force replaces it")
    func existingRunFolder() throws {
        let workspace = try workspace(trainingRecords: 2)
        let config = try workspace.writeConfig(workspace.config(",\n  \"steps\": 1"))
        let folder = workspace.file("run")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "precious".write(toFile: folder + "/best.serkd", atomically: true, encoding: .utf8)
        try "{}".write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)

        let refused = try BuiltTool.run("serkd-run", ["train", "--config", config, "--quiet"])
        #expect(refused.status == 1)
        #expect(refused.output.isEmpty)
        #expect(refused.error == "serkd-run: \(folder): already holds a run (config.json, best.serkd): continue it with --resume, or replace it with --force\n")
        #expect(try String(contentsOfFile: folder + "/best.serkd", encoding: .utf8) == "precious")

        let forced = try BuiltTool.run("serkd-run", ["train", "--config", config, "--quiet", "--force"])
        #expect(forced.status == 0, "\(forced.error)")
        #expect(forced.output.hasSuffix("run folder: \(folder) (config.json, metrics.jsonl, last.state, last.serkd, best.serkd)\n"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/best.serkd")) != Data("precious".utf8))
        // The trained model records how to preprocess its inputs, for serkd-run infer and eval.
        let best = try ModelFile.read(folder + "/best.serkd")
        #expect(best.metadata["normalization.mean"] == "0.485,0.456,0.406" && best.metadata["normalization.std"] == "0.229,0.224,0.225")
        #expect(best.metadata["preprocessing.crop_fraction"] == "1")

        let nothingToResume = try BuiltTool.run("serkd-run", ["train", "--config", config, "--quiet", "--resume", "--output", workspace.file("fresh")])
        #expect(nothingToResume.status == 1)
        #expect(nothingToResume.error == "serkd-run: \(workspace.file("fresh")): has no last.state to resume from (start the run without --resume)\n")
    }

    @Test("Ctrl-C saves a checkpoint, exits with 130 and lists only the files it wrote")
    func interrupted() throws {
        let workspace = try workspace(trainingRecords: 400)
        let config = try workspace.writeConfig(workspace.config())
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltTool.path("serkd-run"))
        process.arguments = ["train", "--config", config, "--quiet"]
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        // The teacher's evaluation is logged inside the training loop's run, after Ctrl-C is handled.
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("teacher: top-1") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += chunk
        }
        process.interrupt()
        seen += output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let folder = workspace.file("run")
        #expect(process.terminationStatus == 130, "\(message)")
        #expect(String(decoding: seen, as: UTF8.self).contains("stopped at step "))
        #expect(message == "serkd-run: interrupted; run folder: \(folder) (config.json, metrics.jsonl, last.state)\n")
        #expect(!FileManager.default.fileExists(atPath: folder + "/best.serkd"))
    }
}
