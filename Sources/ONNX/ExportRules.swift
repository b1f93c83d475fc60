import GraphIR

// How each core op is written as ONNX: one standard op where the opset has it, else a short
// composition with the same semantics (the importer's lowering, read backwards).
extension Exporter {
    /// Emits the ONNX nodes of `node` (the current node).
    mutating func export(_ node: Node) throws {
        let x = node.inputs.map(name)
        let y = outputNames
        let inputType = node.inputs.first.map { graph.type(of: $0) }
        let op: CoreOp
        switch node.op {
        case .core(let core): op = core
        case .training: throw InvalidInput(nil, "node '\(node.name)' (\(node.op.kindName)) is a training op; export takes inference graphs")
        case .fused: throw InvalidInput(nil, "node '\(node.name)' (\(node.op.kindName)) is a compiler fusion; export takes graphs before compilation")
        }
        switch op {
        case .unary(let function): unary(function, x[0], y[0], dtype: inputType!.dtype)
        case .binary(let function): emit(function.onnxName, x, y)
        case .compare(let comparison): emit(comparison.onnxName, x, y)
        case .logicalNot: emit("Not", x, y)
        case .select: emit("Where", x, y)
        case .cast(let dtype): emit("Cast", x, y, [.int("to", Int(dtype.rawValue))])
        case .identity: emit("Identity", x, y)
        case .matMul(let flags): matMul(flags, x, y)
        case .conv(let c):
            let kernel = Array(graph.type(of: node.inputs[1]).shape.dims[2...])
            emit("Conv", x, y, [.ints("kernel_shape", kernel), .ints("strides", c.strides), .ints("pads", c.pads),
                                .ints("dilations", c.dilations), .int("group", c.groups)])
        case .maxPool(let p):
            emit("MaxPool", x, y, [.ints("kernel_shape", p.kernel), .ints("strides", p.strides), .ints("pads", p.pads),
                                   .ints("dilations", p.dilations), .int("ceil_mode", p.ceilMode ? 1 : 0)])
        case .averagePool(let p): try averagePool(p, x, y)
        case .globalAveragePool: emit("GlobalAveragePool", x, y)
        case .globalMaxPool: emit("GlobalMaxPool", x, y)
        case .batchNorm(let epsilon): emit("BatchNormalization", x, y, [.float("epsilon", epsilon)])
        case .layerNorm(let axis, let epsilon): layerNorm(axis: axis, epsilon: epsilon, x, rank: inputType!.shape.rank)
        case .softmax(let axis): emit("Softmax", x, y, [.int("axis", axis)])
        case .logSoftmax(let axis): emit("LogSoftmax", x, y, [.int("axis", axis)])
        case .reduce(let kind, let axes, let keepDims): reduce(kind, axes: axes, keepDims: keepDims, x[0], y[0])
        case .argMax(let axis, let keepDims, let last):
            emit("ArgMax", x, y, [.int("axis", axis), .int("keepdims", keepDims ? 1 : 0), .int("select_last_index", last ? 1 : 0)])
        case .reshape(let shape): try reshape(shape, x[0], y[0])
        case .transpose(let permutation): emit("Transpose", x, y, [.ints("perm", permutation)])
        case .slice(let window): slice(window, x[0], y[0], shape: inputType!.shape)
        case .concat(let axis): concat(axis: axis, x, y)
        case .gather(let axis): emit("Gather", x, y, [.int("axis", axis)])
        case .expand(let shape): expand(shape, x[0], y[0], inputRank: inputType!.shape.rank)
        case .pad(let pads, let mode, let value):
            let fill = mode == .constant ? scalar(Double(value), "value", dtype: inputType!.dtype) : ""
            emit("Pad", [x[0], integers(pads, "pads"), fill], y, [.string("mode", mode.rawValue)])
        case .tile(let repeats): emit("Tile", [x[0], integers(repeats, "repeats")], y)
        }
    }

