import CLI
import Compiler
import GraphIR
import Train

/// `serkd-compile graph --config RUN.json [--set key=value]… -o TRAIN.plan`: builds the training step
/// exactly as `serkd-run train` does, compiles it and writes the plan with a report.
enum GraphCommand {
    static func run(_ arguments: inout Arguments) throws {
        guard let configPath = arguments.option("config") else { throw InvalidInput("--config", "missing (a run config, see examples/README.md)") }
        let overrides = arguments.options("set")
        let output = try CompileCommand.Output(&arguments)
        try arguments.finish()

        let config = try RunConfig.load(configPath, overrides: overrides)
        var step = try CompiledStep(config: config, options: output.options)
        step.metadata["compiled.from"] = configPath + overrides.map { " --set \($0)" }.joined()
        try step.planFile.write(to: output.path, producer: "serkd-compile")
        if output.dump { print(PlanDump.text(step.plan)) }
        print(CompileReport(source: configPath, output: output.path, plan: step.plan, compilation: step.compilation!).text)
    }
}
