import Foundation
import GraphIR
import Testing
import Train

/// An interrupted run resumed from its checkpoint ends with the same weights, bit for bit, as the
/// same run left alone: data order, augmentation, mixing and every kernel are deterministic.
@Suite struct ResumeTests {
    @Test func resumingAnInterruptedRunMatchesTheUninterruptedRun() throws {
        let workspace = try Workspace()
        try workspace.writeCIFAR()
        let steps = ",\n  \"steps\": 10"
        let straight = try RunConfig.load(try workspace.writeConfig(workspace.config(steps, output: "straight"), name: "a.json"))
        try Trainer(config: straight) { _ in }.run(resume: false)

        let interrupted = try RunConfig.load(try workspace.writeConfig(workspace.config(steps, output: "resumed"), name: "b.json"))
        #expect(try Trainer(config: interrupted) { _ in }.run(resume: false, stopAfter: 4) == nil)
        try Trainer(config: interrupted) { _ in }.run(resume: true)

        let a = try Checkpoint.read(workspace.file("straight/last.state")), b = try Checkpoint.read(workspace.file("resumed/last.state"))
        #expect(a.step == 10 && b.step == 10)
        #expect(Set(a.tensors.keys) == Set(b.tensors.keys) && a.tensors.count > 30)
        for (name, tensor) in a.tensors { #expect(tensor.bitwiseEqual(b.tensors[name]!), "\(name) differs after resuming") }
        // And training did something.
        let initial = try ModelLoaderProbe.initialParameter(workspace)
        #expect(!a.tensors["student/head.weight"]!.bitwiseEqual(initial))
    }
}

/// The student's initial head weight, for checking that training moved it.
enum ModelLoaderProbe {
    static func initialParameter(_ workspace: Workspace) throws -> Tensor {
        let config = try RunConfig.load(try workspace.writeConfig(workspace.config(), name: "probe.json"))
        let graph = try ModelLoader.load(config.student, batch: 4, data: config.data, seed: 0, role: "student").graph
        return graph.tensors[graph.value(named: "head.weight")!]!
    }
}
