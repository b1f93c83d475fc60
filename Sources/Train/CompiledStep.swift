import Compiler
import Data
import Distill
import Foundation
import GraphIR
import Runtime

/// A run's training step ready to execute: compiled from the config in this process, or read from
/// a plan file `serkd-compile graph` wrote for the same config. The trainer runs either the same way.
public struct CompiledStep {
    /// The program.
    public var plan: Plan
    /// The step's parameters, optimizer state and running statistics (and constants), sharing the
    /// plan's persistent tensors: what checkpoints save and restore. The whole step graph when
    /// compiled here; its data values only when read from a plan file.
    public var state: Graph
    /// Output names in order: the loss terms, then `loss/total`.
    public var lossNames: [String]
    /// The student's taps, saved with the trained student.
    public var studentTaps: ModelTaps
    /// What the step is and how it was compiled, as a plan file stores it (`training.*`, `student.*`,
    /// `graph.*`, `memory.*`, `compiled.*`).
    public var metadata: [String: String]
    /// The compilation (passes, memory plan, optimised graph) when compiled in this process.
    public var compilation: Pipeline.Result?

    /// Builds the config's step and compiles it; the plan trains the step graph's own tensors, which
    /// `state` holds. With a `shard` of several, that rank's step of a data-parallel job, averaging
    /// its gradients over the ranks (`config.batch` is per rank).
    public init(config: RunConfig, options: Pipeline.Options = Pipeline.Options(), shard: Shard = .whole) throws {
        let built = try RunStep(config: config, shard: shard)
        var options = options
        options.adoptsState = true
        let compiled = try Pipeline.compile(built.step.graph, options: options)
        plan = compiled.plan
        state = built.step.graph
        lossNames = built.step.lossNames
        studentTaps = built.student.taps
        compilation = compiled
        let graph = built.step.graph
        let trained = built.step.parameterNames.reduce(0) { sum, name in sum + graph.type(of: graph.value(named: name)!).shape.elementCount }
        var metadata: [String: String] = [
            "plan.kind": "training",
            "training.config": Self.signature(config).description,
            "training.inputs": graph.inputs.map { graph[$0].name }.joined(separator: ","),
            "training.losses": built.step.lossNames.joined(separator: ","),
            "training.trained_parameters": String(trained),
            "graph.nodes": String(graph.nodes.count),
            "memory.arena_bytes": String(compiled.memory.arenaBytes),
            "memory.naive_bytes": String(compiled.memory.naiveBytes),
            "memory.lower_bound": String(compiled.memory.lowerBound),
            "compiled.passes": compiled.passes.map(\.name).joined(separator: ","),
            "compiled.disabled_passes": options.disabledPasses.sorted().joined(separator: ","),
        ]
        metadata.merge(studentTaps.metadata(prefix: "student.taps.")) { $1 }
        self.metadata = metadata
    }

    /// Reads the training plan in `path` and checks that it was compiled for `config`: the settings
    /// that shape the step (models, batch, image type, objective, optimizer, seed) must agree.
    public init(planFile path: String, config: RunConfig) throws {
        let file = try PlanFile.read(path)
        metadata = file.metadata
        guard metadata["plan.kind"] == "training", let stored = metadata["training.config"],
              let compiledFor = try? ConfigTree(json: stored, source: path) else {
            throw InvalidInput(path, "is not a training plan (compile one with serkd-compile graph --config RUN.json)")
        }
        if let difference = Self.firstDifference(compiledFor, Self.signature(config), path: "") {
            throw InvalidInput(path, "was compiled for a different run (\(difference)): recompile with serkd-compile graph --config")
        }
        lossNames = (metadata["training.losses"] ?? "").split(separator: ",").map(String.init)
        let inputs = file.plan.inputs.map { file.plan.buffers[$0.index].name }
        guard inputs == [TrainingStep.images, TrainingStep.targets, TrainingStep.learningRate, TrainingStep.step],
              !lossNames.isEmpty, file.plan.outputs.count >= lossNames.count,
              let taps = ModelTaps(metadata: metadata, prefix: "student.taps.") else {
            throw InvalidInput(path, "is not a training step plan (inputs \(inputs), outputs \(lossNames))")
        }
        studentTaps = taps
        var state = Graph(name: "serkd-train-step")
        for (tensor, described) in zip(file.plan.persistent, file.persistentTensors) {
            let id = switch described.kind {
            case .parameter: state.addParameter(described.name, tensor)
            case .state: state.addState(described.name, tensor)
            default: state.addConstant(described.name, tensor)
            }
            guard state[id].name == described.name else { throw InvalidInput(path, "has two tensors named '\(described.name)'") }
        }
        self.state = state
        plan = file.plan
        compilation = nil
    }

    /// The step as a plan file, with its metadata.
    public var planFile: PlanFile {
        compilation.map { PlanFile($0, metadata: metadata) } ?? PlanFile(plan, graph: state, metadata: metadata)
    }

    /// One line for the start of a run: nodes, kernels, memory, trained parameters.
    public var summary: String {
        func bytes(_ key: String) -> String { metadata[key].flatMap(Int.init).map(formatBytes) ?? "?" }
        return "training step: \(metadata["graph.nodes"] ?? "?") nodes → \(plan.steps.count) kernels, arena \(bytes("memory.arena_bytes")) "
            + "(lower bound \(bytes("memory.lower_bound")), naive \(bytes("memory.naive_bytes"))); "
            + "\(metadata["training.trained_parameters"] ?? "?") trained parameters"
    }

    /// The settings of `config` that shape the compiled step: seed, method, models, batch, image type
    /// and classes, losses and optimizer. A plan compiled for one config runs another only if these
    /// agree; the schedule, epochs, data location and augmentation, and the output folder do not
    /// enter the step (the learning rate and the mixed targets are inputs).
    public static func signature(_ config: RunConfig) -> ConfigTree {
        guard case .object(let members) = config.resolved else { return .null }
        func member(_ key: String) -> ConfigTree? { members.first { $0.key == key }?.value }
        var picked: [(key: String, value: ConfigTree)] = []
        for key in ["seed", "method", "student", "teacher", "batch", "loss", "optimizer"] {
            if let value = member(key) { picked.append((key, value)) }
        }
        if case .object(let data)? = member("data") {
            picked.append(("data", .object(data.filter { ["image_size", "channels", "classes"].contains($0.key) })))
        }
        return .object(picked)
    }

    /// The first setting in which `a` (the plan's) and `b` (the config's) differ, as "key: x in the
    /// plan, y in the config".
    static func firstDifference(_ a: ConfigTree, _ b: ConfigTree, path: String) -> String? {
        guard a != b else { return nil }
        if case .object(let x) = a, case .object(let y) = b {
            for key in (x.map(\.key) + y.map(\.key)) {
                let p = path.isEmpty ? key : "\(path).\(key)"
                let left = x.first { $0.key == key }?.value, right = y.first { $0.key == key }?.value
                if let left, let right {
                    if let difference = firstDifference(left, right, path: p) { return difference }
                } else {
                    return "\(p): \(left?.brief ?? "unset") in the plan, \(right?.brief ?? "unset") in the config"
                }
            }
        }
        return "\(path.isEmpty ? "config" : path): \(a.brief) in the plan, \(b.brief) in the config"
    }
}
