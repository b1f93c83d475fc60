import GraphIR

extension Reference {
    /// Evaluates the SeRKD operators (superpixel tokens, RKD distance and angle losses and their gradients).
    static func seRKD(_ op: Op, _ inputs: [Tensor], types: [TensorType]) throws -> [Tensor] {
        throw InvalidInput(nil, "\(op.kindName) has no reference implementation yet")
    }
}