    private mutating func unary(_ function: UnaryFunction, _ x: String, _ y: String, dtype: DType) {
        switch function {
        case .neg: emit("Neg", [x], [y])
        case .abs: emit("Abs", [x], [y])
        case .exp: emit("Exp", [x], [y])
        case .log: emit("Log", [x], [y])
        case .sqrt: emit("Sqrt", [x], [y])
        case .reciprocal: emit("Reciprocal", [x], [y])
        case .sigmoid: emit("Sigmoid", [x], [y])
        case .tanh: emit("Tanh", [x], [y])
        case .erf: emit("Erf", [x], [y])
        case .relu:
            // Relu takes integers from opset 14; before, max(x, 0) says the same.
            if dtype == .float32 || opset >= 14 {
                emit("Relu", [x], [y])
            } else {
                emit("Max", [x, scalar(0, "zero", dtype: dtype)], [y])
            }
        case .leakyRelu(let alpha): emit("LeakyRelu", [x], [y], [.float("alpha", alpha)])
        case .hardSigmoid(let alpha, let beta): emit("HardSigmoid", [x], [y], [.float("alpha", alpha), .float("beta", beta)])
        case .hardSwish:
            if opset >= 14 {
                emit("HardSwish", [x], [y])
            } else {
                let gate = emitValue("HardSigmoid", [x], [.float("alpha", 1 / 6), .float("beta", 0.5)], label: "gate")
                emit("Mul", [x, gate], [y])
            }
        case .clip(let low, let high):
            // An infinite bound is an omitted input: no bound on that side.
            let lowBound = low.isFinite ? scalar(Double(low), "min") : ""
            let highBound = high.isFinite ? scalar(Double(high), "max") : ""
            emit("Clip", [x, lowBound, highBound], [y])
        case .gelu:
            if opset >= 20 {
                emit("Gelu", [x], [y])
            } else {
                // x·0.5·(1 + erf(x/√2))
                let scaled = emitValue("Div", [x, scalar(2.0.squareRoot(), "sqrt2")], label: "scaled")
                let erf = emitValue("Erf", [scaled], label: "erf")
                let shifted = emitValue("Add", [erf, scalar(1, "one")], label: "shifted")
                let product = emitValue("Mul", [x, shifted], label: "product")
                emit("Mul", [product, scalar(0.5, "half")], [y])
            }
        case .geluTanh:
            if opset >= 20 {
                emit("Gelu", [x], [y], [.string("approximate", "tanh")])
            } else {
                // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
                let square = emitValue("Mul", [x, x], label: "square")
                let cube = emitValue("Mul", [square, x], label: "cube")
                let cubic = emitValue("Mul", [cube, scalar(0.044715, "coefficient")], label: "cubic")
                let inner = emitValue("Add", [x, cubic], label: "inner")
                let scaled = emitValue("Mul", [inner, scalar((2 / Double.pi).squareRoot(), "sqrt_2_over_pi")], label: "scaled")
                let tanh = emitValue("Tanh", [scaled], label: "tanh")
                let shifted = emitValue("Add", [tanh, scalar(1, "one")], label: "shifted")
                let product = emitValue("Mul", [x, shifted], label: "product")
                emit("Mul", [product, scalar(0.5, "half")], [y])
            }
        }
    }

    /// `MatMul`, or `Gemm` for two matrices with transposes, or `Transpose` + `MatMul`.
    private mutating func matMul(_ flags: MatMul, _ x: [String], _ y: [String]) {
        if !flags.transposeA && !flags.transposeB {
            emit("MatMul", x, y)
            return
        }
        let ranks = node.inputs.map { graph.type(of: $0).shape.rank }
        if ranks == [2, 2] {
            var attributes: [ExportedAttribute] = []
            if flags.transposeA { attributes.append(.int("transA", 1)) }
            if flags.transposeB { attributes.append(.int("transB", 1)) }
            emit("Gemm", x, y, attributes)
            return
        }
        var operands = x
        for (index, transposed) in [flags.transposeA, flags.transposeB].enumerated() where transposed {
            let rank = ranks[index]
            let permutation = Array(0..<(rank - 2)) + [rank - 1, rank - 2]
            operands[index] = emitValue("Transpose", [x[index]], [.ints("perm", permutation)], label: index == 0 ? "a_t" : "b_t")
        }
        emit("MatMul", operands, y)
    }

    private mutating func averagePool(_ p: Pooling, _ x: [String], _ y: [String]) throws {
        var attributes: [ExportedAttribute] = [.ints("kernel_shape", p.kernel), .ints("strides", p.strides), .ints("pads", p.pads),
                                               .int("ceil_mode", p.ceilMode ? 1 : 0), .int("count_include_pad", p.countIncludePad ? 1 : 0)]
        if p.dilations != [1, 1] {
            guard opset >= 19 else {
                throw InvalidInput(nil, "node '\(node.name)' (avgpool) has dilations \(p.dilations), which AveragePool takes from opset 19 (use --opset 19)")
            }
            attributes.append(.ints("dilations", p.dilations))
        }
        emit("AveragePool", x, y, attributes)
    }

    /// `LayerNormalization` from opset 17 (with only the statistics outputs something reads);
    /// before, its definition spelt out: (x − mean)·(var + ε)^−½·scale + bias.
    private mutating func layerNorm(axis: Int, epsilon: Float, _ x: [String], rank: Int) {
        let y = outputNames
        if opset >= 17 {
            emit("LayerNormalization", x, y, [.int("axis", axis), .float("epsilon", epsilon)])
            return
        }
        let axes: [ExportedAttribute] = [.ints("axes", Array(axis..<rank)), .int("keepdims", 1)]
        let mean = y[1].isEmpty ? temporary("mean") : y[1]
        emit("ReduceMean", [x[0]], [mean], axes, label: "mean")
        let centred = emitValue("Sub", [x[0], mean], label: "centred")
        let squares = emitValue("Mul", [centred, centred], label: "squares")
        let variance = emitValue("ReduceMean", [squares], axes, label: "variance")
        let shifted = emitValue("Add", [variance, scalar(Double(epsilon), "epsilon")], label: "shifted")
        let deviation = emitValue("Sqrt", [shifted], label: "deviation")
        let inverse = y[2].isEmpty ? temporary("inverse") : y[2]
        emit("Reciprocal", [deviation], [inverse], label: "inverse")
        let normalized = emitValue("Mul", [centred, inverse], label: "normalized")
        if x.count > 2 {
            let scaled = emitValue("Mul", [normalized, x[1]], label: "scaled")
            emit("Add", [scaled, x[2]], [y[0]])
        } else {
            emit("Mul", [normalized, x[1]], [y[0]])
        }
    }

