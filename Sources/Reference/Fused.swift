import GraphIR

// The fused ops, evaluated as the compositions of core ops they stand for, so a fused graph can be
// checked against the graph it came from with the same yardstick. The elementwise program runs in
// Double from end to end (one rounding per output element, like every other reference op).
extension Reference {
    static func fused(_ op: FusedOp, _ inputs: [Tensor], shape: Shape) throws -> Tensor {
        func one(_ op: Op, _ operands: [Tensor]) throws -> Tensor { try evaluate(op, operands)[0] }
        switch op {
        case .linear(let flags, let bias, let activation):
            var y = try one(.matMul(flags), Array(inputs[..<2]))
            if bias != .none { y = try one(.binary(.add), [y, inputs[2]]) }
            if let activation { y = try one(.unary(activation), [y]) }
            return y
        case .convActivation(let geometry, let activation):
            return try one(.unary(activation), [try one(.conv(geometry), inputs)])
        case .attention(let scale, let keysTransposed):
            let scores = try one(.matMul(MatMul(transposeB: !keysTransposed)), [inputs[0], inputs[1]])
            let scaled = try one(.binary(.mul), [scores, Tensor(scalar: scale)])
            let weights = try one(.softmax(axis: shape.rank - 1), [scaled])
            return try one(.matMul(MatMul()), [weights, inputs[2]])
        case .elementwise(let program):
            return elementwise(program, inputs, shape: shape)
        }
    }

    /// Runs `program` once per output element, in Double.
    static func elementwise(_ program: ElementwiseProgram, _ inputs: [Tensor], shape: Shape) -> Tensor {
        let values = inputs.map(\.doubles)
        let indices = inputs.map { broadcastIndices(from: $0.shape, to: shape) }
        var registers = [Double](repeating: 0, count: program.registerCount)
        var result = [Double](repeating: 0, count: shape.elementCount)
        for element in result.indices {
            for input in inputs.indices { registers[input] = values[input][indices[input][element]] }
            for (index, instruction) in program.instructions.enumerated() {
                let value: Double = switch instruction {
                case .unary(let f, let a): apply(f, registers[a])
                case .binary(let f, let a, let b): apply(f, registers[a], registers[b])
                case .compare(let c, let a, let b): holds(c, registers[a], registers[b]) ? 1 : 0
                case .select(let c, let a, let b): registers[c] != 0 ? registers[a] : registers[b]
                }
                registers[program.inputCount + index] = value
            }
            result[element] = registers[program.registerCount - 1]
        }
        return Tensor(doubles: result, dtype: .float32, shape: shape)
    }
}
