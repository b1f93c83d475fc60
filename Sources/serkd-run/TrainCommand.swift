import CLI
import Foundation
import Runtime
import Tensor
import Train

/// `serkd-run train --config run.json [--set key=value]… [--plan train.plan] [--resume] [--steps N]`:
/// runs a distillation (or baseline) training described by a config, compiling its step here or
/// running the step `serkd-compile graph` compiled for the same config. Started by `mpirun -np N`,
/// each process is one rank of a data-parallel run (`DataParallelRun`).
enum TrainCommand {
    static func run(_ arguments: inout Arguments) throws {
        guard let configPath = arguments.option("config") else { throw InvalidInput("--config", "missing (a run config, see examples/README.md)") }
        var overrides = arguments.options("set")
        if let steps = arguments.option("steps") { overrides.append("steps=\(steps)") }
        if let output = arguments.option("output") { overrides.append("output=\"\(output)\"") }
        if arguments.flag("deterministic") { overrides.append("deterministic=true") }
        let plan = arguments.option("plan")
        let resume = arguments.flag("resume")
        let quiet = arguments.flag("quiet")
        let profile = arguments.flag("profile")
        try arguments.finish()

        let communicator = try Communicator.world()
        try DataParallelRun.run(communicator) {
            try train(configPath: configPath, overrides: overrides, plan: plan, resume: resume, quiet: quiet || !communicator.isRoot,
                      profile: profile, communicator: communicator)
        }
    }

    static func train(configPath: String, overrides: [String], plan: String?, resume: Bool, quiet: Bool, profile: Bool,
                      communicator: Communicator) throws {
        let config = try RunConfig.load(configPath, overrides: overrides)
        if !quiet {
            print("config (resolved):")
            print(config.resolved.description)
        }
        let trainer = try Trainer(config: config, plan: plan, communicator: communicator) { line in
            print(line)
            fflush(stdout)
        }
        let root = communicator.isRoot
        if root { print(trainer.summary) }
        if profile {
            let report = try trainer.profile()
            if root { print(report) }
            return
        }
        signal(SIGINT) { _ in Trainer.interrupted.set() }
        // mpirun ends the job on Ctrl-C but forwards SIGUSR1 to every rank: the way to stop a job with a checkpoint.
        signal(SIGUSR1) { _ in Trainer.interrupted.set() }
        try trainer.run(resume: resume)
        guard root else { return }
        print("run folder: \(trainer.folder) (config.json, metrics.jsonl, last.serkd, best.serkd, last.state)")
    }
}
