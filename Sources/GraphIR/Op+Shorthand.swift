import Tensor

/// Shorthand constructors: graphs, rules and tests build ops as `.matMul(flags)` without naming the
/// op set; matching still names it (`case .core(.matMul(let flags))`), so switches stay exhaustive.
extension Op {
    public static func unary(_ function: UnaryFunction) -> Op { .core(.unary(function)) }
    public static func binary(_ function: BinaryFunction) -> Op { .core(.binary(function)) }
    public static func compare(_ comparison: Comparison) -> Op { .core(.compare(comparison)) }
    public static var logicalNot: Op { .core(.logicalNot) }
    public static var select: Op { .core(.select) }
    public static func cast(_ dtype: DType) -> Op { .core(.cast(dtype)) }
    public static var identity: Op { .core(.identity) }
    public static func matMul(_ flags: MatMul) -> Op { .core(.matMul(flags)) }
    public static func conv(_ geometry: Convolution) -> Op { .core(.conv(geometry)) }
    public static func maxPool(_ pool: Pooling) -> Op { .core(.maxPool(pool)) }
    public static func averagePool(_ pool: Pooling) -> Op { .core(.averagePool(pool)) }
    public static var globalAveragePool: Op { .core(.globalAveragePool) }
    public static var globalMaxPool: Op { .core(.globalMaxPool) }
    public static func batchNorm(epsilon: Float) -> Op { .core(.batchNorm(epsilon: epsilon)) }
    public static func layerNorm(axis: Int, epsilon: Float) -> Op { .core(.layerNorm(axis: axis, epsilon: epsilon)) }
    public static func softmax(axis: Int) -> Op { .core(.softmax(axis: axis)) }
    public static func logSoftmax(axis: Int) -> Op { .core(.logSoftmax(axis: axis)) }
    public static func reduce(_ kind: Reduction, axes: [Int], keepDims: Bool) -> Op { .core(.reduce(kind, axes: axes, keepDims: keepDims)) }
    public static func argMax(axis: Int, keepDims: Bool, selectLastIndex: Bool) -> Op { .core(.argMax(axis: axis, keepDims: keepDims, selectLastIndex: selectLastIndex)) }
    public static func reshape(_ shape: Shape) -> Op { .core(.reshape(shape)) }
    public static func transpose(permutation: [Int]) -> Op { .core(.transpose(permutation: permutation)) }
    public static func slice(_ slice: Slice) -> Op { .core(.slice(slice)) }
    public static func concat(axis: Int) -> Op { .core(.concat(axis: axis)) }
    public static func gather(axis: Int) -> Op { .core(.gather(axis: axis)) }
    public static func expand(_ shape: Shape) -> Op { .core(.expand(shape)) }
    public static func pad(pads: [Int], mode: PadMode, value: Float) -> Op { .core(.pad(pads: pads, mode: mode, value: value)) }
    public static func tile(repeats: [Int]) -> Op { .core(.tile(repeats: repeats)) }
    public static func convBackwardData(_ geometry: Convolution, inputSize: [Int]) -> Op { .training(.gradient(.convBackwardData(geometry, inputSize: inputSize))) }
    public static func convBackwardWeight(_ geometry: Convolution, kernelSize: [Int]) -> Op { .training(.gradient(.convBackwardWeight(geometry, kernelSize: kernelSize))) }
    public static func maxPoolBackward(_ pool: Pooling) -> Op { .training(.gradient(.maxPoolBackward(pool))) }
    public static func averagePoolBackward(_ pool: Pooling, inputSize: [Int]) -> Op { .training(.gradient(.averagePoolBackward(pool, inputSize: inputSize))) }
    public static func unaryBackward(_ function: UnaryFunction) -> Op { .training(.gradient(.unaryBackward(function))) }
    public static func softmaxBackward(axis: Int) -> Op { .training(.gradient(.softmaxBackward(axis: axis))) }
    public static func logSoftmaxBackward(axis: Int) -> Op { .training(.gradient(.logSoftmaxBackward(axis: axis))) }
    public static func layerNormBackward(axis: Int) -> Op { .training(.gradient(.layerNormBackward(axis: axis))) }
    public static func batchNormTraining(epsilon: Float, momentum: Float) -> Op { .training(.gradient(.batchNormTraining(epsilon: epsilon, momentum: momentum))) }
    public static var batchNormBackward: Op { .training(.gradient(.batchNormBackward)) }
    public static func scatterAdd(axis: Int, dataShape: Shape) -> Op { .training(.gradient(.scatterAdd(axis: axis, dataShape: dataShape))) }
    public static func sliceBackward(_ slice: Slice, inputShape: Shape) -> Op { .training(.gradient(.sliceBackward(slice, inputShape: inputShape))) }
    public static func dropout(ratio: Float, seed: Int, perSample: Bool) -> Op { .training(.gradient(.dropout(ratio: ratio, seed: seed, perSample: perSample))) }
    public static func superpixelTokens(_ clustering: SuperpixelClustering) -> Op { .training(.seRKD(.superpixelTokens(clustering))) }
    public static func rkdDistance(perImageMean: Bool) -> Op { .training(.seRKD(.rkdDistance(perImageMean: perImageMean))) }
    public static func rkdDistanceBackward(perImageMean: Bool) -> Op { .training(.seRKD(.rkdDistanceBackward(perImageMean: perImageMean))) }
    public static func rkdAngle(chunk: Int) -> Op { .training(.seRKD(.rkdAngle(chunk: chunk))) }
    public static func rkdAngleBackward(chunk: Int) -> Op { .training(.seRKD(.rkdAngleBackward(chunk: chunk))) }
    public static func distillationKL(temperature: Float) -> Op { .training(.loss(.distillationKL(temperature: temperature))) }
    public static func distillationKLBackward(temperature: Float) -> Op { .training(.loss(.distillationKLBackward(temperature: temperature))) }
    public static func adamW(beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float) -> Op { .training(.optimizer(.adamW(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay))) }
    public static func sgd(momentum: Float, nesterov: Bool, weightDecay: Float) -> Op { .training(.optimizer(.sgd(momentum: momentum, nesterov: nesterov, weightDecay: weightDecay))) }
    public static func linear(_ flags: MatMul, bias: LinearBias, activation: UnaryFunction?) -> Op { .fused(.linear(flags, bias: bias, activation: activation)) }
    public static func convActivation(_ geometry: Convolution, activation: UnaryFunction) -> Op { .fused(.convActivation(geometry, activation: activation)) }
    public static func attention(scale: Float, keysTransposed: Bool) -> Op { .fused(.attention(scale: scale, keysTransposed: keysTransposed)) }
    public static func elementwise(_ program: ElementwiseProgram) -> Op { .fused(.elementwise(program)) }
}
