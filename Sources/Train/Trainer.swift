import Compiler
import Data
import Distill
import Foundation
import GraphIR
import Runtime

/// Runs a distillation (or baseline) training from a `RunConfig`: compiles the step once, feeds it
/// batches with the scheduled learning rate, logs progress and metrics, evaluates every epoch, and
/// keeps resumable checkpoints in the run folder.
///
/// A run is deterministic given its seed: batches are a function of (seed, epoch, step), kernels are
/// deterministic, so resuming from a checkpoint continues bit-identically.
///
/// In a data-parallel job (`communicator` of several ranks, see `Trainer+DataParallel.swift`) every
/// rank runs this same loop on its shard of each global batch of `config.batch` samples; rank 0
/// alone logs and writes files.
public final class Trainer {
    public let config: RunConfig
    /// The compiled training step: compiled here from the config, or read from a plan file.
    public let step: CompiledStep
    let executor: Executor
    let trainLoader: BatchLoader
    let evalLoader: BatchLoader
    let schedule: LearningRateSchedule
    let studentEvaluation: Graph
    let teacherEvaluation: Graph?
    let log: (String) -> Void
    /// The ranks of the job (`solo` for one process).
    public let communicator: Communicator
    let steps: (total: Int, perEpoch: Int)

    /// Where the run keeps its files.
    public var folder: String { config.output }

    /// Prepares everything (models, data, compiled step); fails before any work on bad input. With
    /// `plan`, the step is read from that plan file (`serkd-compile graph`), which must have been
    /// compiled for this config, instead of being built and compiled here. With a `communicator` of
    /// several ranks, this process is one rank of a data-parallel job and `log` is called on rank 0 only.
    public init(config: RunConfig, plan: String? = nil, communicator: Communicator = .solo, log: @escaping (String) -> Void) throws {
        self.config = config
        self.communicator = communicator
        self.log = communicator.isRoot ? log : { _ in }
        let data = config.data
        let (trainSource, evalSource) = try Datasets.open(data)

        let local = try Self.rankConfig(config, plan: plan, ranks: communicator.size)
        let shard = Shard(communicator.rank, of: communicator.size)
        let compiled = try plan.map { try CompiledStep(planFile: $0, config: config) } ?? CompiledStep(config: local, shard: shard)
        step = compiled
        // Linear layers run on oneDNN, reading the student's and the teacher's weights where they are.
        executor = Executor(compiled.plan, frozenWeights: .inPlace, communicator: communicator)

        let normalization = Normalization(mean: config.student.mean, std: config.student.std)
        let evalTransform = SampleTransform(channels: data.channels, width: data.imageSize, height: data.imageSize,
                                            steps: [Resize(width: data.imageSize, height: data.imageSize)], normalization: normalization)
        let trainTransform: SampleTransform
        var mixup = Mixup.none(labelSmoothing: data.labelSmoothing)
        if config.deterministic {
            trainTransform = evalTransform
        } else {
            let erasing = data.randomErasing > 0 ? RandomErasing(probability: data.randomErasing) : nil
            if data.randomResizedCrop {
                trainTransform = try SampleTransform.training(size: data.imageSize, channels: data.channels, scale: data.scale[0]...data.scale[1],
                                                              horizontalFlip: data.horizontalFlip, randAugment: data.randAugment,
                                                              normalization: normalization, erasing: erasing)
            } else {
                // Small images: keep the whole image (a random resized crop of 28 px loses the object).
                var steps: [any ImageTransform] = [Resize(width: data.imageSize, height: data.imageSize)]
                if data.horizontalFlip > 0 { steps.append(RandomHorizontalFlip(probability: data.horizontalFlip)) }
                if let policy = data.randAugment { steps.append(try RandAugment(config: policy, fill: normalization.meanLevels)) }
                trainTransform = SampleTransform(channels: data.channels, width: data.imageSize, height: data.imageSize, steps: steps,
                                                 normalization: normalization, erasing: erasing)
            }
            if data.mixup > 0 || data.cutmix > 0 {
                mixup = Mixup(mixupAlpha: data.mixup, cutmixAlpha: data.cutmix, labelSmoothing: data.labelSmoothing)
            }
        }
        trainLoader = BatchLoader(source: trainSource, transform: trainTransform, batchSize: local.batch, seed: config.seed,
                                  shuffle: !config.deterministic, dropLast: true, mixup: mixup, threads: data.workers, shard: shard)
        evalLoader = BatchLoader.evaluation(source: evalSource, transform: evalTransform, batchSize: config.evalBatch, threads: data.workers, shard: shard)
        guard trainLoader.stepsPerEpoch > 0 else {
            throw InvalidInput("batch", "\(config.batch) is larger than the \(trainSource.count) training samples")
        }
        let perEpoch = trainLoader.stepsPerEpoch
        steps = (min(config.steps ?? Int.max, perEpoch * config.epochs), perEpoch)
        schedule = LearningRateSchedule(peak: config.schedule.learningRate, warmupSteps: LearningRateSchedule.warmupSteps(epochs: config.schedule.warmupEpochs, of: config.epochs,
                                                                                         stepsPerEpoch: perEpoch, totalSteps: steps.total),
                                        warmupLearningRate: config.schedule.warmupLearningRate,
                                        minimumLearningRate: config.schedule.minimumLearningRate, totalSteps: steps.total)

        // Evaluation graphs at the evaluation batch, sharing the trained tensors.
        let trainedTensors = Dictionary(uniqueKeysWithValues: compiled.state.dataValues.map { (compiled.state[$0].name, compiled.state.tensors[$0]!) })
        var evaluation = try ModelLoader.load(config.student, batch: config.evalBatch, data: data, seed: config.seed, role: "student",
                                              forEvaluation: true).graph
        for id in evaluation.dataValues {
            if let trained = trainedTensors["student/" + evaluation[id].name] { evaluation.tensors[id] = trained }
        }
        studentEvaluation = evaluation
        if let entry = config.teacher, config.objective.usesTeacher {
            teacherEvaluation = try ModelLoader.load(entry, batch: config.evalBatch, data: data, seed: config.seed &+ 1, role: "teacher",
                                                     forEvaluation: true).graph
                .adaptingInput(channels: data.channels, mean: config.student.mean, std: config.student.std, ownMean: entry.mean, ownStd: entry.std, role: "teacher")
                .frozen()
        } else {
            teacherEvaluation = nil
        }
    }

