import BuiltTools
import Foundation
import GraphIR
import Testing
import Train

/// The details a user notices in a run: who is blamed for a bad value, what progress says, when
/// logging happens, how long warm-up lasts, whether the teacher is touched.
@Suite struct RunDetailsTests {
    @Test("a bad value from --set is blamed on that --set, not on the config file")
    func setIsBlamed() throws {
        let workspace = try Workspace()
        let path = try workspace.writeConfig(#"{"student": {"model": "s.onnx"}, "teacher": {"model": "t.onnx"}, "batch": 0}"#)
        #expect(throws: InvalidInput("--set loss.angle.weight=abc", #"loss.angle.weight: expected a number, got "abc""#)) {
            try RunConfig.load(path, overrides: ["batch=4", "loss.angle.weight=abc"])
        }
        #expect(throws: InvalidInput("--set loss.angel.weight=1", "unknown key 'loss.angel'")) {
            try RunConfig.load(path, overrides: ["batch=4", "loss.angel.weight=1"])
        }
        #expect(throws: InvalidInput("--set loss=3", "loss: expected an object, got 3")) {
            try RunConfig.load(path, overrides: ["batch=4", "loss=3"])
        }
        #expect(throws: InvalidInput(path, "batch: 0 is outside 1…65536")) { try RunConfig.load(path, overrides: ["loss.angle.weight=2"]) }
    }

    @Test("warm-up given in epochs takes no larger share of a shortened run than of the configured one")
    func warmupFitsShortRuns() {
        #expect(LearningRateSchedule.warmupSteps(epochs: 5, of: 300, stepsPerEpoch: 1000, totalSteps: 300_000) == 5000)
        #expect(LearningRateSchedule.warmupSteps(epochs: 5, of: 300, stepsPerEpoch: 1000, totalSteps: 600) == 10)
        #expect(LearningRateSchedule.warmupSteps(epochs: 0.2, of: 3, stepsPerEpoch: 937, totalSteps: 100) == 6)
        #expect(LearningRateSchedule.warmupSteps(epochs: 0.2, of: 3, stepsPerEpoch: 937, totalSteps: 2811) == 187)
    }

    /// The progress lines ("epoch …") a run logs.
    func progress(_ lines: [String]) -> [String] { lines.filter { $0.hasPrefix("epoch ") && $0.contains(" step ") }.map { String($0.prefix { $0 != "|" }) } }

    @Test("a --steps run counts its own epochs, and a resumed run logs on multiples of log_every")
    func progressAndLoggingAfterResume() throws {
        let workspace = try Workspace()
        try workspace.writeCIFAR(count: 8)
        let config = try RunConfig.load(try workspace.writeConfig(workspace.config()), overrides: ["epochs=3", "steps=10", "log_every=3"])
        var first: [String] = [], second: [String] = []
        #expect(try Trainer(config: config) { first.append($0) }.run(resume: false, stopAfter: 4) == nil)
        try Trainer(config: config) { second.append($0) }.run(resume: true)
        #expect(progress(first) == ["epoch 1/1 step 3/10 "])
        #expect(progress(second) == ["epoch 1/1 step 6/10 ", "epoch 1/1 step 9/10 ", "epoch 1/1 step 10/10 "])
    }

    @Test("method none neither loads nor evaluates the teacher the config names")
    func noTeacherForNone() throws {
        let workspace = try Workspace()
        try workspace.writeCIFAR(count: 8)
        let path = try workspace.writeConfig(workspace.config())
        var lines: [String] = []
        let none = try RunConfig.load(path, overrides: ["method=none", "steps=1", #"teacher.model="\#(workspace.file("absent.onnx"))""#])
        try Trainer(config: none) { lines.append($0) }.run(resume: false)
        #expect(!lines.contains { $0.hasPrefix("teacher:") })
        #expect(lines.contains { $0.hasPrefix("epoch 1: student top-1") })
        var serkd: [String] = []
        let distilled = try RunConfig.load(path, overrides: ["steps=1", #"output="\#(workspace.file("serkd"))""#])
        try Trainer(config: distilled) { serkd.append($0) }.run(resume: false)
        #expect(serkd.contains { $0.hasPrefix("teacher: top-1") })
    }

    @Test("visualize refuses an output that is not .png instead of writing PNG bytes under another name")
    func visualizeNamesPNG() throws {
        let workspace = try Workspace()
        let result = try BuiltTool.run("serkd-run", ["visualize", "curves", workspace.path, "-o", workspace.file("x.jpg")])
        #expect(result.status == 1)
        #expect(result.error == "serkd-run: \(workspace.file("x.jpg")): pictures are written as PNG: name the file .png\n")
        #expect(!FileManager.default.fileExists(atPath: workspace.file("x.jpg")))
    }
}
