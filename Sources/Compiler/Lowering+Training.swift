import GraphIR
import Runtime

extension Lowering {
    /// Kernels for the training ops: gradients, SeRKD operators, losses, optimizers, collectives.
    static func lowerTraining(_ op: TrainingOp, _ node: Node, inputs: [TensorType], output: TensorType) throws -> Kernel {
        switch op {
        case .gradient(let op): .gradient(try lowerGradient(op, node, inputs: inputs, output: output))
        case .seRKD(let op): .seRKD(try lowerSeRKD(op, node, inputs: inputs))
        case .loss(.distillationKL(let temperature)):
            .loss(.distillationKL(rows: inputs[0].shape[0], classes: inputs[0].shape[1], temperature: temperature))
        case .loss(.distillationKLBackward(let temperature)):
            .loss(.distillationKLBackward(rows: inputs[0].shape[0], classes: inputs[0].shape[1], temperature: temperature))
        case .optimizer(let op): .optimizer(lowerOptimizer(op, inputs: inputs))
        case .collective(let op): lowerCollective(op, inputs: inputs)
        }
    }
}