    /// Times one training step kernel by kernel (on the first batch, leaving the weights as they
    /// were), and returns the time per class of work and the slowest steps, for `--profile`.
    public func profile() throws -> String {
        let before = Checkpoint(graph: step.state, epoch: 0, step: 0, bestTop1: -1)
        let saved = before.tensors.mapValues { $0.copy() }
        let batch = try trainLoader.batch(epoch: 0, step: 0)
        let inputs = [batch.images, batch.targets, Tensor(scalar: Float(1e-4)), Tensor(scalar: Float(1))]
        _ = try executor.run(inputs)
        let seconds = try executor.profile(inputs)
        var restore = before
        restore.tensors = saved
        try restore.restore(into: step.state, source: "profile")
        let report = KernelProfile(plan: step.plan, seconds: seconds)
        let lines = [String(format: "profile: one step %.1f ms (%.0f img/s)", report.total * 1000, Double(config.batch) / report.total)]
            + report.lines(plan: step.plan, peak: KernelProfile.measuredSgemmPeak(), slowest: 40)
        return lines.joined(separator: "\n")
    }

    /// A one-paragraph description of the compiled step for the start of a run.
    public var summary: String {
        step.summary + "; \(steps.perEpoch) steps per epoch, \(steps.total) in all, \(schedule.warmupSteps) of warm-up"
    }

    /// Set (from any thread, e.g. a SIGINT handler) to stop after the current step: the run saves a
    /// checkpoint and returns, to be continued with `resume`.
    public static let interrupted = InterruptFlag()

