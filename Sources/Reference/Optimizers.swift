import GraphIR

extension Reference {
    /// Evaluates the optimizer updates (AdamW, SGD).
    static func optimizer(_ op: Op, _ inputs: [Tensor], types: [TensorType]) throws -> [Tensor] {
        throw InvalidInput(nil, "\(op.kindName) has no reference implementation yet")
    }
}
