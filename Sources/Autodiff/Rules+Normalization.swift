import GraphIR

// Normalisation and softmax. The norms keep their input and statistics; softmax keeps its output.
// Statistics outputs (layer-norm mean and inverse std, batch statistics, running statistics) are
// for the backward pass and the optimizer state, not for losses: a gradient arriving at one is
// refused rather than silently dropped.
extension Autodiff {
    /// Throws when a gradient reaches one of the node's statistics outputs.
    static func refuseStatisticsGradients(_ b: GradientBuilder) throws {
        if let index = b.outputGradients.indices.dropFirst().first(where: { b.outputGradients[$0] != nil }) {
            throw InvalidInput("node '\(b.node.name)'", "the loss depends on \(b.node.op.kindName) statistics output "
                               + "'\(b.graph[b.output(index)].name)', which has no gradient")
        }
    }

    /// Inference-mode batch norm, y = (x − mean)·scale/√(var + ε) + bias, with every input
    /// differentiable: a frozen-statistics fine-tune asks only for scale and bias, and the running
    /// statistics (normally constants) get exact gradients if they are differentiated too.
    static func batchNormRule(epsilon: Float) -> GradientRule {
        GradientRule(keeping: [.input(0): [1, 4], .input(1): [0, 3, 4], .input(3): [1, 4], .input(4): [0, 1, 3, 4]]) { b in
            let (x, scale, mean, variance, dY) = (b.input(0), b.input(1), b.input(3), b.input(4), b.outputGradient)
            let shape = b.shape(of: x)
            let perChannel = Shape([shape[1]] + Array(repeating: 1, count: shape.rank - 2))
            let otherAxes = [0] + Array(2..<shape.rank)
            var gradients: [ValueID?] = [nil, nil, nil, nil, nil]

            if b.needs(2) || b.needs(3) {
                gradients[2] = try b.apply1(.reduce(.sum, axes: otherAxes, keepDims: false), [dY], "dbias")
            }
            guard b.needs(0) || b.needs(1) || b.needs(3) || b.needs(4) else { return gradients }
            let shifted = try b.apply1(.binary(.add), [variance, b.scalar(epsilon)], "variance_eps")
            let deviation = try b.apply1(.unary(.sqrt), [shifted], "std")
            if b.needs(0) || b.needs(3) {
                let gain = try b.apply1(.binary(.div), [scale, deviation], "gain")
                if b.needs(0) { gradients[0] = try b.apply1(.binary(.mul), [dY, try b.reshape(gain, to: perChannel)], "dx") }
                if let sum = gradients[2], b.needs(3) {
                    gradients[3] = try b.apply1(.unary(.neg), [try b.apply1(.binary(.mul), [sum, gain], "dmean")], "neg")
                }
            }
            if b.needs(1) || b.needs(4) {
                let centred = try b.apply1(.binary(.sub), [x, try b.reshape(mean, to: perChannel)], "centred")
                let weighted = try b.apply1(.binary(.mul), [dY, centred], "weighted")
                let sum = try b.apply1(.reduce(.sum, axes: otherAxes, keepDims: false), [weighted], "sum")
                let dScale = try b.apply1(.binary(.div), [sum, deviation], "dscale")
                gradients[1] = dScale
                if b.needs(4) {
                    // dVar = −½·dScale·scale/(var + ε)
                    let scaled = try b.apply1(.binary(.mul), [dScale, scale], "scaled")
                    let ratio = try b.apply1(.binary(.div), [scaled, shifted], "ratio")
                    gradients[4] = try b.apply1(.binary(.mul), [ratio, b.scalar(-0.5)], "dvariance")
                }
            }
            return gradients
        }
    }

    /// batchNormBackward from the input, scale and the batch statistics the forward node produced.
    /// The running statistics inputs do not affect Y in training mode: they get no gradient.
    static var batchNormTrainingRule: GradientRule {
        let users: Set<Int> = [0, 1, 2]
        return GradientRule(keeping: [.input(0): users, .input(1): users, .output(1): users, .output(2): users]) { b in
            try refuseStatisticsGradients(b)
            guard let dY = b.outputGradients[0] else { return [nil, nil, nil, nil, nil] }
            let d = try b.apply(.batchNormBackward, [b.input(0), b.input(1), b.output(1), b.output(2), dY], "backward")
            return [d[0], d[1], d[2], nil, nil]
        }
    }

    /// layerNormBackward from the input, scale and the row statistics the forward node produced. A
    /// bias shaped unlike the scale takes dY summed to its own shape instead of the op's dBias.
    static func layerNormRule(axis: Int) -> GradientRule {
        let users: Set<Int> = [0, 1, 2]
        return GradientRule(keeping: [.input(0): users, .input(1): users, .output(1): users, .output(2): users]) { b in
            try refuseStatisticsGradients(b)
            guard let dY = b.outputGradients[0] else { return Array(repeating: nil, count: b.node.inputs.count) }
            let hasBias = b.node.inputs.count > 2
            let scaleShape = b.shape(of: b.input(1))
            var gradients: [ValueID?] = Array(repeating: nil, count: b.node.inputs.count)
            if b.needs(0) || b.needs(1) || (hasBias && b.needs(2) && b.shape(of: b.input(2)) == scaleShape) {
                let d = try b.apply(.layerNormBackward(axis: axis), [b.input(0), b.input(1), b.output(1), b.output(2), dY], "backward")
                gradients[0] = d[0]
                gradients[1] = d[1]
                if hasBias { gradients[2] = d[2] }
            }
            if hasBias && b.needs(2) && b.shape(of: b.input(2)) != scaleShape {
                gradients[2] = try b.unbroadcast(dY, toInput: 2)
            }
            return gradients
        }
    }

    /// softmaxBackward or logSoftmaxBackward from the kept output.
    static func softmaxRule(axis: Int, logarithm: Bool) -> GradientRule {
        GradientRule(keeping: [.output(0): [0]]) { b in
            let op: Op = logarithm ? .logSoftmaxBackward(axis: axis) : .softmaxBackward(axis: axis)
            return [try b.apply1(op, [b.output(0), b.outputGradient], "dx")]
        }
    }
}
