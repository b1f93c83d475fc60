import BuiltTools
import Foundation
import Testing
import Train

/// `mpirun -np 2 serkd-run train` on this machine: two ranks with half the batch each train exactly
/// as one process with the whole batch, resume from rank 0's checkpoint, and a rank that fails ends
/// the job. Skipped only where Open MPI's `mpirun` is not installed (scripts/setup.sh installs it).
@Suite(.enabled(if: MPILauncher.path != nil, "mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)"))
struct DataParallelToolTests {

    /// A deterministic SeRKD run of tiny zoo models (no batch norm, no drop path) with a constant
    /// learning rate, so that stopping and resuming does not change the schedule. SGD, because its
    /// update is proportional to the gradient: AdamW divides by the gradient's magnitude, so where
    /// the true gradient is zero (the attention's key bias) it turns the rounding noise of summing a
    /// batch in two halves into updates of ±lr.
    func config(_ workspace: Workspace, dataRoot: String? = nil) -> String {
        """
        {
          "name": "ranks", "method": "serkd", "seed": 7, "deterministic": true,
          "student": {"model": "deit_distilled_small_images", "options": {"dim": 16, "depth": 1, "heads": 2, "patch": 8, "drop_path": 0}},
          "teacher": {"model": "vit_mae_small_images", "options": {"dim": 32, "depth": 1, "heads": 2, "patch": 8}},
          "data": {"dataset": "cifar10", "root": "\(dataRoot ?? workspace.path)", "image_size": 32, "channels": 3, "classes": 10, "workers": 1},
          "batch": 8, "eval_batch": 4, "epochs": 1, "steps": 4, "log_every": 1, "checkpoint_every": 100,
          "optimizer": {"name": "sgd", "momentum": 0.9, "weight_decay": 0.0001},
          "schedule": {"lr": 0.05, "warmup_epochs": 0, "min_lr": 0.05}
        }
        """
    }

    func launch(ranks: Int, _ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let serkdRun = BuiltTool.path("serkd-run")
        let program = ["--allow-run-as-root", "--oversubscribe", "-np", String(ranks), "-x", "SERKD_THREADS=1", "-x", "OPENBLAS_NUM_THREADS=1", serkdRun]
        return try BuiltTool.run(at: MPILauncher.path!, program + arguments)
    }

    /// Every logged loss (by step and name) of a run folder.
    func losses(_ folder: String) throws -> [String: Double] {
        var losses: [String: Double] = [:]
        for record in try MetricsLog.read(folder + "/metrics.jsonl") {
            guard let step = record["step"] else { continue }
            for (key, value) in record where key.hasPrefix("loss/") || key.hasPrefix("eval/") { losses["\(Int(step)) \(key)"] = value }
        }
        return losses
    }

    /// max |a − b| / max |a| of one tensor, the largest over the checkpoint.
    func largestRelativeDifference(_ a: Checkpoint, _ b: Checkpoint) throws -> (name: String, difference: Double) {
        try #require(Set(a.tensors.keys) == Set(b.tensors.keys) && !a.tensors.isEmpty)
        var worst = ("", 0.0)
        for (name, tensor) in a.tensors {
            let x = tensor.floats, y = b.tensors[name]!.floats
            let scale = Double(x.map { abs($0) }.max() ?? 0)
            let difference = zip(x, y).map { Double(abs($0 - $1)) }.max() ?? 0
            let relative = scale > 0 ? difference / scale : difference
            if relative > worst.1 { worst = (name, relative) }
        }
        return worst
    }

    @Test("2 ranks × batch 4 give the losses and final parameters of 1 rank × batch 8 (1e-5 relative), also when resumed")
    func twoRanksTrainAsOneProcessWithTheWholeBatch() throws {
        let workspace = try Workspace()
        try workspace.writeCIFAR()
        let path = try workspace.writeConfig(config(workspace))

        let single = try BuiltTool.run("serkd-run", ["train", "--config", path, "--output", workspace.file("one"), "--quiet"])
        try #require(single.status == 0, "\(single.error)")
        let parallel = try launch(ranks: 2, ["train", "--config", path, "--output", workspace.file("two"), "--quiet"])
        try #require(parallel.status == 0, "\(parallel.error)")
        #expect(parallel.output.contains("on 2 ranks (all-reduce"))
        // Rank 0 alone prints: one line per step, not two.
        #expect(parallel.output.components(separatedBy: "step 4/4").count == 2)

        let expected = try losses(workspace.file("one")), actual = try losses(workspace.file("two"))
        #expect(expected.count == 4 * 6 + 3 && Set(actual.keys) == Set(expected.keys))
        for (key, value) in expected {
            let other = try #require(actual[key])
            #expect(abs(other - value) <= 1e-5 * max(abs(value), 1e-3), "\(key): \(other) on 2 ranks, \(value) on 1")
        }
        let one = try Checkpoint.read(workspace.file("one/last.state")), two = try Checkpoint.read(workspace.file("two/last.state"))
        #expect(one.step == 4 && two.step == 4)
        let worst = try largestRelativeDifference(one, two)
        #expect(worst.difference <= 1e-5, "\(worst.name) differs by \(worst.difference) relative")

        // Stopped after 2 steps and resumed from rank 0's checkpoint: the same 4 steps.
        let first = try launch(ranks: 2, ["train", "--config", path, "--output", workspace.file("resumed"), "--quiet", "--steps", "2"])
        try #require(first.status == 0, "\(first.error)")
        let rest = try launch(ranks: 2, ["train", "--config", path, "--output", workspace.file("resumed"), "--quiet", "--resume"])
        try #require(rest.status == 0, "\(rest.error)")
        #expect(rest.output.contains("resumed from"))
        let resumed = try Checkpoint.read(workspace.file("resumed/last.state"))
        let drift = try largestRelativeDifference(one, resumed)
        #expect(resumed.step == 4 && drift.difference <= 1e-5, "\(drift.name) differs by \(drift.difference) relative after resuming")
    }

