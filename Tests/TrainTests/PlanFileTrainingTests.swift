import Compiler
import BuiltTools
import Foundation
import GraphIR
import Runtime
import Testing
import Train

/// A training step written as a plan file and read back trains exactly as the step compiled in
/// process: the same losses and the same parameters, optimizer moments and statistics, bit for bit.
@Suite struct PlanFileTrainingTests {
    /// Four deterministic training inputs for the fixture ViT at 32×32: images, soft targets,
    /// learning rate, step.
    static func inputs(step: Int) -> [Tensor] {
        let images = Tensor((0..<(4 * 3 * 32 * 32)).map { Float(sin(Double($0 * (step + 3)) * 0.013)) }, shape: [4, 3, 32, 32])
        var targets = [Float](repeating: 0.01, count: 40)
        for row in 0..<4 { targets[row * 10 + (row + step) % 10] = 0.91 }
        return [images, Tensor(targets, shape: [4, 10]), Tensor(scalar: Float(1e-3)), Tensor(scalar: Float(step))]
    }

    @Test func aTrainingPlanReadBackComputesTheSameStepsBitForBit() throws {
        let workspace = try Workspace()
        let config = try RunConfig.load(try workspace.writeConfig(workspace.config()))
        let compiled = try CompiledStep(config: config)
        let path = workspace.file("train.plan")
        try compiled.planFile.write(to: path)
        let loaded = try CompiledStep(planFile: path, config: config)
        #expect(loaded.plan.steps == compiled.plan.steps)
        #expect(loaded.lossNames == compiled.lossNames && loaded.lossNames.last == "loss/total")
        #expect(loaded.studentTaps == compiled.studentTaps)
        #expect(loaded.summary == compiled.summary)

        let inMemory = Executor(compiled.plan), fromFile = Executor(loaded.plan)
        for step in 1...3 {
            let expected = try inMemory.run(Self.inputs(step: step)), actual = try fromFile.run(Self.inputs(step: step))
            for (name, (a, e)) in zip(compiled.lossNames, zip(actual, expected)) { #expect(a.bitwiseEqual(e), "step \(step) \(name)") }
        }
        // Parameters, moments and running statistics were updated in place, identically.
        let trained = Checkpoint(graph: compiled.state, epoch: 0, step: 3, bestTop1: 0).tensors
        let reloaded = Checkpoint(graph: loaded.state, epoch: 0, step: 3, bestTop1: 0).tensors
        #expect(Set(trained.keys) == Set(reloaded.keys) && trained.count > 30)
        for (name, tensor) in trained { #expect(tensor.bitwiseEqual(reloaded[name]!), "\(name) differs") }
        // …in memory only: the file still holds the initial weights.
        let initial = try CompiledStep(planFile: path, config: config)
        let head = try #require(initial.state.value(named: "student/head.weight"))
        #expect(!initial.state.tensors[head]!.bitwiseEqual(trained["student/head.weight"]!))
    }

    @Test func aTrainerRunsAPlanAsItRunsItsOwnCompilation() throws {
        let workspace = try Workspace()
        try workspace.writeCIFAR()
        let steps = ",\n  \"steps\": 3"
        let own = try RunConfig.load(try workspace.writeConfig(workspace.config(steps, output: "own"), name: "own.json"))
        try Trainer(config: own) { _ in }.run(resume: false)

        // Another output folder and schedule do not change the step; the plan serves both.
        let planned = try RunConfig.load(try workspace.writeConfig(workspace.config(steps, output: "planned"), name: "planned.json"))
        try CompiledStep(config: planned).planFile.write(to: workspace.file("train.plan"))
        try Trainer(config: planned, plan: workspace.file("train.plan")) { _ in }.run(resume: false)

        let a = try Checkpoint.read(workspace.file("own/last.state")), b = try Checkpoint.read(workspace.file("planned/last.state"))
        #expect(a.step == 3 && b.step == 3)
        #expect(Set(a.tensors.keys) == Set(b.tensors.keys))
        for (name, tensor) in a.tensors { #expect(tensor.bitwiseEqual(b.tensors[name]!), "\(name) differs") }
    }

    @Test func aPlanCompiledForAnotherRunIsRefused() throws {
        let workspace = try Workspace()
        let config = try RunConfig.load(try workspace.writeConfig(workspace.config()))
        let path = workspace.file("train.plan")
        try CompiledStep(config: config).planFile.write(to: path)

        let rescheduled = try RunConfig.load(try workspace.writeConfig(workspace.config(), name: "b.json"), overrides: ["schedule.lr=0.5", "epochs=9"])
        #expect(try CompiledStep(planFile: path, config: rescheduled).plan.steps.count > 0)
        let smaller = try RunConfig.load(try workspace.writeConfig(workspace.config(), name: "c.json"), overrides: ["batch=2"])
        #expect(throws: InvalidInput(path, "was compiled for a different run (batch: 4 in the plan, 2 in the config): recompile with serkd-compile graph --config")) {
            try CompiledStep(planFile: path, config: smaller)
        }
        let other = try RunConfig.load(try workspace.writeConfig(workspace.config(), name: "d.json"), overrides: ["loss.angle.weight=3"])
        #expect(throws: InvalidInput(path, "was compiled for a different run (loss.angle.weight: 1 in the plan, 3 in the config): recompile with serkd-compile graph --config")) {
            try CompiledStep(planFile: path, config: other)
        }
    }
}

/// `serkd-compile graph` and `serkd-run train --plan`, run as a user would.
@Suite struct PlanFileTrainingToolTests {

    @Test func aCompiledTrainingStepTrainsFromItsPlan() throws {
        let workspace = try Workspace()
        try workspace.writeCIFAR()
        let config = try workspace.writeConfig(workspace.config(",\n  \"steps\": 2"))
        let plan = workspace.file("train.plan")
        let compiled = try BuiltTool.run("serkd-compile", ["graph", "--config", config, "-o", plan])
        #expect(compiled.status == 0, "\(compiled.error)")
        #expect(compiled.output.hasPrefix("\(config) → \(plan)\npasses:\n"))

        let trained = try BuiltTool.run("serkd-run", ["train", "--config", config, "--plan", plan, "--quiet"])
        #expect(trained.status == 0, "\(trained.error)")
        #expect(trained.output.hasPrefix("training step: "))
        #expect(FileManager.default.fileExists(atPath: workspace.file("run/last.state")))

        let refused = try BuiltTool.run("serkd-run", ["train", "--config", config, "--set", "batch=2", "--plan", plan, "--quiet", "--force"])
        #expect(refused.status == 1)
        #expect(refused.error == "serkd-run: \(plan): was compiled for a different run (batch: 4 in the plan, 2 in the config): recompile with serkd-compile graph --config\n")
        #expect(FileManager.default.fileExists(atPath: workspace.file("run/last.state")), "a refused --force run leaves the old run alone")
    }
}
