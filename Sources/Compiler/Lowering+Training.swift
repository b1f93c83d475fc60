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
        default:
            return .gradient(try lowerGradient(node, inputs: inputs, output: output))
        }
    }
}
