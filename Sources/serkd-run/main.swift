import CLI
import Tensor
import Foundation

let usage = """
    usage: serkd-run COMMAND [ARGUMENTS]

    commands:
      infer MODEL (--input X.npy | --image FILE…) [--output Y.npy] [--top K] [--labels FILE] [--repeat N] [--profile]
                     run a model (.serkd, .onnx imported on the fly, or a .plan from serkd-compile model) on an input
      train --config RUN.json [--set key=value]… [--plan TRAIN.plan] [--resume | --force] [--steps N] [--output DIR] [--deterministic] [--quiet] [--profile]
                     train a student by distillation (or a baseline) as the config describes
      eval MODEL --config RUN.json [--set key=value]…
                     top-1/top-5 of a model on the config's evaluation data
      compare RUN_FOLDER…
                     a table of runs: method, steps, evaluation top-1/top-5, images/s
      visualize curves RUN_FOLDER -o curves.png
                     loss terms and evaluation accuracy against the step
      visualize superpixels --config RUN.json [--student best.serkd] [--images 0,1,2,3] -o map.png
                     evaluation images with the teacher's and the student's superpixels (paper Fig. 3)

    serkd-run COMMAND --help (or -h) describes a command; serkd-run --version prints the version,
    the CPU and the BLAS kernel in use.
    """

Tool.main("serkd-run", usage: usage, commands: [Infer.command, TrainCommand.command, EvalCommand.command, CompareCommand.command, VisualizeCommand.command],
          actions: ["version": printVersion])
