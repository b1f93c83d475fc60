import GraphIR

extension Reference {
    /// Evaluates the gradient ops and training-mode forward ops.
    static func gradient(_ op: Op, _ inputs: [Tensor], types: [TensorType]) throws -> [Tensor] {
        throw InvalidInput(nil, "\(op.kindName) has no reference implementation yet")
    }
}
