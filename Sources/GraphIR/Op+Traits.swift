import Tensor

// Every fact about an op that is not its shape rule, its reference semantics, its gradient or its
// kernel: its name and attributes (which are also its serialised form, in the text form and in
// `.serkd` files), and what the compiler may assume about it. One switch per fact and op set, no
// `default:`, so a new op states each fact here or fails to compile.

extension Op {
    /// The op's name in the text form and in `.serkd` files (e.g. "matmul", "adamw").
    public var kindName: String {
        switch self {
        case .core(let op): op.name
        case .training(let op): op.name
        case .fused(let op): op.name
        }
    }

    /// The op's attributes by name, in a fixed order. With `kindName` this describes the op
    /// completely; `init(kindName:attributes:)` inverts it.
    public var attributes: [(name: String, value: AttributeValue)] {
        switch self {
        case .core(let op): op.attributes
        case .training(let op): op.attributes
        case .fused(let op): op.attributes
        }
    }

    /// Rebuilds an op from its kind name and attributes, as written by `kindName` and `attributes`.
    public init(kindName: String, attributes: [String: AttributeValue]) throws {
        let reader = AttributeReader(kindName: kindName, attributes: attributes)
        if let op = try CoreOp(reader) {
            self = .core(op)
        } else if let op = try TrainingOp(reader) {
            self = .training(op)
        } else if let op = try FusedOp(reader) {
            self = .fused(op)
        } else {
            throw InvalidInput(nil, "unknown op '\(kindName)'")
        }
    }

    /// Output index → the input whose storage it overwrites (optimizer updates, running statistics).
    /// The compiler gives both the same buffer; nothing may read the input after this node.
    public var inPlaceOutputs: [Int: Int] {
        guard case .training(let op) = self else { return [:] }
        switch op {
        case .optimizer(.adamW): return [0: 0, 1: 2, 2: 3]
        case .optimizer(.sgd): return [0: 0, 1: 2]
        case .gradient(.batchNormTraining): return [3: 3, 4: 4]
        case .gradient, .seRKD, .loss, .collective: return [:]
        }
    }

    /// Whether the output is the input's bytes under another shape: the compiler gives it the
    /// input's buffer and schedules it with its reader.
    public var isView: Bool {
        guard case .core(let op) = self else { return false }
        switch op {
        case .reshape, .identity:
            return true
        case .unary, .binary, .compare, .logicalNot, .select, .cast, .matMul, .conv, .maxPool, .averagePool,
             .globalAveragePool, .globalMaxPool, .batchNorm, .layerNorm, .softmax, .logSoftmax, .reduce, .argMax,
             .transpose, .slice, .concat, .gather, .expand, .pad, .tile:
            return false
        }
    }

    /// Whether recomputing the op costs about one pass over its operands, so trading memory for a
    /// second evaluation pays (elementwise work and layer norm; never products or reductions).
    public var isCheap: Bool {
        switch self {
        case .core(let op):
            switch op {
            case .unary, .binary, .layerNorm, .cast:
                return true
            case .compare, .logicalNot, .select, .identity, .matMul, .conv, .maxPool, .averagePool, .globalAveragePool,
                 .globalMaxPool, .batchNorm, .softmax, .logSoftmax, .reduce, .argMax, .reshape, .transpose, .slice,
                 .concat, .gather, .expand, .pad, .tile:
                return false
            }
        case .training:
            return false
        case .fused(let op):
            switch op {
            case .elementwise: return true
            case .linear, .convActivation, .attention: return false
            }
        }
    }

    /// Whether the output may be written over an input of the same type: each element is computed
    /// from the same elements of the inputs (or, for softmax, a row is read before it is written).
    public var canWriteOverInput: Bool {
        switch self {
        case .core(let op):
            switch op {
            case .unary, .binary, .softmax, .logSoftmax:
                return true
            case .compare, .logicalNot, .select, .cast, .identity, .matMul, .conv, .maxPool, .averagePool,
                 .globalAveragePool, .globalMaxPool, .batchNorm, .layerNorm, .reduce, .argMax, .reshape, .transpose,
                 .slice, .concat, .gather, .expand, .pad, .tile:
                return false
            }
        case .training:
            return false
        case .fused(let op):
            switch op {
            case .elementwise: return true
            case .linear, .convActivation, .attention: return false
            }
        }
    }

