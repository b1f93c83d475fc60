import Tensor

/// An attribute value in the generic form shared by the text form and the `.serkd` file.
public enum AttributeValue: Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case ints([Int])
    case float(Float)
    case string(String)

    public var description: String {
        switch self {
        case .int(let v): String(v)
        case .ints(let v): "[" + v.map(String.init).joined(separator: ",") + "]"
        case .float(let v): String(v)
        case .string(let v): v
        }
    }
}

extension Op {
    /// The op's attributes by name, in a fixed order. Together with `kindName` this describes the op
    /// completely; `init(kindName:attributes:)` inverts it.
    public var attributes: [(name: String, value: AttributeValue)] {
        switch self {
        case .unary(let f):
            switch f {
            case .leakyRelu(let alpha): return [("alpha", .float(alpha))]
            case .hardSigmoid(let alpha, let beta): return [("alpha", .float(alpha)), ("beta", .float(beta))]
            case .clip(let lo, let hi): return [("min", .float(lo)), ("max", .float(hi))]
            default: return []
            }
        case .binary, .compare, .logicalNot, .select, .identity, .globalAveragePool, .globalMaxPool: return []
        case .cast(let dtype): return [("to", .string(dtype.shortName))]
        case .matMul(let m): return [("transpose_a", .int(m.transposeA ? 1 : 0)), ("transpose_b", .int(m.transposeB ? 1 : 0))]
        case .conv(let c):
            return [("strides", .ints(c.strides)), ("pads", .ints(c.pads)), ("dilations", .ints(c.dilations)), ("groups", .int(c.groups))]
        case .maxPool(let p), .averagePool(let p):
            var list: [(String, AttributeValue)] = [("kernel", .ints(p.kernel)), ("strides", .ints(p.strides)), ("pads", .ints(p.pads)),
                                                   ("dilations", .ints(p.dilations)), ("ceil_mode", .int(p.ceilMode ? 1 : 0))]
            if case .averagePool = self { list.append(("count_include_pad", .int(p.countIncludePad ? 1 : 0))) }
            return list
        case .batchNorm(let epsilon): return [("epsilon", .float(epsilon))]
        case .layerNorm(let axis, let epsilon): return [("axis", .int(axis)), ("epsilon", .float(epsilon))]
        case .softmax(let axis), .logSoftmax(let axis): return [("axis", .int(axis))]
        case .reduce(_, let axes, let keep): return [("axes", .ints(axes)), ("keep_dims", .int(keep ? 1 : 0))]
        case .argMax(let axis, let keep, let last):
            return [("axis", .int(axis)), ("keep_dims", .int(keep ? 1 : 0)), ("select_last_index", .int(last ? 1 : 0))]
        case .reshape(let shape): return [("shape", .ints(shape.dims))]
        case .transpose(let permutation): return [("permutation", .ints(permutation))]
        case .slice(let s): return [("starts", .ints(s.starts)), ("ends", .ints(s.ends)), ("steps", .ints(s.steps))]
        case .concat(let axis), .gather(let axis): return [("axis", .int(axis))]
        case .expand(let shape): return [("shape", .ints(shape.dims))]
        case .pad(let pads, let mode, let value): return [("pads", .ints(pads)), ("mode", .string(mode.rawValue)), ("value", .float(value))]
        case .tile(let repeats): return [("repeats", .ints(repeats))]
        case .convBackwardData(let c, let size): return Op.conv(c).attributes + [("input_size", .ints(size))]
        case .convBackwardWeight(let c, let size): return Op.conv(c).attributes + [("kernel_size", .ints(size))]
        case .maxPoolBackward(let p): return Op.maxPool(p).attributes
        case .averagePoolBackward(let p, let size): return Op.averagePool(p).attributes + [("input_size", .ints(size))]
        case .unaryBackward(let f): return Op.unary(f).attributes
        case .softmaxBackward(let axis), .logSoftmaxBackward(let axis), .layerNormBackward(let axis): return [("axis", .int(axis))]
        case .batchNormTraining(let epsilon, let momentum): return [("epsilon", .float(epsilon)), ("momentum", .float(momentum))]
        case .batchNormBackward: return []
        case .scatterAdd(let axis, let shape): return [("axis", .int(axis)), ("data_shape", .ints(shape.dims))]
        case .sliceBackward(let slice, let shape): return Op.slice(slice).attributes + [("input_shape", .ints(shape.dims))]
        case .dropout(let ratio, let seed, let perSample):
            return [("ratio", .float(ratio)), ("seed", .int(seed)), ("per_sample", .int(perSample ? 1 : 0))]
        case .superpixelTokens(let c):
            return [("height", .int(c.height)), ("width", .int(c.width)), ("grid", .int(c.grid)),
                    ("iterations", .int(c.iterations)), ("border", .string(c.border.rawValue))]
        case .rkdDistance(let perImage), .rkdDistanceBackward(let perImage): return [("per_image_mean", .int(perImage ? 1 : 0))]
        case .rkdAngle(let chunk), .rkdAngleBackward(let chunk): return [("chunk", .int(chunk))]
        case .distillationKL(let temperature), .distillationKLBackward(let temperature): return [("temperature", .float(temperature))]
        case .adamW(let b1, let b2, let eps, let wd):
            return [("beta1", .float(b1)), ("beta2", .float(b2)), ("epsilon", .float(eps)), ("weight_decay", .float(wd))]
        case .sgd(let momentum, let nesterov, let wd):
            return [("momentum", .float(momentum)), ("nesterov", .int(nesterov ? 1 : 0)), ("weight_decay", .float(wd))]
        case .linear, .convActivation, .attention, .elementwise: return fusedAttributes
        }
    }

