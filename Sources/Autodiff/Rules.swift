import GraphIR

extension Autodiff {
    /// The gradient rule of `op`, or nil when it has none.
    ///
    /// Ops whose outputs are never float32 (compare, argMax, logicalNot) need no rule: gradients
    /// stop before them. The gradient ops and optimizers have none (no second derivatives), nor do
    /// reduce max/min and reflect/edge padding.
    static func rule(for op: Op) -> GradientRule? {
        switch op {
        case .core(let op): rule(for: op)
        case .training(let op): rule(for: op)
        // Passes fuse finished graphs, after differentiation.
        case .fused: nil
        }
    }

    static func rule(for op: CoreOp) -> GradientRule? {
        switch op {
        case .unary(let function): unaryRule(function)
        case .binary(let function): binaryRule(function)
        case .select: selectRule
        case .cast, .identity: passThroughRule
        case .matMul(let flags): matMulRule(flags)
        case .conv(let geometry): convolutionRule(geometry)
        case .maxPool(let pool): maxPoolRule(pool)
        case .averagePool(let pool): averagePoolRule(pool)
        case .globalAveragePool: globalAveragePoolRule
        case .globalMaxPool: globalMaxPoolRule
        case .batchNorm(let epsilon): batchNormRule(epsilon: epsilon)
        case .layerNorm(let axis, _): layerNormRule(axis: axis)
        case .softmax(let axis): softmaxRule(axis: axis, logarithm: false)
        case .logSoftmax(let axis): softmaxRule(axis: axis, logarithm: true)
        case .reduce(let kind, let axes, let keepDims): reduceRule(kind, axes: axes, keepDims: keepDims)
        case .reshape: reshapeRule
        case .transpose(let permutation): transposeRule(permutation)
        case .slice(let window): sliceRule(window)
        case .concat(let axis): concatRule(axis: axis)
        case .gather(let axis): gatherRule(axis: axis)
        case .expand: expandRule
        case .pad(let pads, let mode, _): mode == .constant ? padRule(pads) : nil
        case .tile(let repeats): tileRule(repeats)
        case .compare, .logicalNot, .argMax: nil
        }
    }

    /// The training-mode forwards and the SeRKD forward ops have rules; gradients, backward ops and
    /// optimizer updates have none (no second derivatives).
    static func rule(for op: TrainingOp) -> GradientRule? {
        switch op {
        case .gradient(let op):
            switch op {
            case .dropout: dropoutRule
            case .batchNormTraining: batchNormTrainingRule
            case .convBackwardData, .convBackwardWeight, .maxPoolBackward, .averagePoolBackward, .unaryBackward,
                 .softmaxBackward, .logSoftmaxBackward, .layerNormBackward, .batchNormBackward, .scatterAdd, .sliceBackward:
                nil
            }
        case .seRKD(let op): seRKDRule(for: op)
        case .loss(let op):
            switch op {
            case .distillationKL(let temperature): distillationKLRule(temperature: temperature)
            case .distillationKLBackward: nil
            }
        case .optimizer, .collective: nil
        }
    }
}
