import GraphIR

// Elementwise ops. Binary ops and select broadcast, so each operand's gradient is summed back over
// the axes it was broadcast along.
extension Autodiff {
    /// dX = unaryBackward(X, dY), keeping X; neg needs nothing but dY.
    static func unaryRule(_ function: UnaryFunction) -> GradientRule {
        if function == .neg {
            return GradientRule { b in [try b.apply1(.unary(.neg), [b.outputGradient], "neg")] }
        }
        if function == .relu {
            // relu'(x) = [x > 0] = [relu(x) > 0]: keeping the output instead of the input lets the
            // compiler fuse the ReLU into the convolution or matmul producing its input.
            return GradientRule(keeping: [.output(0): [0]]) { b in
                [try b.apply1(.unaryBackward(.relu), [b.output(0), b.outputGradient], function.name)]
            }
        }
        return GradientRule(keeping: [.input(0): [0]]) { b in
            [try b.apply1(.unaryBackward(function), [b.input(0), b.outputGradient], function.name)]
        }
    }

    static func binaryRule(_ function: BinaryFunction) -> GradientRule {
        switch function {
        case .add, .sub:
            // d(a ± b) = da ± db; the sign is applied after reducing, on the smaller tensor.
            return GradientRule { b in
                let dY = b.outputGradient
                let dA = b.needs(0) ? try b.unbroadcast(dY, toInput: 0) : nil
                var dB = b.needs(1) ? try b.unbroadcast(dY, toInput: 1) : nil
                if function == .sub, let reduced = dB { dB = try b.apply1(.unary(.neg), [reduced], "neg") }
                return [dA, dB]
            }
        case .mul:
            return GradientRule(keeping: [.input(1): [0], .input(0): [1]]) { b in
                let dY = b.outputGradient
                let dA = b.needs(0) ? try b.unbroadcast(try b.apply1(.binary(.mul), [dY, b.input(1)], "da"), toInput: 0) : nil
                let dB = b.needs(1) ? try b.unbroadcast(try b.apply1(.binary(.mul), [dY, b.input(0)], "db"), toInput: 1) : nil
                return [dA, dB]
            }
        case .div:
            // y = a/b: da = dY/b, db = −dY·a/b² = −(dY/b)·y.
            return GradientRule(keeping: [.input(1): [0, 1], .output(0): [1]]) { b in
                let quotient = try b.apply1(.binary(.div), [b.outputGradient, b.input(1)], "da")
                let dA = b.needs(0) ? try b.unbroadcast(quotient, toInput: 0) : nil
                var dB: ValueID?
                if b.needs(1) {
                    let product = try b.apply1(.binary(.mul), [quotient, b.output(0)], "db")
                    dB = try b.apply1(.unary(.neg), [try b.unbroadcast(product, toInput: 1)], "neg")
                }
                return [dA, dB]
            }
        case .pow:
            // y = aᵇ: da = dY·b·aᵇ⁻¹, db = dY·y·ln a.
            return GradientRule(keeping: [.input(0): [0, 1], .input(1): [0], .output(0): [1]]) { b in
                let dY = b.outputGradient
                var dA: ValueID?, dB: ValueID?
                if b.needs(0) {
                    let lowered = try b.apply1(.binary(.sub), [b.input(1), b.scalar(1)], "exponent")
                    let power = try b.apply1(.binary(.pow), [b.input(0), lowered], "power")
                    let slope = try b.apply1(.binary(.mul), [b.input(1), power], "slope")
                    dA = try b.unbroadcast(try b.apply1(.binary(.mul), [dY, slope], "da"), toInput: 0)
                }
                if b.needs(1) {
                    let logarithm = try b.apply1(.unary(.log), [b.input(0)], "log")
                    let slope = try b.apply1(.binary(.mul), [b.output(0), logarithm], "slope")
                    dB = try b.unbroadcast(try b.apply1(.binary(.mul), [dY, slope], "db"), toInput: 1)
                }
                return [dA, dB]
            }
        case .max, .min:
            // The winner takes the gradient and ties split it evenly, as torch.maximum/minimum do
            // (and as a central difference at a tie measures).
            return GradientRule(keeping: [.input(0): [0, 1], .input(1): [0, 1]]) { b in
                let wins = try b.apply1(.compare(function == .max ? .greater : .less), [b.input(0), b.input(1)], "wins")
                let ties = try b.apply1(.compare(.equal), [b.input(0), b.input(1)], "ties")
                let tieShare = try b.apply1(.select, [ties, b.scalar(0.5), b.scalar(0)], "tie_share")
                let share = try b.apply1(.select, [wins, b.scalar(1), tieShare], "share")
                let dY = b.outputGradient
                var dA: ValueID?, dB: ValueID?
                if b.needs(0) { dA = try b.unbroadcast(try b.apply1(.binary(.mul), [dY, share], "da"), toInput: 0) }
                if b.needs(1) {
                    let rest = try b.apply1(.binary(.sub), [b.scalar(1), share], "other_share")
                    dB = try b.unbroadcast(try b.apply1(.binary(.mul), [dY, rest], "db"), toInput: 1)
                }
                return [dA, dB]
            }
        }
    }

    /// condition ? x : y: dY goes to x where the condition holds and to y elsewhere.
    static var selectRule: GradientRule {
        GradientRule(keeping: [.input(0): [1, 2]]) { b in
            let dY = b.outputGradient
            var dX: ValueID?, dOther: ValueID?
            if b.needs(1) { dX = try b.unbroadcast(try b.apply1(.select, [b.input(0), dY, b.scalar(0)], "dx"), toInput: 1) }
            if b.needs(2) { dOther = try b.unbroadcast(try b.apply1(.select, [b.input(0), b.scalar(0), dY], "dy"), toInput: 2) }
            return [nil, dX, dOther]
        }
    }

    /// identity, and casts between float32 values (the only casts gradients reach): dX = dY.
    static var passThroughRule: GradientRule {
        GradientRule { b in [b.outputGradient] }
    }

    /// dX = dY·mask, keeping the mask; the mask itself does not depend on X.
    static var dropoutRule: GradientRule {
        GradientRule(keeping: [.output(1): [0]]) { b in
            guard let dY = b.outputGradients[0] else { return [nil, nil] }
            return [try b.apply1(.binary(.mul), [dY, b.output(1)], "dx"), nil]
        }
    }
}