    @Test("batch-norm running means are averaged over the ranks: after one step, the stem's is that of 1 rank with the whole batch")
    func runningStatisticsAreAveraged() throws {
        let workspace = try Workspace()
        try workspace.writeCIFAR()
        // One step, so a running mean is (1 − m)·μ₀ + m·(batch mean), and the mean of the two halves' batch means is the
        // whole batch's where the layer's input is the same on both sides: at the stem (deeper layers see inputs normalised
        // with each shard's own batch statistics, as in DDP without synchronised batch norm).
        let path = try workspace.writeConfig("""
            {
              "name": "bn", "method": "none", "seed": 7, "deterministic": true,
              "student": {"model": "resnet18_small_images", "options": {"width": 4}},
              "data": {"dataset": "cifar10", "root": "\(workspace.path)", "image_size": 32, "channels": 3, "classes": 10, "workers": 1},
              "batch": 8, "eval_batch": 8, "epochs": 1, "steps": 1, "optimizer": {"name": "sgd"}
            }
            """)
        let single = try BuiltTool.run("serkd-run", ["train", "--config", path, "--output", workspace.file("one"), "--quiet"])
        try #require(single.status == 0, "\(single.error)")
        let parallel = try launch(ranks: 2, ["train", "--config", path, "--output", workspace.file("two"), "--quiet"])
        try #require(parallel.status == 0, "\(parallel.error)")
        let one = try Checkpoint.read(workspace.file("one/last.state")), two = try Checkpoint.read(workspace.file("two/last.state"))
        let means = one.tensors.keys.filter { $0.hasSuffix("running_mean") }
        try #require(means.count > 10)
        let stem = means.filter { !$0.contains("layer") }
        try #require(stem.count == 1, "\(means)")
        for name in stem {
            let x = one.tensors[name]!.floats, y = try #require(two.tensors[name]).floats
            let scale = Double(x.map { abs($0) }.max() ?? 0)
            let difference = Double(zip(x, y).map { abs($0 - $1) }.max() ?? 0)
            #expect(difference <= 1e-5 * max(scale, 1e-6), "\(name) differs by \(difference)")
        }
    }

    @Test("--version says that MPI is there; under mpirun each of 2 ranks on 2 cores takes 1 thread")
    func versionReportsMPI() throws {
        let alone = try BuiltTool.run("serkd-run", ["--version"])
        #expect(alone.status == 0 && alone.output.contains("mpi: Open MPI v"), "\(alone.output)")
        let ranks = try BuiltTool.run(at: MPILauncher.path!, ["--allow-run-as-root", "--oversubscribe", "-np", "2", BuiltTool.path("serkd-run"), "--version"])
        let share = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
        #expect(ranks.status == 0 && ranks.output.components(separatedBy: ", \(share) threads\n").count == 5, "\(ranks.output)")
    }

    @Test("a rank that fails, or whose config differs, ends every rank with a non-zero status and its message, and no checkpoint is written")
    func aFailingRankEndsTheJob() throws {
        let workspace = try Workspace()
        try workspace.writeCIFAR()
        let good = try workspace.writeConfig(config(workspace), name: "good.json")
        let bad = try workspace.writeConfig(config(workspace, dataRoot: workspace.file("missing")), name: "bad.json")
        let serkdRun = BuiltTool.path("serkd-run")
        let output = workspace.file("run")
        // Two programs in one job (MPMD): rank 0 has its data, rank 1 does not.
        let result = try BuiltTool.run(at: MPILauncher.path!, ["--allow-run-as-root", "--oversubscribe",
                                                          "-np", "1", serkdRun, "train", "--config", good, "--output", output, "--quiet", ":",
                                                          "-np", "1", serkdRun, "train", "--config", bad, "--output", output, "--quiet"])
        #expect(result.status != 0)
        #expect(result.error.contains("missing") && result.error.contains("[rank 1 of 2: aborting every rank]"), "\(result.error)")
        #expect(!FileManager.default.fileExists(atPath: output + "/last.state"))

        // Ranks whose configs would compile different steps are stopped before any step. (A folder of
        // its own: rank 0 of the job above may have written its config before rank 1 aborted it.)
        let mismatchOutput = workspace.file("run-mismatch")
        let other = try workspace.writeConfig(config(workspace).replacingOccurrences(of: "\"seed\": 7", with: "\"seed\": 8"), name: "other.json")
        let mismatch = try BuiltTool.run(at: MPILauncher.path!, ["--allow-run-as-root", "--oversubscribe",
                                                                 "-np", "1", serkdRun, "train", "--config", good, "--output", mismatchOutput, "--quiet", ":",
                                                                 "-np", "1", serkdRun, "train", "--config", other, "--output", mismatchOutput, "--quiet"])
        #expect(mismatch.status != 0 && mismatch.error.contains("config: differs from rank 0's"), "\(mismatch.error)")
        #expect(!FileManager.default.fileExists(atPath: mismatchOutput + "/last.state"))
    }
}

/// Open MPI's launcher, found on PATH.
enum MPILauncher {
    static let path: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        .map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
}
