import GraphIR
import Runtime

extension Lowering {
    /// Kernels for the ops the fusion passes create: linear layers and convolutions become GEMM and
    /// convolution kernels with an epilogue, attention and elementwise chains have kernels of their own.
    static func lowerFused(_ op: FusedOp, inputs: [TensorType], output: TensorType) -> Kernel {
        switch op {
        case .linear(let flags, let bias, let activation):
            let placement: Epilogue.Bias = switch bias {
            case .none: .none
            case .row: .perRow
            case .column: .perColumn
            }
            return .gemm(Gemm.Geometry(a: inputs[0].shape.dims, b: inputs[1].shape.dims, transposeA: flags.transposeA, transposeB: flags.transposeB,
                                       epilogue: Epilogue(bias: placement, activation: activation)))
        case .convActivation(let conv, let activation):
            return .conv2d(Conv2D.Geometry(input: inputs[0].shape.dims, weight: inputs[1].shape.dims, strides: conv.strides, pads: conv.pads,
                                           dilations: conv.dilations, groups: conv.groups, hasBias: inputs.count > 2, activation: activation))
        case .attention(let scale, let keysTransposed):
            let q = inputs[0].shape, k = inputs[1].shape, v = inputs[2].shape
            return .attention(FusedAttention.Geometry(count: q.dims.dropLast(2).reduce(1, *), queries: q[-2], keys: keysTransposed ? k[-1] : k[-2],
                                                      depth: q[-1], valueDepth: v[-1], scale: scale, keysTransposed: keysTransposed))
        case .elementwise(let program):
            let instructions = program.instructions.map { instruction -> FusedElementwise.Instruction in
                switch instruction {
                case .unary(let f, let a): FusedElementwise.Instruction(f, a)
                case .binary(let f, let a, let b): FusedElementwise.Instruction(f, a, b)
                case .compare(let c, let a, let b): FusedElementwise.Instruction(c, a, b)
                case .select(let c, let a, let b): FusedElementwise.Instruction(operation: .select, operands: [c, a, b])
                }
            }
            return .fusedElementwise(FusedElementwise.Geometry(output: output.shape.dims, inputs: inputs.map(\.shape.dims), instructions: instructions))
        }
    }
}
