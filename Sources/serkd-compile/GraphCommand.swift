import CLI
import Compiler
import GraphIR
import Train

/// `serkd-compile graph --config RUN.json [--set key=value]… -o TRAIN.plan`: builds the training step
/// exactly as `serkd-run train` does, compiles it and writes the plan with a report (or, with
/// `--dump` and no `-o`, only prints it).
enum GraphCommand {
    static let usage = """
        usage: serkd-compile graph --config RUN.json [--set key=value]… (-o TRAIN.plan | --dump)
                                   [--disable-pass NAME]… [--memory-budget SIZE]

        Builds the training step of RUN.json exactly as `serkd-run train` does (student, frozen
        teacher, losses, backward pass, optimizer), compiles it, and writes the plan with a report;
        run it with `serkd-run train --config RUN.json --plan TRAIN.plan`.

          --config FILE            the run config
          --set key=value          override a config key (repeatable), as serkd-run train takes it
        \(CompileCommand.outputOptions)
        """

    static let command = Command("graph", usage: usage, syntax: CompileCommand.Output.syntax(adding: Syntax(options: ["config", "set"])), run: run)

    static func run(_ arguments: inout Arguments) throws {
        guard let configPath = arguments.option("config") else { throw InvalidInput("--config", "missing (a run config, see examples/README.md)") }
        let overrides = arguments.options("set")
        let output = try CompileCommand.Output(&arguments)
        try arguments.finish()

        let config = try RunConfig.load(configPath, overrides: overrides)
        var step = try CompiledStep(config: config, options: output.options)
        step.metadata["compiled.from"] = configPath + overrides.map { " --set \($0)" }.joined()
        if output.dump { print(PlanDump.text(step.plan)) }
        guard let path = output.path else { return }
        try step.planFile.write(to: path, producer: "serkd-compile")
        print(CompileReport(source: configPath, output: path, plan: step.plan, compilation: step.compilation!).text)
    }
}
