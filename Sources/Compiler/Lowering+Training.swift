import GraphIR
import Runtime

extension Lowering {
    /// Kernels for the training ops: gradients, SeRKD operators, optimizers.
    static func lowerTraining(_ node: Node, inputs: [TensorType], output: TensorType) throws -> Kernel {
        switch node.op {
        case .superpixelTokens, .rkdDistance, .rkdDistanceBackward, .rkdAngle, .rkdAngleBackward:
            return .seRKD(try lowerSeRKD(node, inputs: inputs, output: output))
        case .adamW, .sgd:
            return .optimizer(try lowerOptimizer(node, inputs: inputs, output: output))
        case .distillationKL(let temperature):
            return .loss(.distillationKL(rows: inputs[0].shape[0], classes: inputs[0].shape[1], temperature: temperature))
        case .distillationKLBackward(let temperature):
            return .loss(.distillationKLBackward(rows: inputs[0].shape[0], classes: inputs[0].shape[1], temperature: temperature))
        default:
            return .gradient(try lowerGradient(node, inputs: inputs, output: output))
        }
    }
}