    /// Whether the op draws random numbers, so two equal nodes are not one value and the op is
    /// never folded at compile time.
    public var isRandom: Bool {
        switch self {
        case .training(.gradient(.dropout)): true
        case .core, .training, .fused: false
        }
    }

    /// Whether the outputs are a function of the inputs alone: nothing is updated in place and
    /// nothing is drawn at random, so equal nodes are one value and constant inputs give a constant.
    public var isPure: Bool { inPlaceOutputs.isEmpty && !isRandom }

    /// Whether the op exists only in training graphs (and so is never exported).
    public var isTrainingOnly: Bool {
        if case .training = self { return true }
        return false
    }
}

extension CoreOp {
    /// See `Op.kindName`.
    public var name: String {
        switch self {
        case .unary(let f): f.name
        case .binary(let f): f.rawValue
        case .compare(let c): c.rawValue
        case .logicalNot: "not"
        case .select: "select"
        case .cast: "cast"
        case .identity: "identity"
        case .matMul: "matmul"
        case .conv: "conv"
        case .maxPool: "maxpool"
        case .averagePool: "avgpool"
        case .globalAveragePool: "global_avgpool"
        case .globalMaxPool: "global_maxpool"
        case .batchNorm: "batchnorm"
        case .layerNorm: "layernorm"
        case .softmax: "softmax"
        case .logSoftmax: "log_softmax"
        case .reduce(let r, _, _): "reduce_\(r.rawValue)"
        case .argMax: "argmax"
        case .reshape: "reshape"
        case .transpose: "transpose"
        case .slice: "slice"
        case .concat: "concat"
        case .gather: "gather"
        case .expand: "expand"
        case .pad: "pad"
        case .tile: "tile"
        }
    }

    /// See `Op.attributes`.
    public var attributes: [(name: String, value: AttributeValue)] {
        switch self {
        case .unary(let f): f.attributes
        case .binary, .compare, .logicalNot, .select, .identity, .globalAveragePool, .globalMaxPool: []
        case .cast(let dtype): [("to", .string(dtype.shortName))]
        case .matMul(let m): m.attributes
        case .conv(let c): c.attributes
        case .maxPool(let p): p.attributes(average: false)
        case .averagePool(let p): p.attributes(average: true)
        case .batchNorm(let epsilon): [("epsilon", .float(epsilon))]
        case .layerNorm(let axis, let epsilon): [("axis", .int(axis)), ("epsilon", .float(epsilon))]
        case .softmax(let axis), .logSoftmax(let axis): [("axis", .int(axis))]
        case .reduce(_, let axes, let keep): [("axes", .ints(axes)), ("keep_dims", .int(keep ? 1 : 0))]
        case .argMax(let axis, let keep, let last):
            [("axis", .int(axis)), ("keep_dims", .int(keep ? 1 : 0)), ("select_last_index", .int(last ? 1 : 0))]
        case .reshape(let shape): [("shape", .ints(shape.dims))]
        case .transpose(let permutation): [("permutation", .ints(permutation))]
        case .slice(let s): s.attributes
        case .concat(let axis), .gather(let axis): [("axis", .int(axis))]
        case .expand(let shape): [("shape", .ints(shape.dims))]
        case .pad(let pads, let mode, let value): [("pads", .ints(pads)), ("mode", .string(mode.rawValue)), ("value", .float(value))]
        case .tile(let repeats): [("repeats", .ints(repeats))]
        }
    }

