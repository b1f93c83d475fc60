import GraphIR

extension Reference {
    /// Evaluates the training ops: gradients, SeRKD operators, optimizers.
    static func training(_ op: Op, _ inputs: [Tensor], types: [TensorType]) throws -> [Tensor] {
        switch op {
        case .superpixelTokens, .rkdDistance, .rkdDistanceBackward, .rkdAngle, .rkdAngleBackward:
            return try seRKD(op, inputs, types: types)
        case .adamW, .sgd:
            return try optimizer(op, inputs, types: types)
        case .distillationKL, .distillationKLBackward:
            return [try loss(op, inputs)]
        default:
            return try gradient(op, inputs, types: types)
        }
    }
}
