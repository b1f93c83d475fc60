import CLI
import Compiler
import GraphIR

/// `serkd-compile COMMAND …`: compiles a training step or an inference model into a plan file that
/// `serkd-run` executes with no graph work.
enum CompileCommand {
    static let usage = """
        usage: serkd-compile COMMAND [ARGUMENTS]

        commands:
          graph --config RUN.json [--set key=value]… -o TRAIN.plan   the training step of a run config
          model MODEL.serkd|MODEL.onnx -o MODEL.plan [--batch N]     an inference model
          inspect FILE.plan [--dump]                                 check a plan file and describe it

        \(outputOptions)
          --list-passes            print the passes in the order they run, and exit

        serkd-compile COMMAND --help (or -h) describes a command.
        Run the plan with `serkd-run train --config RUN.json --plan TRAIN.plan` or
        `serkd-run infer MODEL.plan --input X.npy`. A plan records the thread count it was compiled
        for (SERKD_THREADS, else the number of cores) and runs only with that many threads.
        """

    /// The options `graph` and `model` share, as their help lists them.
    static let outputOptions = """
        options of graph and model:
          -o, --output FILE        the plan to write (nothing is left there on failure)
          --disable-pass NAME      skip a compiler pass (repeatable; see --list-passes)
          --memory-budget SIZE     keep the arena within SIZE (512MiB, 2GiB, bytes), recomputing
                                   activations in the backward pass where needed
          --dump                   print the plan: one line per step, then the buffers
        """

    /// The commands, in the order the usage lists them.
    static let commands = [GraphCommand.command, ModelCommand.command, InspectCommand.command]

    /// Prints every pass with what it does.
    static func listPasses() {
        for pass in Pipeline.passes { print("\(pass.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(pass.summary)") }
    }

    /// The options both compiling commands take: where to write (or only dump), which passes to
    /// skip, the memory budget.
    struct Output {
        /// The plan file to write; nil when only `--dump` was asked for.
        var path: String?
        var options: Pipeline.Options
        var dump: Bool

        static let syntax = Syntax(flags: ["dump"], options: ["output", "memory-budget", "disable-pass"])

        init(_ arguments: inout Arguments) throws {
            path = arguments.option("output")
            dump = arguments.flag("dump")
            guard path != nil || dump else { throw InvalidInput(nil, "missing output file (-o FILE.plan, or --dump to print the plan)") }
            options = Pipeline.Options(disabledPasses: Set(arguments.options("disable-pass")),
                                       memoryBudget: try arguments.byteSizeOption("memory-budget"))
        }

        /// Syntax of a command taking these options and `extra`.
        static func syntax(adding extra: Syntax) -> Syntax {
            Syntax(flags: syntax.flags.union(extra.flags), options: syntax.options.union(extra.options), lists: syntax.lists.union(extra.lists))
        }
    }
}
