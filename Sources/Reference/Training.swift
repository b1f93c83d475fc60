import GraphIR

extension Reference {
    /// Evaluates the training ops: gradients, SeRKD operators, losses, optimizers, collectives.
    static func training(_ op: TrainingOp, _ inputs: [Tensor], types: [TensorType]) throws -> [Tensor] {
        switch op {
        case .gradient(let op): try gradient(op, inputs, types: types)
        case .seRKD(let op): try seRKD(op, inputs, types: types)
        case .loss(let op): [try loss(op, inputs)]
        case .optimizer(let op): try optimizer(op, inputs, types: types)
        // One process: every rank would hold these same tensors, so their mean over the ranks is each of them.
        case .collective(.allReduceMean): inputs.map { $0.copy() }
        }
    }
}