    /// `ReduceSum` takes its axes as an input from opset 13, the other reductions from opset 18.
    private mutating func reduce(_ kind: Reduction, axes: [Int], keepDims: Bool, _ x: String, _ y: String) {
        let opType = switch kind {
        case .sum: "ReduceSum"
        case .mean: "ReduceMean"
        case .max: "ReduceMax"
        case .min: "ReduceMin"
        }
        let keep = ExportedAttribute.int("keepdims", keepDims ? 1 : 0)
        if kind == .sum || opset >= 18 {
            emit(opType, [x, integers(axes, "axes")], [y], [keep])
        } else {
            emit(opType, [x], [y], [.ints("axes", axes), keep])
        }
    }

    /// `Reshape` to a constant target; with a symbolic batch the batch axis is -1, for ONNX to infer.
    private mutating func reshape(_ shape: Shape, _ x: String, _ y: String) throws {
        var target = shape.dims
        if let axis = batch?.axes[node.outputs[0]] { target[axis.axis] = -1 }
        var attributes: [ExportedAttribute] = []
        if target.contains(0) {
            // Without allowzero a 0 copies the input's extent.
            guard opset >= 14, !target.contains(-1) else {
                throw InvalidInput(nil, "node '\(node.name)' (reshape) to the empty shape \(shape) needs opset 14 and a fixed batch")
            }
            attributes.append(.int("allowzero", 1))
        }
        emit("Reshape", [x, integers(target, "shape")], [y], attributes)
    }

    /// `Slice` over the axes the window narrows. A negative step reaching index 0 has end -1 in the
    /// IR, which ONNX reads as "the last index"; the smallest int64 says "before the first".
    private mutating func slice(_ window: GraphIR.Slice, _ x: String, _ y: String, shape: Shape) {
        var starts: [Int] = [], ends: [Int] = [], axes: [Int] = [], steps: [Int] = []
        for axis in 0..<shape.rank where !(window.starts[axis] == 0 && window.steps[axis] == 1 && window.ends[axis] == shape[axis]) {
            starts.append(window.starts[axis])
            ends.append(window.steps[axis] < 0 && window.ends[axis] < 0 ? Int.min : window.ends[axis])
            axes.append(axis)
            steps.append(window.steps[axis])
        }
        if axes.isEmpty {
            emit("Identity", [x], [y])
            return
        }
        emit("Slice", [x, integers(starts, "starts"), integers(ends, "ends"), integers(axes, "axes"), integers(steps, "steps")], [y])
    }

    /// `Concat`; batch-free operands the batch analysis asks for are first broadcast to the batch.
    private mutating func concat(axis: Int, _ x: [String], _ y: [String]) {
        var operands = x
        if let batch, let positions = batch.replicatedOperands[nodeIndex], let state = batch.axes[node.outputs[0]] {
            for position in positions.sorted() {
                let dims = graph.type(of: node.inputs[position]).shape.dims
                let target = shapeWithBatch(dims, axis: state.axis, "replicated\(position)/shape")
                operands[position] = emitValue("Expand", [x[position], target], label: "replicated\(position)")
            }
        }
        emit("Concat", operands, y, [.int("axis", axis)])
    }

    /// `Expand`. With a symbolic batch, a batched input keeps its own batch extent (1 in the
    /// target); a batch-free input broadcast to the batch gets the run-time batch in its target.
    private mutating func expand(_ shape: Shape, _ x: String, _ y: String, inputRank: Int) {
        var target = shape.dims
        if let batch, let axis = batch.axes[node.outputs[0]] {
            if batch.replicatingExpands.contains(nodeIndex) {
                emit("Expand", [x, shapeWithBatch(target, axis: axis.axis, "shape")], [y])
                return
            }
            target[axis.axis] = 1
        }
        emit("Expand", [x, integers(target, "shape")], [y])
    }
}

extension BinaryFunction {
    /// The ONNX op type.
    var onnxName: String {
        switch self {
        case .add: "Add"
        case .sub: "Sub"
        case .mul: "Mul"
        case .div: "Div"
        case .pow: "Pow"
        case .max: "Max"
        case .min: "Min"
        }
    }
}

extension Comparison {
    /// The ONNX op type.
    var onnxName: String {
        switch self {
        case .equal: "Equal"
        case .less: "Less"
        case .lessOrEqual: "LessOrEqual"
        case .greater: "Greater"
        case .greaterOrEqual: "GreaterOrEqual"
        }
    }
}