    /// The core op `reader` names, or nil when its kind name is not a core op.
    init?(_ a: AttributeReader) throws {
        let kindName = a.kindName
        if let f = BinaryFunction(rawValue: kindName) { self = .binary(f); return }
        if let c = Comparison(rawValue: kindName) { self = .compare(c); return }
        if let f = try UnaryFunction(a) { self = .unary(f); return }
        if kindName.hasPrefix("reduce_"), let r = Reduction(rawValue: String(kindName.dropFirst(7))) {
            self = .reduce(r, axes: try a.ints("axes"), keepDims: try a.bool("keep_dims"))
            return
        }
        switch kindName {
        case "not": self = .logicalNot
        case "select": self = .select
        case "identity": self = .identity
        case "global_avgpool": self = .globalAveragePool
        case "global_maxpool": self = .globalMaxPool
        case "cast":
            guard let dtype = DType(shortName: try a.string("to")) else { throw InvalidInput(nil, "cast to unknown dtype") }
            self = .cast(dtype)
        case "matmul": self = .matMul(try MatMul(a))
        case "conv": self = .conv(try Convolution(a))
        case "maxpool": self = .maxPool(try Pooling(a, average: false))
        case "avgpool": self = .averagePool(try Pooling(a, average: true))
        case "batchnorm": self = .batchNorm(epsilon: try a.float("epsilon"))
        case "layernorm": self = .layerNorm(axis: try a.int("axis"), epsilon: try a.float("epsilon"))
        case "softmax": self = .softmax(axis: try a.int("axis"))
        case "log_softmax": self = .logSoftmax(axis: try a.int("axis"))
        case "argmax":
            self = .argMax(axis: try a.int("axis"), keepDims: try a.bool("keep_dims"), selectLastIndex: try a.bool("select_last_index"))
        case "reshape": self = .reshape(Shape(try a.ints("shape")))
        case "transpose": self = .transpose(permutation: try a.ints("permutation"))
        case "slice": self = .slice(try Slice(a))
        case "concat": self = .concat(axis: try a.int("axis"))
        case "gather": self = .gather(axis: try a.int("axis"))
        case "expand": self = .expand(Shape(try a.ints("shape")))
        case "pad":
            guard let mode = PadMode(rawValue: try a.string("mode")) else { throw InvalidInput(nil, "pad has unknown mode") }
            self = .pad(pads: try a.ints("pads"), mode: mode, value: try a.float("value"))
        case "tile": self = .tile(repeats: try a.ints("repeats"))
        default: return nil
        }
    }
}

extension TrainingOp {
    /// See `Op.kindName`.
    public var name: String {
        switch self {
        case .gradient(let op): op.name
        case .seRKD(let op): op.name
        case .loss(let op): op.name
        case .optimizer(let op): op.name
        case .collective(let op): op.name
        }
    }

    /// See `Op.attributes`.
    public var attributes: [(name: String, value: AttributeValue)] {
        switch self {
        case .gradient(let op): op.attributes
        case .seRKD(let op): op.attributes
        case .loss(let op): op.attributes
        case .optimizer(let op): op.attributes
        case .collective(let op): op.attributes
        }
    }

    /// The training op `reader` names, or nil when its kind name is not a training op.
    init?(_ a: AttributeReader) throws {
        if let op = try GradientOp(a) {
            self = .gradient(op)
        } else if let op = try SeRKDOp(a) {
            self = .seRKD(op)
        } else if let op = try LossOp(a) {
            self = .loss(op)
        } else if let op = try OptimizerOp(a) {
            self = .optimizer(op)
        } else if let op = try CollectiveOp(a) {
            self = .collective(op)
        } else {
            return nil
        }
    }
}

