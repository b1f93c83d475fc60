import CLI
import Tensor
import Foundation

let usage = """
    usage: serkd-run <command> [options]

    commands:
      infer MODEL (--input X.npy | --image FILE...) [--output Y.npy] [--top K] [--repeat N] [--profile]
                     [--crop-fraction 0.875] [--mean r,g,b] [--std r,g,b]   (image preprocessing)
                     run a model (.serkd, .onnx imported on the fly, or a .plan from serkd-compile model) on an input
      train --config RUN.json [--set key=value]… [--plan TRAIN.plan] [--resume] [--steps N] [--output DIR] [--deterministic] [--quiet] [--profile]
                     train a student by distillation (or a baseline) as the config describes; --plan runs
                     the step serkd-compile graph compiled for this config instead of compiling it here
      eval MODEL --config RUN.json [--set key=value]…
                     top-1/top-5 of a model on the config's evaluation data
      compare RUN_FOLDER…
                     a table of runs: method, steps, evaluation top-1/top-5, images/s
      visualize curves RUN_FOLDER -o curves.png
                     loss terms and evaluation accuracy against the step
      visualize superpixels --config RUN.json [--student best.serkd] [--images 0,1,2,3] -o map.png
                     evaluation images with the teacher's and the student's superpixels (paper Fig. 3)
      --version      print the version, the CPU and the BLAS kernel in use
    """

Tool.main("serkd-run") {
    var arguments = try Arguments(Array(CommandLine.arguments.dropFirst()), flags: ["version", "help", "profile", "resume", "deterministic", "quiet"])
    if arguments.flag("version") {
        try arguments.finish()
        printVersion()
        return
    }
    if arguments.flag("help") {
        print(usage)
        return
    }
    switch arguments.optionalPositional() {
    case "infer": try Infer.run(&arguments)
    case "train": try TrainCommand.run(&arguments)
    case "eval": try EvalCommand.run(&arguments)
    case "visualize": try VisualizeCommand.run(&arguments)
    case "compare": try CompareCommand.run(&arguments)
    case nil: print(usage)
    case let command?: throw InvalidInput(nil, "unknown command '\(command)' (try --help)")
    }
}