    /// Rebuilds an op from its kind name and attributes, as written by `kindName` and `attributes`.
    public init(kindName: String, attributes: [String: AttributeValue]) throws {
        func int(_ key: String) throws -> Int {
            guard case .int(let v) = attributes[key] else { throw InvalidInput(nil, "\(kindName) needs integer attribute '\(key)'") }
            return v
        }
        func ints(_ key: String) throws -> [Int] {
            switch attributes[key] {
            case .ints(let v): return v
            case .int(let v): return [v]
            default: throw InvalidInput(nil, "\(kindName) needs integer list attribute '\(key)'")
            }
        }
        func float(_ key: String) throws -> Float {
            switch attributes[key] {
            case .float(let v): return v
            case .int(let v): return Float(v)
            default: throw InvalidInput(nil, "\(kindName) needs float attribute '\(key)'")
            }
        }
        func string(_ key: String) throws -> String {
            guard case .string(let v) = attributes[key] else { throw InvalidInput(nil, "\(kindName) needs string attribute '\(key)'") }
            return v
        }
        func bool(_ key: String) throws -> Bool { try int(key) != 0 }

        if let f = BinaryFunction(rawValue: kindName) { self = .binary(f); return }
        if let fused = try Op.fused(kindName: kindName, attributes: attributes) { self = fused; return }
        if kindName.hasSuffix("_backward"), kindName != "log_softmax_backward" {
            let forwardName = String(kindName.dropLast("_backward".count))
            if case .unary(let f)? = try? Op(kindName: forwardName, attributes: attributes) {
                self = .unaryBackward(f)
                return
            }
        }
        if let c = Comparison(rawValue: kindName) { self = .compare(c); return }
        if kindName.hasPrefix("reduce_"), let r = Reduction(rawValue: String(kindName.dropFirst(7))) {
            self = .reduce(r, axes: try ints("axes"), keepDims: try bool("keep_dims"))
            return
        }
        switch kindName {
        case "neg": self = .unary(.neg)
        case "abs": self = .unary(.abs)
        case "exp": self = .unary(.exp)
        case "log": self = .unary(.log)
        case "sqrt": self = .unary(.sqrt)
        case "reciprocal": self = .unary(.reciprocal)
        case "sigmoid": self = .unary(.sigmoid)
        case "tanh": self = .unary(.tanh)
        case "erf": self = .unary(.erf)
        case "relu": self = .unary(.relu)
        case "gelu": self = .unary(.gelu)
        case "gelu_tanh": self = .unary(.geluTanh)
        case "hard_swish": self = .unary(.hardSwish)
        case "leaky_relu": self = .unary(.leakyRelu(alpha: try float("alpha")))
        case "hard_sigmoid": self = .unary(.hardSigmoid(alpha: try float("alpha"), beta: try float("beta")))
        case "clip": self = .unary(.clip(min: try float("min"), max: try float("max")))
        case "not": self = .logicalNot
        case "select": self = .select
        case "identity": self = .identity
        case "global_avgpool": self = .globalAveragePool
        case "global_maxpool": self = .globalMaxPool
        case "cast":
            guard let dtype = DType(shortName: try string("to")) else { throw InvalidInput(nil, "cast to unknown dtype") }
            self = .cast(dtype)
        case "matmul": self = .matMul(MatMul(transposeA: try bool("transpose_a"), transposeB: try bool("transpose_b")))
        case "conv":
            self = .conv(Convolution(strides: try ints("strides"), pads: try ints("pads"), dilations: try ints("dilations"), groups: try int("groups")))
        case "maxpool", "avgpool":
            let pool = Pooling(kernel: try ints("kernel"), strides: try ints("strides"), pads: try ints("pads"),
                               dilations: try ints("dilations"), ceilMode: try bool("ceil_mode"),
                               countIncludePad: kindName == "avgpool" ? try bool("count_include_pad") : false)
            self = kindName == "maxpool" ? .maxPool(pool) : .averagePool(pool)
        case "batchnorm": self = .batchNorm(epsilon: try float("epsilon"))
        case "layernorm": self = .layerNorm(axis: try int("axis"), epsilon: try float("epsilon"))
        case "softmax": self = .softmax(axis: try int("axis"))
        case "log_softmax": self = .logSoftmax(axis: try int("axis"))
        case "argmax": self = .argMax(axis: try int("axis"), keepDims: try bool("keep_dims"), selectLastIndex: try bool("select_last_index"))
        case "reshape": self = .reshape(Shape(try ints("shape")))
        case "transpose": self = .transpose(permutation: try ints("permutation"))
        case "slice": self = .slice(Slice(starts: try ints("starts"), ends: try ints("ends"), steps: try ints("steps")))
        case "concat": self = .concat(axis: try int("axis"))
        case "gather": self = .gather(axis: try int("axis"))
        case "expand": self = .expand(Shape(try ints("shape")))
        case "pad":
            guard let mode = PadMode(rawValue: try string("mode")) else { throw InvalidInput(nil, "pad has unknown mode") }
            self = .pad(pads: try ints("pads"), mode: mode, value: try float("value"))
        case "tile": self = .tile(repeats: try ints("repeats"))
        case "conv_backward_data", "conv_backward_weight":
            guard case .conv(let c) = try Op(kindName: "conv", attributes: attributes) else { preconditionFailure() }
            self = kindName == "conv_backward_data" ? .convBackwardData(c, inputSize: try ints("input_size"))
                : .convBackwardWeight(c, kernelSize: try ints("kernel_size"))
        case "maxpool_backward":
            guard case .maxPool(let p) = try Op(kindName: "maxpool", attributes: attributes) else { preconditionFailure() }
            self = .maxPoolBackward(p)
        case "avgpool_backward":
            guard case .averagePool(let p) = try Op(kindName: "avgpool", attributes: attributes) else { preconditionFailure() }
            self = .averagePoolBackward(p, inputSize: try ints("input_size"))
        case "softmax_backward": self = .softmaxBackward(axis: try int("axis"))
        case "log_softmax_backward": self = .logSoftmaxBackward(axis: try int("axis"))
        case "layernorm_backward": self = .layerNormBackward(axis: try int("axis"))
        case "batchnorm_training": self = .batchNormTraining(epsilon: try float("epsilon"), momentum: try float("momentum"))
        case "batchnorm_backward": self = .batchNormBackward
        case "scatter_add": self = .scatterAdd(axis: try int("axis"), dataShape: Shape(try ints("data_shape")))
        case "slice_backward":
            guard case .slice(let slice) = try Op(kindName: "slice", attributes: attributes) else { preconditionFailure() }
            self = .sliceBackward(slice, inputShape: Shape(try ints("input_shape")))
        case "dropout": self = .dropout(ratio: try float("ratio"), seed: try int("seed"), perSample: try bool("per_sample"))
        case "superpixel_tokens":
            guard let border = SuperpixelBorder(rawValue: try string("border")) else { throw InvalidInput(nil, "unknown superpixel border") }
            self = .superpixelTokens(SuperpixelClustering(height: try int("height"), width: try int("width"), grid: try int("grid"),
                                                          iterations: try int("iterations"), border: border))
        case "rkd_distance": self = .rkdDistance(perImageMean: try bool("per_image_mean"))
        case "rkd_distance_backward": self = .rkdDistanceBackward(perImageMean: try bool("per_image_mean"))
        case "rkd_angle": self = .rkdAngle(chunk: try int("chunk"))
        case "rkd_angle_backward": self = .rkdAngleBackward(chunk: try int("chunk"))
        case "distillation_kl": self = .distillationKL(temperature: try float("temperature"))
        case "distillation_kl_backward": self = .distillationKLBackward(temperature: try float("temperature"))
        case "adamw":
            self = .adamW(beta1: try float("beta1"), beta2: try float("beta2"), epsilon: try float("epsilon"), weightDecay: try float("weight_decay"))
        case "sgd": self = .sgd(momentum: try float("momentum"), nesterov: try bool("nesterov"), weightDecay: try float("weight_decay"))
        default: throw InvalidInput(nil, "unknown op '\(kindName)'")
        }
    }
}
