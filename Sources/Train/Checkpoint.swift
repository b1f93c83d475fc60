import Foundation
import GraphIR

/// A training run's resumable state: every tensor a step changes (parameters, optimizer moments,
/// running statistics) by name, and where the run was. Written atomically as a `.serkd` file whose
/// graph holds only data, so the usual validation applies when it is read back.
public struct Checkpoint {
    /// The epoch to continue with and the global step count so far.
    public var epoch: Int
    public var step: Int
    /// The best evaluation top-1 so far (−1 before the first evaluation).
    public var bestTop1: Double
    /// The tensors, by name in the training graph.
    public var tensors: [String: Tensor]

    /// The state of `graph` (its parameters and state values).
    public init(graph: Graph, epoch: Int, step: Int, bestTop1: Double) {
        self.epoch = epoch
        self.step = step
        self.bestTop1 = bestTop1
        var tensors: [String: Tensor] = [:]
        for id in graph.dataValues where graph[id].kind == .parameter || graph[id].kind == .state {
            tensors[graph[id].name] = graph.tensors[id]!
        }
        self.tensors = tensors
    }

    /// Writes the checkpoint to `path` atomically.
    public func write(to path: String) throws {
        var graph = Graph(name: "checkpoint")
        for name in tensors.keys.sorted() { _ = graph.addState(name, tensors[name]!) }
        graph.metadata = ["epoch": String(epoch), "step": String(step), "best_top1": String(bestTop1)]
        try ModelFile.write(graph, to: path)
    }

    /// Reads a checkpoint written by `write`.
    public static func read(_ path: String) throws -> Checkpoint {
        let graph = try ModelFile.read(path)
        guard let epoch = graph.metadata["epoch"].flatMap(Int.init), let step = graph.metadata["step"].flatMap(Int.init),
              let best = graph.metadata["best_top1"].flatMap(Double.init) else {
            throw InvalidInput(path, "not a training checkpoint (no epoch/step)")
        }
        var checkpoint = Checkpoint(graph: graph, epoch: epoch, step: step, bestTop1: best)
        checkpoint.tensors = Dictionary(uniqueKeysWithValues: graph.dataValues.map { (graph[$0].name, graph.tensors[$0]!) })
        return checkpoint
    }

    /// Copies the checkpoint's tensors into `graph`'s (in place: a compiled plan over `graph` sees
    /// them). Every parameter and state value of the graph must be present with the same shape.
    public func restore(into graph: Graph, source: String) throws {
        for id in graph.dataValues where graph[id].kind == .parameter || graph[id].kind == .state {
            let name = graph[id].name
            guard let saved = tensors[name] else { throw InvalidInput(source, "has no tensor '\(name)': it was written by a different run configuration") }
            let target = graph.tensors[id]!
            guard saved.dtype == target.dtype, saved.shape == target.shape else {
                throw InvalidInput(source, "tensor '\(name)' is \(saved.dtype.shortName)\(saved.shape), the run has \(target.dtype.shortName)\(target.shape)")
            }
            target.rawPointer.copyMemory(from: saved.rawPointer, byteCount: target.byteCount)
        }
    }
}
