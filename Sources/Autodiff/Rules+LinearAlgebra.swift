import GraphIR

// Matrix products and convolution: each operand's gradient needs the other operand, never the output.
extension Autodiff {
    /// C = op(A)·op(B): each gradient is one more product, with the transpose flags chosen so no
    /// operand is ever transposed in memory:
    ///
    ///     flags    dA            dB
    ///     A·B      dC·Bᵀ         Aᵀ·dC
    ///     A·Bᵀ     dC·B          dCᵀ·A
    ///     Aᵀ·B     B·dCᵀ         A·dC
    ///     Aᵀ·Bᵀ    Bᵀ·dCᵀ        dCᵀ·Aᵀ
    ///
    /// Products come out with C's batch axes and are summed over the ones the operand was broadcast
    /// along. A rank-2 B under a batched, untransposed A (a linear layer) gets its gradient from one
    /// product over the flattened batch instead, so no per-batch copy of dB is ever formed.
    static func matMulRule(_ flags: MatMul) -> GradientRule {
        GradientRule(keeping: [.input(1): [0], .input(0): [1]]) { b in
            let (a, bOperand, dC) = (b.input(0), b.input(1), b.outputGradient)
            func product(_ x: ValueID, _ y: ValueID, _ transposeX: Bool, _ transposeY: Bool, _ label: String) throws -> ValueID {
                try b.apply1(.matMul(MatMul(transposeA: transposeX, transposeB: transposeY)), [x, y], label)
            }
            var dA: ValueID?, dB: ValueID?
            if b.needs(0) {
                let full = switch (flags.transposeA, flags.transposeB) {
                case (false, false): try product(dC, bOperand, false, true, "da")
                case (false, true): try product(dC, bOperand, false, false, "da")
                case (true, false): try product(bOperand, dC, false, true, "da")
                case (true, true): try product(bOperand, dC, true, true, "da")
                }
                dA = try b.unbroadcast(full, toInput: 0)
            }
            if b.needs(1) {
                let aShape = b.shape(of: a), cShape = b.shape(of: dC)
                if b.shape(of: bOperand).rank == 2 && aShape.rank > 2 && !flags.transposeA {
                    let rows = aShape.dims.dropLast().reduce(1, *)
                    let flatA = try b.reshape(a, to: [rows, aShape[-1]])
                    let flatC = try b.reshape(dC, to: [rows, cShape[-1]])
                    dB = flags.transposeB ? try product(flatC, flatA, true, false, "db") : try product(flatA, flatC, true, false, "db")
                } else {
                    let full = switch (flags.transposeA, flags.transposeB) {
                    case (false, false): try product(a, dC, true, false, "db")
                    case (false, true): try product(dC, a, true, false, "db")
                    case (true, false): try product(a, dC, false, false, "db")
                    case (true, true): try product(dC, a, true, true, "db")
                    }
                    dB = try b.unbroadcast(full, toInput: 1)
                }
            }
            return [dA, dB]
        }
    }

    /// dX from the weights, dW from the input, dBias as dY summed over batch and space.
    static func convolutionRule(_ geometry: Convolution) -> GradientRule {
        GradientRule(keeping: [.input(1): [0], .input(0): [1]]) { b in
            let (x, w, dY) = (b.input(0), b.input(1), b.outputGradient)
            let xShape = b.shape(of: x), wShape = b.shape(of: w)
            var gradients: [ValueID?] = Array(repeating: nil, count: b.node.inputs.count)
            if b.needs(0) {
                gradients[0] = try b.apply1(.convBackwardData(geometry, inputSize: [xShape[2], xShape[3]]), [dY, w], "dx")
            }
            if b.needs(1) {
                gradients[1] = try b.apply1(.convBackwardWeight(geometry, kernelSize: [wShape[2], wShape[3]]), [x, dY], "dw")
            }
            if gradients.count > 2 && b.needs(2) {
                gradients[2] = try b.apply1(.reduce(.sum, axes: [0, 2, 3], keepDims: false), [dY], "dbias")
            }
            return gradients
        }
    }
}
