import GraphIR

/// Adds PyTorch modules to a graph as core ops, naming each weight by its state-dict key and each
/// module's output by its module path (`blocks.3.attn`, `layer2`), so taps and checkpoints use
/// PyTorch's names. Where nested modules return the same tensor, the outermost module names it (the
/// output of `blocks.11` is named `blocks`, that of `layer1.1` is named `layer1`); a value with no
/// module of its own is named `<module>.<step>`.
struct NetworkBuilder {
    var graph: Graph
    /// Seed of every weight's initial values.
    let seed: UInt64

    init(name: String, seed: UInt64) {
        graph = Graph(name: name)
        self.seed = seed
    }

    /// A trainable weight.
    mutating func parameter(_ name: String, _ shape: Shape, _ initialization: WeightInitialization) -> ValueID {
        graph.addParameter(name, initialization.tensor(shape, name: name, seed: seed))
    }

    /// A float32 scalar the architecture fixes (attention scale, head average).
    mutating func scalar(_ value: Float, name: String) -> ValueID {
        graph.addConstant(name, Tensor(scalar: value))
    }

    /// `nn.Linear`: x·Wᵀ + b over the last axis of `x`, weight [outputs, inputs] as PyTorch stores it.
    mutating func linear(_ x: ValueID, outputs: Int, weight: WeightInitialization, bias: WeightInitialization,
                         module: String, name: String? = nil) throws -> ValueID {
        let inputs = graph.type(of: x).shape.dims.last!
        let w = parameter("\(module).weight", [outputs, inputs], weight)
        let b = parameter("\(module).bias", [outputs], bias)
        let product = try graph.apply1(.matMul(MatMul(transposeB: true)), [x, w], name: "\(module).matmul")
        return try graph.apply1(.binary(.add), [product, b], name: name ?? module)
    }

    /// `nn.LayerNorm` over the last axis, weight 1 and bias 0.
    mutating func layerNorm(_ x: ValueID, epsilon: Float, module: String) throws -> ValueID {
        let shape = graph.type(of: x).shape
        let width = shape.dims.last!
        let scale = parameter("\(module).weight", [width], .ones)
        let bias = parameter("\(module).bias", [width], .zeros)
        return try graph.apply(.layerNorm(axis: shape.rank - 1, epsilon: epsilon), [x, scale, bias], name: module,
                               outputNames: [module, "\(module).mean", "\(module).inverse_std"])[0]
    }

    /// `nn.Conv2d` with square kernel, stride and padding; with `bias` nil the convolution has none.
    mutating func conv(_ x: ValueID, outputs: Int, kernel: Int, stride: Int, padding: Int, weight: WeightInitialization,
                       bias: WeightInitialization?, module: String) throws -> ValueID {
        let inputs = graph.type(of: x).shape[1]
        var operands = [x, parameter("\(module).weight", [outputs, inputs, kernel, kernel], weight)]
        if let bias { operands.append(parameter("\(module).bias", [outputs], bias)) }
        let geometry = Convolution(strides: [stride, stride], pads: [padding, padding, padding, padding])
        return try graph.apply1(.conv(geometry), operands, name: module)
    }

    /// `nn.BatchNorm2d` in inference form (a training step switches it to batch statistics): weight
    /// 1, bias 0, running mean 0 and variance 1. The running statistics are state, not parameters,
    /// as they are buffers in PyTorch.
    mutating func batchNorm(_ x: ValueID, epsilon: Float, module: String, name: String? = nil) throws -> ValueID {
        let channels = graph.type(of: x).shape[1]
        let scale = parameter("\(module).weight", [channels], .ones)
        let bias = parameter("\(module).bias", [channels], .zeros)
        let mean = graph.addState("\(module).running_mean", Tensor(zeros: .float32, [channels]))
        let variance = graph.addState("\(module).running_var", Tensor([Float](repeating: 1, count: channels), shape: [channels]))
        return try graph.apply1(.batchNorm(epsilon: epsilon), [x, scale, bias, mean, variance], name: name ?? module)
    }

    /// Entry `index` of axis 1 of `x` with that axis removed: `x[:, index]`.
    mutating func token(_ x: ValueID, _ index: Int, name: String) throws -> ValueID {
        let shape = graph.type(of: x).shape
        var ends = shape.dims
        ends[1] = index + 1
        var starts = [Int](repeating: 0, count: shape.rank)
        starts[1] = index
        let window = try graph.apply1(.slice(Slice(starts: starts, ends: ends, steps: [Int](repeating: 1, count: shape.rank))), [x],
                                      name: "\(name).slice")
        var kept = shape.dims
        kept.remove(at: 1)
        return try graph.apply1(.reshape(Shape(kept)), [window], name: name)
    }
}
