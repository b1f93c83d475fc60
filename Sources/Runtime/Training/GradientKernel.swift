import Tensor

/// Gradients of the forward kernels and the training-mode forward kernels (batch norm statistics, dropout).
///
/// Every case gives bit-identical results for any thread count: work is split into items fixed by
/// the geometry, and sums that cross items are added in item order.
public enum GradientKernel: Hashable, Sendable, Codable {
    /// dY, W → dX of a convolution.
    case convBackwardData(Conv2DGradient.Geometry)
    /// X, dY → dW of a convolution.
    case convBackwardWeight(Conv2DGradient.Geometry)
    /// X, dY → dX of max pooling.
    case maxPoolBackward(Pool2D.Geometry)
    /// dY → dX of average pooling.
    case averagePoolBackward(Pool2D.Geometry)
    /// X, dY → dY·f′(X), `count` float32 elements.
    case unaryBackward(UnaryFunction, count: Int)
    /// Y, dY → dX of softmax along the layout's axis.
    case softmaxBackward(AxisLayout)
    /// Y, dY → dX of log-softmax along the layout's axis.
    case logSoftmaxBackward(AxisLayout)
    /// X, scale, mean, inverse std, dY → dX, dScale, dBias of layer norm.
    case layerNormBackward(Normalization.LayerNormGradientGeometry)
    /// X, scale, bias, running mean, running variance → Y, batch mean, batch inverse std, running mean,
    /// running variance (the last two in place over the running inputs), channels on the layout's axis.
    case batchNormTraining(AxisLayout, epsilon: Float, momentum: Float)
    /// X, scale, mean, inverse std, dY → dX, dScale, dBias of training batch norm.
    case batchNormBackward(AxisLayout)
    /// dY, indices → dData of gather (float32), the geometry being the forward gather's from dData.
    /// Fails at run time on out-of-range indices.
    case scatterAdd(DataMovement.Gather)
    /// dY → dX of slice: the forward slice's view of an input of `inputCount` elements.
    case sliceBackward(DataMovement.Copy, inputCount: Int)
    /// X, step (int64 scalar) → Y, mask.
    case dropout(Dropout.Geometry)

    /// Scratch bytes the kernel needs during its call.
    public var workspaceBytes: Int {
        switch self {
        case .convBackwardData(let geometry): geometry.dataWorkspaceBytes
        case .convBackwardWeight(let geometry): geometry.weightWorkspaceBytes
        case .layerNormBackward(let geometry): geometry.workspaceBytes
        case .maxPoolBackward, .averagePoolBackward, .unaryBackward, .softmaxBackward, .logSoftmaxBackward,
             .batchNormTraining, .batchNormBackward, .scatterAdd, .sliceBackward, .dropout: 0
        }
    }

    /// A short name for reports.
    public var name: String {
        switch self {
        case .convBackwardData: "conv2d_backward_data"
        case .convBackwardWeight: "conv2d_backward_weight"
        case .maxPoolBackward: "maxpool_backward"
        case .averagePoolBackward: "avgpool_backward"
        case .unaryBackward(let f, _): "unary_backward.\(f)"
        case .softmaxBackward: "softmax_backward"
        case .logSoftmaxBackward: "log_softmax_backward"
        case .layerNormBackward: "layernorm_backward"
        case .batchNormTraining: "batchnorm_training"
        case .batchNormBackward: "batchnorm_backward"
        case .scatterAdd: "scatter_add"
        case .sliceBackward: "slice_backward"
        case .dropout: "dropout"
        }
    }

    /// Runs the kernel on the step's operand and result addresses, in the order documented per case.
    func run(_ operands: [UnsafeRawPointer], _ results: [UnsafeMutableRawPointer], workspace: UnsafeMutableRawPointer?) throws {
        func f(_ p: UnsafeRawPointer) -> UnsafePointer<Float> { p.assumingMemoryBound(to: Float.self) }
        func fm(_ p: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Float> { p.assumingMemoryBound(to: Float.self) }
        precondition(workspaceBytes == 0 || workspace != nil, "\(name) needs a workspace")
        switch self {
        case .convBackwardData(let geometry):
            Conv2DGradient.data(geometry, outputGradient: f(operands[0]), weight: f(operands[1]), inputGradient: fm(results[0]),
                                workspace: workspace)
        case .convBackwardWeight(let geometry):
            Conv2DGradient.weight(geometry, input: f(operands[0]), outputGradient: f(operands[1]), weightGradient: fm(results[0]),
                                  workspace: workspace)
        case .maxPoolBackward(let geometry):
            Pool2D.maxBackward(geometry, input: f(operands[0]), outputGradient: f(operands[1]), inputGradient: fm(results[0]))
        case .averagePoolBackward(let geometry):
            Pool2D.averageBackward(geometry, outputGradient: f(operands[0]), inputGradient: fm(results[0]))
        case .unaryBackward(let function, let count):
            Elementwise.unaryBackward(function, input: f(operands[0]), outputGradient: f(operands[1]), inputGradient: fm(results[0]),
                                      count: count)
        case .softmaxBackward(let layout):
            Normalization.softmaxBackward(layout, output: f(operands[0]), outputGradient: f(operands[1]), inputGradient: fm(results[0]))
        case .logSoftmaxBackward(let layout):
            Normalization.logSoftmaxBackward(layout, output: f(operands[0]), outputGradient: f(operands[1]), inputGradient: fm(results[0]))
        case .layerNormBackward(let geometry):
            Normalization.layerNormBackward(geometry, input: f(operands[0]), scale: f(operands[1]), mean: f(operands[2]),
                                            inverseStandardDeviation: f(operands[3]), outputGradient: f(operands[4]),
                                            inputGradient: fm(results[0]), scaleGradient: fm(results[1]),
                                            biasGradient: fm(results[2]), workspace: workspace)
        case .batchNormTraining(let layout, let epsilon, let momentum):
            Normalization.batchNormTraining(layout, epsilon: epsilon, momentum: momentum, input: f(operands[0]), scale: f(operands[1]),
                                            bias: f(operands[2]), runningMean: f(operands[3]), runningVariance: f(operands[4]),
                                            output: fm(results[0]), mean: fm(results[1]), inverseStandardDeviation: fm(results[2]),
                                            updatedMean: fm(results[3]), updatedVariance: fm(results[4]))
        case .batchNormBackward(let layout):
            Normalization.batchNormBackward(layout, input: f(operands[0]), scale: f(operands[1]), mean: f(operands[2]),
                                            inverseStandardDeviation: f(operands[3]), outputGradient: f(operands[4]),
                                            inputGradient: fm(results[0]), scaleGradient: fm(results[1]), biasGradient: fm(results[2]))
        case .scatterAdd(let geometry):
            try DataMovement.scatterAdd(geometry, outputGradient: f(operands[0]), indices: operands[1].assumingMemoryBound(to: Int64.self),
                                        into: fm(results[0]))
        case .sliceBackward(let geometry, let inputCount):
            DataMovement.sliceBackward(geometry, inputCount: inputCount, outputGradient: operands[0], into: results[0])
        case .dropout(let geometry):
            Dropout.run(geometry, input: f(operands[0]), step: operands[1].assumingMemoryBound(to: Int64.self).pointee,
                        output: fm(results[0]), mask: fm(results[1]))
        }
    }
}
