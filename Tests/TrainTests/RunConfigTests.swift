import Foundation
import Testing
import GraphIR
import Train

/// Configs are read strictly: defaults are the paper's, overrides obey the same checks, and every
/// mistake is one line naming the file and the key.
@Suite struct RunConfigTests {
    func load(_ text: String, overrides: [String] = []) throws -> RunConfig {
        let workspace = try Workspace()
        return try RunConfig.load(try workspace.writeConfig(text), overrides: overrides)
    }

    @Test func defaultsAreThePapers() throws {
        let config = try load(#"{"student": {"model": "s.onnx"}, "teacher": {"model": "t.onnx"}}"#)
        #expect(config.method == .serkd)
        #expect(config.objective.kdWeight == 1 && config.objective.featureWeight == 1)
        #expect(config.objective.relation.distanceWeight == 0.5 && config.objective.relation.angleWeight == 1)
        #expect(config.objective.clustering.mode == .superpixel && config.objective.clustering.grid == 2 && config.objective.clustering.iterations == 1)
        #expect(config.optimizer.kind == .adamw && config.optimizer.weightDecay == 0.05)
        #expect(config.resolved.description.contains("\"border\": \"stvit\""))
    }

    /// The configs the README and examples/README.md point users at must stay readable as the keys evolve.
    @Test func everyExampleConfigParses() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples")
        let files = FileManager.default.enumerator(atPath: examples.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") }
        #expect(files.count >= 4)
        for file in files {
            let config = try RunConfig.load(examples.appendingPathComponent(file).path)
            #expect(config.epochs >= 1, "\(file)")
        }
    }

    @Test func overridesApplyBeforeChecking() throws {
        let text = #"{"student": {"model": "s.onnx"}, "teacher": {"model": "t.onnx"}}"#
        let config = try load(text, overrides: ["loss.angle.weight=0.25", "method=rkd"])
        #expect(config.objective.relation.angleWeight == 0.25)
        #expect(config.objective.clustering.mode == .none)
        let error = #expect(throws: InvalidInput.self) { try load(text, overrides: ["loss.angle.weight=\"heavy\""]) }
        #expect(error?.problem == "loss.angle.weight: expected a number, got \"heavy\"")
    }

    @Test func methodsSwitchTermsOff() throws {
        let base = #"{"student": {"model": "s.onnx"}, "teacher": {"model": "t.onnx"}, "method": "METHOD"}"#
        let none = try load(base.replacingOccurrences(of: "METHOD", with: "none"))
        #expect(!none.objective.usesTeacher)
        let kd = try load(base.replacingOccurrences(of: "METHOD", with: "kd"))
        #expect(kd.objective.kdWeight == 1 && kd.objective.featureWeight == 0 && kd.objective.relation.angleWeight == 0)
    }

    @Test func mistakesNameTheKey() throws {
        let cases: [(String, String)] = [
            (#"{"student": {"model": "s.onnx"}, "teacher": {"model": "t.onnx"}, "loss": {"angel": {"weight": 1}}}"#, "unknown key 'loss.angel'"),
            (#"{"student": {"model": "s.onnx"}, "method": "serkd"}"#, "method 'serkd' needs a teacher (set 'teacher.model', or method none)"),
            (#"{"student": {}, "method": "none"}"#, "student.model: missing (a .serkd/.onnx path or a zoo name)"),
            (#"{"student": {"model": "s.onnx"}, "method": "none", "batch": 0}"#, "batch: 0 is outside 1…65536"),
            (#"{"student": {"model": "s.onnx"}, "method": "dkd"}"#, "method: 'dkd' is not one of none, kd, rkd, serkd"),
            ("{\"student\": {\"model\": \"s.onnx\"},\n  \"method\": none}", "invalid JSON at line 2, column 13: unexpected character"),
        ]
        for (text, problem) in cases {
            let error = #expect(throws: InvalidInput.self) { try load(text) }
            #expect(error?.problem == problem)
        }
        #expect(throws: InvalidInput("/nonexistent/run.json", "no such file")) { try RunConfig.load("/nonexistent/run.json") }
    }

    @Test func aMissingDatasetOrTapFailsBeforeAnyWork() throws {
        let workspace = try Workspace()
        let missing = try RunConfig.load(try workspace.writeConfig(workspace.config()))
        let error = #expect(throws: InvalidInput.self) { try Trainer(config: missing) { _ in } }
        #expect(error?.problem.hasPrefix("no data_batch_1.bin") == true)

        try workspace.writeCIFAR(count: 8)
        let badTap = try RunConfig.load(try workspace.writeConfig(workspace.config()), overrides: ["teacher.taps.logits=\"logits\"", "teacher.taps.tokens=\"nope\""])
        #expect(throws: InvalidInput("teacher tokens tap 'nope'", "no tensor of that name in graph 'main_graph'")) { try Trainer(config: badTap) { _ in } }
    }
}

/// timm's schedule: linear warm-up, then cosine decay to the minimum at the last step.
@Suite struct LearningRateScheduleTests {
    @Test func warmupThenCosine() {
        let schedule = LearningRateSchedule(peak: 1e-3, warmupSteps: 10, warmupLearningRate: 1e-6, minimumLearningRate: 1e-5, totalSteps: 110)
        #expect(schedule.learningRate(at: 0) == 1e-6)
        #expect(abs(schedule.learningRate(at: 5) - (1e-6 + (1e-3 - 1e-6) / 2)) < 1e-15)
        #expect(schedule.learningRate(at: 10) == 1e-3)
        #expect(abs(schedule.learningRate(at: 60) - (1e-5 + (1e-3 - 1e-5) / 2)) < 1e-12)
        #expect(abs(schedule.learningRate(at: 110) - 1e-5) < 1e-15)
    }
}
