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

        options of graph and model:
          -o, --output FILE        the plan to write (nothing is left there on failure)
          --disable-pass NAME      skip a compiler pass (repeatable; see --list-passes)
          --dump                   print the plan: one line per step, then the buffers
          --list-passes            print the passes in the order they run, and exit

        Run the plan with `serkd-run train --config RUN.json --plan TRAIN.plan` or
        `serkd-run infer MODEL.plan --input X.npy`. A plan records the thread count it was compiled
        for (SERKD_THREADS, else the number of cores) and runs only with that many threads.
        """

    /// Runs the command named by the first argument.
    static func run(_ list: [String]) throws {
        var arguments = try Arguments(list, flags: ["dump", "list-passes", "help"])
        if arguments.flag("list-passes") {
            for pass in Pipeline.passes { print("\(pass.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(pass.summary)") }
            return
        }
        if arguments.flag("help") {
            print(usage)
            return
        }
        switch arguments.optionalPositional() {
        case "graph": try GraphCommand.run(&arguments)
        case "model": try ModelCommand.run(&arguments)
        case "inspect": try InspectCommand.run(&arguments)
        case nil:
            print(usage)
            throw InvalidInput(nil, "no command given")
        case let command?: throw InvalidInput(command, "unknown command (try serkd-compile --help)")
        }
    }

    /// The options both commands take: where to write, which passes to skip, whether to dump.
    struct Output {
        var path: String
        var options: Pipeline.Options
        var dump: Bool

        init(_ arguments: inout Arguments) throws {
            guard let path = arguments.option("output") else { throw InvalidInput(nil, "missing output file (-o FILE.plan)") }
            self.path = path
            options = Pipeline.Options(disabledPasses: Set(arguments.options("disable-pass")))
            dump = arguments.flag("dump")
        }
    }
}
