import CLI

extension TrainCommand {
    static let usage = """
        usage: serkd-run train --config RUN.json [--set key=value]… [--plan TRAIN.plan] [--steps N]
                               [--output DIR] [--resume | --force] [--deterministic] [--quiet] [--profile]

        Trains a student by distillation (or a baseline) as RUN.json describes (examples/README.md
        documents every key), writing config.json, metrics.jsonl, last.serkd, best.serkd and
        last.state to the run folder. Ctrl-C saves a checkpoint and exits with status 130.
        A folder that already holds a run is refused unless --resume or --force says what to do.

          --config FILE        the run config
          --set key=value      override a config key (repeatable), e.g. --set loss.angle.weight=0.5
          --plan TRAIN.plan    run the step serkd-compile graph compiled for this config
          --steps N            stop after N steps in all
          --output DIR         the run folder (default: the config's `output`)
          --resume             continue the run in the folder from its last.state
          --force              replace the run already in the folder (its files are removed first)
          --deterministic      no augmentation and no shuffling
          --quiet              do not print the resolved config
          --profile            time one step kernel by kernel, then exit
        """

    static let command = Command("train", usage: usage,
                                 syntax: Syntax(flags: ["resume", "force", "deterministic", "quiet", "profile"],
                                                options: ["config", "set", "plan", "steps", "output"]),
                                 run: run)
}
