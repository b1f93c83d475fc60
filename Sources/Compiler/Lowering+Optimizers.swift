import GraphIR
import Runtime

extension Lowering {
    /// Kernels for the optimizer updates.
    static func lowerOptimizer(_ op: OptimizerOp, inputs: [TensorType]) -> OptimizerKernel {
        let count = inputs[0].shape.elementCount
        switch op {
        case .adamW(let beta1, let beta2, let epsilon, let weightDecay):
            return .adamW(count: count, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
        case .sgd(let momentum, let nesterov, let weightDecay):
            return .sgd(count: count, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
        }
    }
}
