import BuiltTools
import Foundation
import GraphIR
import Testing
import Train

/// A run whose loss or parameters stop being finite stops at that step with one line saying so,
/// exits non-zero, and leaves the last good checkpoint in place.
@Suite struct NumericGuardTests {
    @Test("a learning rate that blows up stops the run at the step it does, keeping the last good checkpoint")
    func aDivergingRunStopsCleanly() throws {
        let workspace = try Workspace()
        try workspace.writeCIFAR()
        // SGD at lr 100 after one warm-up step at 1e-4: the first step is sound, a few later ones diverge.
        let extra = """
            ,
              "steps": 30, "deterministic": true,
              "optimizer": {"name": "sgd", "momentum": 0.9}
            """
        let text = workspace.config(extra).replacingOccurrences(of: "\"checkpoint_every\": 3", with: "\"checkpoint_every\": 1")
            .replacingOccurrences(of: "\"schedule\": {\"lr\": 0.002, \"warmup_epochs\": 0.1}",
                                  with: "\"schedule\": {\"lr\": 100, \"warmup_epochs\": 0.2, \"warmup_lr\": 0.0001}")
        let config = try workspace.writeConfig(text)
        let result = try BuiltTool.run("serkd-run", ["train", "--config", config, "--quiet"])
        #expect(result.status == 1)
        let lines = result.error.split(separator: "\n")
        #expect(lines.count == 1, "\(result.error)")
        let line = String(lines.first ?? "")
        let state = workspace.file("run/last.state")
        let pattern = #/serkd-run: training: (the loss became [-a-z]+|a gradient was not finite: parameter '[^']+' became [-a-z]+) at step (\d+), so training stopped there; the last good checkpoint, (.+) \(step (\d+)\), is kept\. Lower schedule\.lr or set optimizer\.clip_grad/#
        let match = try #require(line.wholeMatch(of: pattern), "\(line)")
        let (failed, kept) = (Int(match.output.2)!, Int(match.output.4)!)
        #expect(String(match.output.3) == state)
        #expect(failed > 1 && kept == failed - 1)
        let checkpoint = try Checkpoint.read(state)
        #expect(checkpoint.step == kept)
        for (name, tensor) in checkpoint.tensors where tensor.dtype == .float32 {
            #expect(tensor.floats.allSatisfy { $0.isFinite }, "\(name) is not finite in the kept checkpoint")
        }
    }
}
