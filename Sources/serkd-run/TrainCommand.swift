import CLI
import Foundation
import Tensor
import Train

/// `serkd-run train --config run.json [--set key=value]… [--plan train.plan] [--resume] [--steps N]`:
/// runs a distillation (or baseline) training described by a config, compiling its step here or
/// running the step `serkd-compile graph` compiled for the same config.
enum TrainCommand {
    static func run(_ arguments: inout Arguments) throws {
        guard let configPath = arguments.option("config") else { throw InvalidInput("--config", "missing (a run config, see examples/README.md)") }
        var overrides = arguments.options("set")
        if let steps = try arguments.intOption("steps") { overrides.append("steps=\(steps)") }
        if let output = arguments.option("output") { overrides.append("output=\"\(output)\"") }
        if arguments.flag("deterministic") { overrides.append("deterministic=true") }
        let plan = arguments.option("plan")
        let resume = arguments.flag("resume")
        let force = arguments.flag("force")
        let quiet = arguments.flag("quiet")
        let profile = arguments.flag("profile")
        try arguments.finish()

        let config = try RunConfig.load(configPath, overrides: overrides)
        if !profile { try RunFolder(config.output).check(resume: resume, force: force) }
        let trainer = try Trainer(config: config, plan: plan) { line in
            print(line)
            fflush(stdout)
        }
        // Printed once the models, data and step are known good, so a mistake is the first thing shown.
        if !quiet { print("config (resolved):\n\(config.resolved.description)") }
        print(trainer.summary)
        if profile {
            print(try trainer.profile())
            return
        }
        if force { try RunFolder(config.output).clear() }
        stopTrainingOnInterrupt()
        try trainer.run(resume: resume)
        let written = "run folder: \(trainer.folder) (\(RunFolder(trainer.folder).existingFiles.joined(separator: ", ")))"
        if Trainer.interrupted.isSet { throw Interrupted("interrupted; " + written) }
        print(written)
    }
}
