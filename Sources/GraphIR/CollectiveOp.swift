import Tensor

/// Communication between the processes (ranks) of a data-parallel job: each rank runs the same
/// training step on its shard of the global batch, and these ops make the ranks agree.
public enum CollectiveOp: Hashable, Sendable {
    /// g₁…gₙ → each gᵢ averaged over the `ranks` processes of the job. Placed between backward and the optimizer update, it turns every
    /// rank's gradient of its shard's mean loss into the gradient of the global batch's mean loss.
    /// Evaluated in one process (the reference), where every rank holds the same gᵢ, it is the identity.
    case allReduceMean(ranks: Int)
}

extension CollectiveOp {
    /// See `Op.kindName`.
    public var name: String {
        switch self {
        case .allReduceMean: "allreduce_mean"
        }
    }

    /// See `Op.attributes`.
    public var attributes: [(name: String, value: AttributeValue)] {
        switch self {
        case .allReduceMean(let ranks): [("ranks", .int(ranks))]
        }
    }

    /// The op `reader` names, or nil when its kind name is not one of these.
    init?(_ a: AttributeReader) throws {
        switch a.kindName {
        case "allreduce_mean": self = .allReduceMean(ranks: try a.int("ranks"))
        default: return nil
        }
    }

    /// Output types: one per input, each the input's.
    func outputTypes(for inputs: [TensorType]) throws -> [TensorType] {
        switch self {
        case .allReduceMean(let ranks):
            guard ranks >= 1 else { throw InvalidInput(nil, "ranks must be at least 1, got \(ranks)") }
            guard !inputs.isEmpty else { throw InvalidInput(nil, "expects at least one input") }
            for (index, input) in inputs.enumerated() where input.dtype != .float32 {
                throw InvalidInput(nil, "input \(index) must be f32, got \(input)")
            }
            return inputs
        }
    }
}