extension GradientOp {
    /// See `Op.kindName`.
    public var name: String {
        switch self {
        case .convBackwardData: "conv_backward_data"
        case .convBackwardWeight: "conv_backward_weight"
        case .maxPoolBackward: "maxpool_backward"
        case .averagePoolBackward: "avgpool_backward"
        case .unaryBackward(let f): "\(f.name)_backward"
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

    /// See `Op.attributes`.
    public var attributes: [(name: String, value: AttributeValue)] {
        switch self {
        case .convBackwardData(let c, let size): c.attributes + [("input_size", .ints(size))]
        case .convBackwardWeight(let c, let size): c.attributes + [("kernel_size", .ints(size))]
        case .maxPoolBackward(let p): p.attributes(average: false)
        case .averagePoolBackward(let p, let size): p.attributes(average: true) + [("input_size", .ints(size))]
        case .unaryBackward(let f): f.attributes
        case .softmaxBackward(let axis), .logSoftmaxBackward(let axis), .layerNormBackward(let axis): [("axis", .int(axis))]
        case .batchNormTraining(let epsilon, let momentum): [("epsilon", .float(epsilon)), ("momentum", .float(momentum))]
        case .batchNormBackward: []
        case .scatterAdd(let axis, let shape): [("axis", .int(axis)), ("data_shape", .ints(shape.dims))]
        case .sliceBackward(let slice, let shape): slice.attributes + [("input_shape", .ints(shape.dims))]
        case .dropout(let ratio, let seed, let perSample): [("ratio", .float(ratio)), ("seed", .int(seed)), ("per_sample", .int(perSample ? 1 : 0))]
        }
    }

    /// The op `reader` names, or nil when its kind name is not one of these.
    init?(_ a: AttributeReader) throws {
        if a.kindName.hasSuffix("_backward"),
           let f = try UnaryFunction(AttributeReader(kindName: String(a.kindName.dropLast("_backward".count)), attributes: a.attributes)) {
            self = .unaryBackward(f)
            return
        }
        switch a.kindName {
        case "conv_backward_data": self = .convBackwardData(try Convolution(a), inputSize: try a.ints("input_size"))
        case "conv_backward_weight": self = .convBackwardWeight(try Convolution(a), kernelSize: try a.ints("kernel_size"))
        case "maxpool_backward": self = .maxPoolBackward(try Pooling(a, average: false))
        case "avgpool_backward": self = .averagePoolBackward(try Pooling(a, average: true), inputSize: try a.ints("input_size"))
        case "softmax_backward": self = .softmaxBackward(axis: try a.int("axis"))
        case "log_softmax_backward": self = .logSoftmaxBackward(axis: try a.int("axis"))
        case "layernorm_backward": self = .layerNormBackward(axis: try a.int("axis"))
        case "batchnorm_training": self = .batchNormTraining(epsilon: try a.float("epsilon"), momentum: try a.float("momentum"))
        case "batchnorm_backward": self = .batchNormBackward
        case "scatter_add": self = .scatterAdd(axis: try a.int("axis"), dataShape: Shape(try a.ints("data_shape")))
        case "slice_backward": self = .sliceBackward(try Slice(a), inputShape: Shape(try a.ints("input_shape")))
        case "dropout": self = .dropout(ratio: try a.float("ratio"), seed: try a.int("seed"), perSample: try a.bool("per_sample"))
        default: return nil
        }
    }
}

extension SeRKDOp {
    /// See `Op.kindName`.
    public var name: String {
        switch self {
        case .superpixelTokens: "superpixel_tokens"
        case .rkdDistance: "rkd_distance"
        case .rkdDistanceBackward: "rkd_distance_backward"
        case .rkdAngle: "rkd_angle"
        case .rkdAngleBackward: "rkd_angle_backward"
        }
    }

    /// See `Op.attributes`.
    public var attributes: [(name: String, value: AttributeValue)] {
        switch self {
        case .superpixelTokens(let c):
            [("height", .int(c.height)), ("width", .int(c.width)), ("grid", .int(c.grid)),
             ("iterations", .int(c.iterations)), ("border", .string(c.border.rawValue))]
        case .rkdDistance(let perImage), .rkdDistanceBackward(let perImage): [("per_image_mean", .int(perImage ? 1 : 0))]
        case .rkdAngle(let chunk), .rkdAngleBackward(let chunk): [("chunk", .int(chunk))]
        }
    }

    /// The op `reader` names, or nil when its kind name is not one of these.
    init?(_ a: AttributeReader) throws {
        switch a.kindName {
        case "superpixel_tokens":
            guard let border = SuperpixelBorder(rawValue: try a.string("border")) else { throw InvalidInput(nil, "unknown superpixel border") }
            self = .superpixelTokens(SuperpixelClustering(height: try a.int("height"), width: try a.int("width"), grid: try a.int("grid"),
                                                          iterations: try a.int("iterations"), border: border))
        case "rkd_distance": self = .rkdDistance(perImageMean: try a.bool("per_image_mean"))
        case "rkd_distance_backward": self = .rkdDistanceBackward(perImageMean: try a.bool("per_image_mean"))
        case "rkd_angle": self = .rkdAngle(chunk: try a.int("chunk"))
        case "rkd_angle_backward": self = .rkdAngleBackward(chunk: try a.int("chunk"))
        default: return nil
        }
    }
}

extension LossOp {
    /// See `Op.kindName`.
    public var name: String {
        switch self {
        case .distillationKL: "distillation_kl"
        case .distillationKLBackward: "distillation_kl_backward"
        }
    }

    /// See `Op.attributes`.
    public var attributes: [(name: String, value: AttributeValue)] {
        switch self {
        case .distillationKL(let temperature), .distillationKLBackward(let temperature): [("temperature", .float(temperature))]
        }
    }

    /// The op `reader` names, or nil when its kind name is not one of these.
    init?(_ a: AttributeReader) throws {
        switch a.kindName {
        case "distillation_kl": self = .distillationKL(temperature: try a.float("temperature"))
        case "distillation_kl_backward": self = .distillationKLBackward(temperature: try a.float("temperature"))
        default: return nil
        }
    }
}

extension OptimizerOp {
    /// See `Op.kindName`.
    public var name: String {
        switch self {
        case .adamW: "adamw"
        case .sgd: "sgd"
        }
    }

    /// See `Op.attributes`.
    public var attributes: [(name: String, value: AttributeValue)] {
        switch self {
        case .adamW(let b1, let b2, let eps, let wd): [("beta1", .float(b1)), ("beta2", .float(b2)), ("epsilon", .float(eps)), ("weight_decay", .float(wd))]
        case .sgd(let momentum, let nesterov, let wd): [("momentum", .float(momentum)), ("nesterov", .int(nesterov ? 1 : 0)), ("weight_decay", .float(wd))]
        }
    }

    /// The op `reader` names, or nil when its kind name is not one of these.
    init?(_ a: AttributeReader) throws {
        switch a.kindName {
        case "adamw":
            self = .adamW(beta1: try a.float("beta1"), beta2: try a.float("beta2"), epsilon: try a.float("epsilon"),
                          weightDecay: try a.float("weight_decay"))
        case "sgd": self = .sgd(momentum: try a.float("momentum"), nesterov: try a.bool("nesterov"), weightDecay: try a.float("weight_decay"))
        default: return nil
        }
    }
}

extension FusedOp {
    /// See `Op.kindName`.
    public var name: String {
        switch self {
        case .linear: "linear"
        case .convActivation: "conv_activation"
        case .attention: "attention"
        case .elementwise: "elementwise"
        }
    }

    /// See `Op.attributes`.
    public var attributes: [(name: String, value: AttributeValue)] {
        switch self {
        case .linear(let flags, let bias, let activation):
            flags.attributes + [("bias", .string(bias.rawValue)), ("activation", .string(activation?.text ?? "none"))]
        case .convActivation(let geometry, let activation): geometry.attributes + [("activation", .string(activation.text))]
        case .attention(let scale, let keysTransposed): [("scale", .float(scale)), ("keys_transposed", .int(keysTransposed ? 1 : 0))]
        case .elementwise(let program): [("inputs", .int(program.inputCount)), ("program", .string(program.text))]
        }
    }

    /// The fused op `reader` names, or nil when its kind name is not a fusion.
    init?(_ a: AttributeReader) throws {
        func activation() throws -> UnaryFunction? {
            let text = try a.string("activation")
            if text == "none" { return nil }
            guard let f = UnaryFunction(text: text) else { throw InvalidInput(nil, "\(a.kindName) has unknown activation '\(text)'") }
            return f
        }
        switch a.kindName {
        case "linear":
            guard let bias = LinearBias(rawValue: try a.string("bias")) else { throw InvalidInput(nil, "\(a.kindName) has an unknown bias kind") }
            self = .linear(try MatMul(a), bias: bias, activation: try activation())
        case "conv_activation":
            guard let f = try activation() else { throw InvalidInput(nil, "\(a.kindName) needs an activation") }
            self = .convActivation(try Convolution(a), activation: f)
        case "attention":
            self = .attention(scale: try a.float("scale"), keysTransposed: try a.bool("keys_transposed"))
        case "elementwise":
            let count = try a.int("inputs")
            guard count >= 0 else { throw InvalidInput(nil, "\(a.kindName) needs a non-negative 'inputs'") }
            self = .elementwise(try ElementwiseProgram(text: try a.string("program"), inputCount: count))
        default:
            return nil
        }
    }
}

extension UnaryFunction {
    /// The function's name in the text form.
    public var name: String {
        switch self {
        case .neg: "neg"
        case .abs: "abs"
        case .exp: "exp"
        case .log: "log"
        case .sqrt: "sqrt"
        case .reciprocal: "reciprocal"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .erf: "erf"
        case .relu: "relu"
        case .leakyRelu: "leaky_relu"
        case .gelu: "gelu"
        case .geluTanh: "gelu_tanh"
        case .hardSigmoid: "hard_sigmoid"
        case .hardSwish: "hard_swish"
        case .clip: "clip"
        }
    }

    var attributes: [(name: String, value: AttributeValue)] {
        switch self {
        case .leakyRelu(let alpha): [("alpha", .float(alpha))]
        case .hardSigmoid(let alpha, let beta): [("alpha", .float(alpha)), ("beta", .float(beta))]
        case .clip(let lo, let hi): [("min", .float(lo)), ("max", .float(hi))]
        case .neg, .abs, .exp, .log, .sqrt, .reciprocal, .sigmoid, .tanh, .erf, .relu, .gelu, .geluTanh, .hardSwish: []
        }
    }

    /// The function `reader` names, or nil when its kind name is not a unary function.
    init?(_ a: AttributeReader) throws {
        switch a.kindName {
        case "neg": self = .neg
        case "abs": self = .abs
        case "exp": self = .exp
        case "log": self = .log
        case "sqrt": self = .sqrt
        case "reciprocal": self = .reciprocal
        case "sigmoid": self = .sigmoid
        case "tanh": self = .tanh
        case "erf": self = .erf
        case "relu": self = .relu
        case "gelu": self = .gelu
        case "gelu_tanh": self = .geluTanh
        case "hard_swish": self = .hardSwish
        case "leaky_relu": self = .leakyRelu(alpha: try a.float("alpha"))
        case "hard_sigmoid": self = .hardSigmoid(alpha: try a.float("alpha"), beta: try a.float("beta"))
        case "clip": self = .clip(min: try a.float("min"), max: try a.float("max"))
        default: return nil
        }
    }
}

extension MatMul {
    var attributes: [(name: String, value: AttributeValue)] {
        [("transpose_a", .int(transposeA ? 1 : 0)), ("transpose_b", .int(transposeB ? 1 : 0))]
    }

    init(_ a: AttributeReader) throws {
        self.init(transposeA: try a.bool("transpose_a"), transposeB: try a.bool("transpose_b"))
    }
}

extension Convolution {
    var attributes: [(name: String, value: AttributeValue)] {
        [("strides", .ints(strides)), ("pads", .ints(pads)), ("dilations", .ints(dilations)), ("groups", .int(groups))]
    }

    init(_ a: AttributeReader) throws {
        self.init(strides: try a.ints("strides"), pads: try a.ints("pads"), dilations: try a.ints("dilations"), groups: try a.int("groups"))
    }
}

extension Pooling {
    /// Average pooling also records `count_include_pad`.
    func attributes(average: Bool) -> [(name: String, value: AttributeValue)] {
        [("kernel", .ints(kernel)), ("strides", .ints(strides)), ("pads", .ints(pads)), ("dilations", .ints(dilations)),
         ("ceil_mode", .int(ceilMode ? 1 : 0))] + (average ? [("count_include_pad", .int(countIncludePad ? 1 : 0))] : [])
    }

    init(_ a: AttributeReader, average: Bool) throws {
        self.init(kernel: try a.ints("kernel"), strides: try a.ints("strides"), pads: try a.ints("pads"),
                  dilations: try a.ints("dilations"), ceilMode: try a.bool("ceil_mode"),
                  countIncludePad: average ? try a.bool("count_include_pad") : false)
    }
}

extension Slice {
    var attributes: [(name: String, value: AttributeValue)] {
        [("starts", .ints(starts)), ("ends", .ints(ends)), ("steps", .ints(steps))]
    }

    init(_ a: AttributeReader) throws {
        self.init(starts: try a.ints("starts"), ends: try a.ints("ends"), steps: try a.ints("steps"))
    }
}