    /// Trains to the end (or to `config.steps`), starting from the run folder's checkpoint when
    /// `resume` is set. `stopAfter` stops after that many steps as an interruption would (tests).
    /// Returns the final evaluation, or nil when stopped early.
    @discardableResult
    public func run(resume: Bool, stopAfter: Int? = nil) throws -> EvaluationResult? {
        let root = communicator.isRoot
        if root { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        var position = (epoch: 0, step: 0, best: -1.0)
        let statePath = folder + "/last.state"
        if resume && root {
            let checkpoint = try Checkpoint.read(statePath)
            try checkpoint.restore(into: step.state, source: statePath)
            position = (checkpoint.epoch, checkpoint.step, checkpoint.bestTop1)
            log("resumed from \(statePath): epoch \(position.epoch + 1), step \(position.step)")
        } else if root {
            try AtomicFile.write(Array((config.resolved.description + "\n").utf8), to: folder + "/config.json")
        }
        position = try synchronizeState(position)
        let metrics = root ? try MetricsLog(path: folder + "/metrics.jsonl", truncate: !resume) : nil
        if !resume, let teacherEvaluation {
            let result = try Evaluator(teacherEvaluation).evaluate(evalLoader, communicator: communicator)
            log(String(format: "teacher: top-1 %.2f%%, top-5 %.2f%% on %d images", result.top1 * 100, result.top5 * 100, result.samples))
            metrics?.append([("teacher/top1", result.top1), ("teacher/top5", result.top5), ("teacher/loss", result.loss)])
        }

        let studentEvaluator = try Evaluator(studentEvaluation)
        var last: EvaluationResult?
        var globalStep = position.step
        let guards = NumericGuard(state: step.state)
        // The step of the checkpoint on disk that a failed step leaves in place.
        var checkpointed: Int? = resume ? position.step : nil
        let started = Date()
        let firstStep = globalStep
        // A run cut short by `steps` has fewer epochs than the config's.
        let epochsInRun = (steps.total + steps.perEpoch - 1) / steps.perEpoch
        while globalStep < steps.total {
            let epoch = globalStep / steps.perEpoch
            let stream = trainLoader.batches(epoch: epoch, startingAt: globalStep % steps.perEpoch)
            var sums = [Double](repeating: 0, count: step.lossNames.count)
            var window = 0
            var windowStart = Date()
            var windowAllReduce = communicator.allReduceSeconds
            while globalStep < steps.total, let batch = try stream.next() {
                if try isInterrupted() || stopAfter.map({ globalStep - firstStep >= $0 }) == true {
                    try averageRunningStatistics()
                    if root { try Checkpoint(graph: step.state, epoch: epoch, step: globalStep, bestTop1: position.best).write(to: statePath) }
                    log("stopped at step \(globalStep): checkpoint \(statePath); continue with --resume")
                    return nil
                }
                let lr = schedule.learningRate(at: globalStep)
                let outputs = try executor.run([batch.images, batch.targets, Tensor(scalar: Float(lr)), Tensor(scalar: Float(globalStep + 1))])
                for (index, output) in outputs.prefix(sums.count).enumerated() { sums[index] += Double(output.floats[0]) }
                globalStep += 1
                window += 1
                if let problem = guards.problem(loss: outputs.last!.floats[0]) {
                    let kept = checkpointed.map { "the last good checkpoint, \(statePath) (step \($0)), is kept" } ?? "no checkpoint was written yet"
                    throw InvalidInput("training", "\(problem) at step \(globalStep), so training stopped there; \(kept). "
                                                   + "Lower schedule.lr or set optimizer.clip_grad")
                }
                // On multiples of log_every, so a resumed run logs the same steps as one left alone.
                if globalStep % config.logEvery == 0 || globalStep % steps.perEpoch == 0 || globalStep == steps.total {
                    sums = try communicator.allReduceSum(sums).map { $0 / Double(communicator.size) }
                    let seconds = Date().timeIntervalSince(windowStart)
                    let rate = Double(window * config.batch) / max(seconds, 1e-9)
                    let elapsed = Date().timeIntervalSince(started)
                    let remaining = elapsed / Double(globalStep - firstStep) * Double(steps.total - globalStep)
                    let terms = zip(step.lossNames, sums).map { name, sum in "\(name.dropFirst(5)) \(String(format: "%.4f", sum / Double(window)))" }
                    var record: [(String, Any)] = [("epoch", epoch + 1), ("step", globalStep), ("lr", lr), ("images_per_second", rate)]
                    var line = "epoch \(epoch + 1)/\(epochsInRun) step \(globalStep)/\(steps.total) | \(terms.joined(separator: " ")) | lr \(String(format: "%.2e", lr)) | \(Int(rate)) img/s"
                    if communicator.size > 1 {
                        let share = (communicator.allReduceSeconds - windowAllReduce) / max(seconds, 1e-9)
                        line += String(format: " on %d ranks (all-reduce %.1f%%)", communicator.size, share * 100)
                        record.append(("allreduce_share", share))
                    }
                    log(line + " | ETA \(formatDuration(remaining))")
                    metrics?.append(record + zip(step.lossNames, sums).map { ($0, $1 / Double(window)) })
                    sums = sums.map { _ in 0 }
                    window = 0
                    windowStart = Date()
                    windowAllReduce = communicator.allReduceSeconds
                }
                if globalStep % config.checkpointEvery == 0 && globalStep % steps.perEpoch != 0 && globalStep != steps.total {
                    try averageRunningStatistics()
                    if root { try Checkpoint(graph: step.state, epoch: epoch, step: globalStep, bestTop1: position.best).write(to: statePath) }
                    checkpointed = globalStep
                }
            }
            // End of an epoch (or of the run): evaluate and checkpoint.
            try averageRunningStatistics()
            let result = try studentEvaluator.evaluate(evalLoader, communicator: communicator)
            last = result
            let improved = result.top1 > position.best
            position.best = max(position.best, result.top1)
            log(String(format: "epoch %d: student top-1 %.2f%%, top-5 %.2f%%, loss %.4f%@", epoch + 1, result.top1 * 100, result.top5 * 100, result.loss,
                       improved ? " (best)" : ""))
            metrics?.append([("epoch", epoch + 1), ("step", globalStep), ("eval/top1", result.top1), ("eval/top5", result.top5), ("eval/loss", result.loss)])
            guard root else { continue }
            let nextEpoch = globalStep / steps.perEpoch
            try Checkpoint(graph: step.state, epoch: nextEpoch, step: globalStep, bestTop1: position.best).write(to: statePath)
            checkpointed = globalStep
            try saveStudent(to: folder + "/last.serkd", top1: result.top1, epoch: epoch + 1)
            if improved { try saveStudent(to: folder + "/best.serkd", top1: result.top1, epoch: epoch + 1) }
        }
        return last
    }

    /// Writes the student's inference graph (at the evaluation batch) with its current weights,
    /// its taps and input normalisation, as a `.serkd` model.
    func saveStudent(to path: String, top1: Double, epoch: Int) throws {
        var graph = studentEvaluation
        graph.metadata.merge(step.studentTaps.metadata(prefix: "taps.")) { $1 }
        graph.metadata.merge(Normalization(mean: config.student.mean, std: config.student.std).metadata) { $1 }
        // Evaluation resizes the whole image (no centre crop): what `serkd-run infer` should do too.
        graph.metadata["preprocessing.crop_fraction"] = "1"
        graph.metadata["trained.epoch"] = String(epoch)
        graph.metadata["trained.top1"] = String(top1)
        graph.metadata["trained.run"] = config.name
        try ModelFile.write(graph, to: path)
    }
}

/// A flag set asynchronously (by a signal handler) and polled by the training loop.
public final class InterruptFlag: @unchecked Sendable {
    private var value: sig_atomic_t = 0
    /// Whether the flag was set.
    public var isSet: Bool { value != 0 }
    /// Sets the flag (async-signal-safe: a single store).
    public func set() { value = 1 }
}

/// Human-readable byte counts (binary units).
public func formatBytes(_ bytes: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024 && unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}

/// `1h02m`, `3m12s`, `45s`.
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
    if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
    return "\(s)s"
}
