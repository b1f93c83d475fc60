import GraphIR

// ONNX ops with weights or windows: convolution, pooling, normalisation, matrix products,
// softmax, reductions.
extension Importer {
    /// `Conv`, 2-D directly and 1-D as a 2-D convolution over a height of one.
    mutating func conv() throws -> [ValueID?] {
        var x = try input(0), weight = try input(1)
        let bias = try optionalInput(2)
        try requireFloat(x)
        try requireFloat(weight, "weight")
        if let bias { try requireFloat(bias, "bias") }
        let xs = type(x).shape, ws = type(weight).shape
        let spatial = xs.rank - 2
        guard spatial == 1 || spatial == 2 else { throw LoweringError.unsupported("\(max(spatial, 0))-D convolution") }
        guard ws.rank == xs.rank else { throw LoweringError.invalid("weight \(ws) does not match input \(xs)") }
        let kernel = Array(ws.dims[2...])
        if let declared = try node.ints("kernel_shape"), declared != kernel {
            throw LoweringError.invalid("kernel_shape \(declared) differs from the weight's \(kernel)")
        }
        var window = try windowGeometry(input: Array(xs.dims[2...]), kernel: kernel, dilationsSupported: true)
        let groups = try node.int("group", default: 1)
        if spatial == 1 {
            window = window.lifted()
            x = try reshape(x, [xs[0], xs[1], 1, xs[2]], "input_2d")
            weight = try reshape(weight, [ws[0], ws[1], 1, ws[2]], "weight_2d")
        }
        let convolution = Convolution(strides: window.strides, pads: window.pads, dilations: window.dilations, groups: groups)
        let inputs = [x, weight] + (bias.map { [$0] } ?? [])
        if spatial == 2 { return [try apply1(.conv(convolution), inputs)] }
        let y = try apply1(.conv(convolution), inputs, "conv_2d")
        let ys = type(y).shape
        return [try apply1(.reshape([ys[0], ys[1], ys[3]]), [y])]
    }

    /// `MaxPool` and `AveragePool`, 2-D directly and 1-D over a height of one. MaxPool's indices
    /// output is not produced; integer MaxPool runs in float32.
    mutating func pool(max isMax: Bool) throws -> [ValueID?] {
        var x = try input(0)
        if isMax && type(x).dtype == .int64 {
            // ONNX allows int8/uint8 here; float32 holds those exactly.
            x = try cast(x, to: .float32, "as_float")
            let pooled = try pool2D(x, max: true, label: "pooled")
            return [try apply1(.cast(.int64), [pooled])]
        }
        try requireFloat(x)
        return [try pool2D(x, max: isMax, label: "")]
    }

    private mutating func pool2D(_ input: ValueID, max isMax: Bool, label: String) throws -> ValueID {
        var x = input
        let xs = type(x).shape
        let spatial = xs.rank - 2
        guard spatial == 1 || spatial == 2 else { throw LoweringError.unsupported("\(max(spatial, 0))-D pooling") }
        guard let kernel = try node.ints("kernel_shape"), kernel.count == spatial else {
            throw LoweringError.invalid("kernel_shape must have \(spatial) entries")
        }
        let dilationsSupported = isMax ? opset >= 10 : opset >= 19
        var window = try windowGeometry(input: Array(xs.dims[2...]), kernel: kernel, dilationsSupported: dilationsSupported)
        var kernel2D = kernel
        if spatial == 1 {
            window = window.lifted()
            kernel2D = [1] + kernel
            x = try reshape(x, [xs[0], xs[1], 1, xs[2]], "input_2d")
        }
        let pooling = Pooling(kernel: kernel2D, strides: window.strides, pads: window.pads, dilations: window.dilations,
                              ceilMode: try node.int("ceil_mode", default: 0) != 0,
                              countIncludePad: try !isMax && node.int("count_include_pad", default: 0) != 0)
        let op: Op = isMax ? .maxPool(pooling) : .averagePool(pooling)
        if spatial == 2 { return try apply1(op, [x], label) }
        let y = try apply1(op, [x], "pool_2d")
        let ys = type(y).shape
        return try apply1(.reshape([ys[0], ys[1], ys[3]]), [y], label)
    }

    mutating func globalPool(max isMax: Bool) throws -> [ValueID?] {
        let x = try input(0)
        try requireFloat(x)
        return [try apply1(isMax ? .globalMaxPool : .globalAveragePool, [x])]
    }

    /// `BatchNormalization` in inference mode; the training-mode outputs are not produced.
    mutating func batchNorm() throws -> [ValueID?] {
        let inputs = try (0..<5).map { try input($0) }
        for value in inputs { try requireFloat(value) }
        if opset >= 14, try node.int("training_mode", default: 0) != 0 { throw LoweringError.unsupported("training_mode = 1") }
        if opset < 7, try node.int("is_test", default: 0) == 0 { throw LoweringError.unsupported("training mode (is_test = 0)") }
        if opset < 9, try node.int("spatial", default: 1) == 0 { throw LoweringError.unsupported("spatial = 0") }
        return [try apply1(.batchNorm(epsilon: try node.float("epsilon", default: 1e-5)), inputs)]
    }

    /// `LayerNormalization` with its optional mean and inverse-standard-deviation outputs.
    mutating func layerNorm() throws -> [ValueID?] {
        let x = try input(0), scale = try input(1)
        let bias = try optionalInput(2)
        try requireFloat(x)
        let along = try axis(try node.int("axis", default: -1), rank: type(x).shape.rank)
        let outputs = try apply(.layerNorm(axis: along, epsilon: try node.float("epsilon", default: 1e-5)), [x, scale] + (bias.map { [$0] } ?? []))
        return outputs.map { $0 }
    }

    /// `Softmax`/`LogSoftmax`: one axis from opset 13; before, the input is viewed as 2-D at `axis`.
    mutating func softmax(log: Bool) throws -> [ValueID?] {
        let x = try input(0)
        try requireFloat(x)
        let xs = type(x).shape
        let along = try axis(try node.int("axis", default: opset >= 13 ? -1 : 1), rank: max(xs.rank, 1))
        if opset >= 13 || along == xs.rank - 1 {
            return [try apply1(log ? .logSoftmax(axis: along) : .softmax(axis: along), [x])]
        }
        let outer = xs.dims[..<along].reduce(1, *), inner = xs.dims[along...].reduce(1, *)
        let flat = try reshape(x, [outer, inner], "coerced_2d")
        let y = try apply1(log ? .logSoftmax(axis: 1) : .softmax(axis: 1), [flat], "softmax_2d")
        return [try apply1(.reshape(xs), [y])]
    }

    /// `Gemm`: alpha·op(A)·op(B) + beta·C.
    mutating func gemm() throws -> [ValueID?] {
        let a = try input(0), b = try input(1)
        let c = try optionalInput(2)
        try requireFloat(a)
        try requireFloat(b)
        guard type(a).shape.rank == 2, type(b).shape.rank == 2 else { throw LoweringError.invalid("A and B must be matrices") }
        let alpha = try node.float("alpha", default: 1), beta = try node.float("beta", default: 1)
        let flags = MatMul(transposeA: try node.int("transA", default: 0) != 0, transposeB: try node.int("transB", default: 0) != 0)
        let addsC = c != nil && beta != 0
        var y = try apply1(.matMul(flags), [a, b], addsC || alpha != 1 ? "matmul" : "")
        if alpha != 1 {
            y = try apply1(.binary(.mul), [y, scalar(Double(alpha), .float32, "alpha")], addsC ? "scaled" : "")
        }
        if let c, addsC {
            try requireFloat(c, "C")
            let term = beta == 1 ? c : try apply1(.binary(.mul), [c, scalar(Double(beta), .float32, "beta")], "beta_c")
            y = try apply1(.binary(.add), [y, term])
        }
        return [y]
    }

    /// `MatMul` with numpy semantics: a rank-1 operand is a row (left) or column (right) whose
    /// extra axis is dropped from the result.
    mutating func matMul() throws -> [ValueID?] {
        var a = try input(0), b = try input(1)
        try requireFloat(a)
        try requireFloat(b)
        let ra = type(a).shape.rank, rb = type(b).shape.rank
        guard ra >= 1, rb >= 1 else { throw LoweringError.invalid("operands must have rank ≥ 1") }
        if ra >= 2 && rb >= 2 { return [try apply1(.matMul(MatMul()), [a, b])] }
        if ra == 1 { a = try reshape(a, [1, type(a).shape[0]], "row") }
        if rb == 1 { b = try reshape(b, [type(b).shape[0], 1], "column") }
        let y = try apply1(.matMul(MatMul()), [a, b], "matmul")
        var dims = type(y).shape.dims
        if rb == 1 { dims.removeLast() }
        if ra == 1 { dims.remove(at: dims.count - (rb == 1 ? 1 : 2)) }
        return [try apply1(.reshape(Shape(dims)), [y])]
    }

    /// `ReduceSum/Mean/Max/Min` and the composite reductions (`ReduceSumSquare`, `ReduceL1`,
    /// `ReduceL2`, `ReduceLogSum`, `ReduceLogSumExp`). Axes come from an attribute until opset 13
    /// (ReduceSum) or 18 (the others), then from an input.
    mutating func reduce(_ opType: String) throws -> [ValueID?] {
        var x = try input(0)
        let xs = type(x).shape
        let dtype = type(x).dtype
        let boolean = dtype == .bool && (opType == "ReduceMax" || opType == "ReduceMin")
        guard dtype != .bool || boolean else { throw LoweringError.unsupported("bool input") }
        let axesFromInput = opType == "ReduceSum" ? opset >= 13 : opset >= 18
        let requested = axesFromInput ? try integersInput(1, "axes") : try node.ints("axes")
        let keepDims = try node.int("keepdims", default: 1) != 0
        var axes: [Int]
        if let requested, !requested.isEmpty {
            axes = try requested.map { try axis($0, rank: xs.rank, "axes entry") }
            guard Set(axes).count == axes.count else { throw LoweringError.invalid("axes \(requested) repeat an axis") }
            axes.sort()
        } else if try node.int("noop_with_empty_axes", default: 0) != 0 {
            return [try apply1(.identity, [x])]
        } else {
            axes = Array(0..<xs.rank)
        }
        if boolean {
            // Any/all: the max/min of the values as integers.
            x = try cast(x, to: .int64, "as_integers")
            let reduced = axes.isEmpty ? x : try apply1(.reduce(opType == "ReduceMax" ? .max : .min, axes: axes, keepDims: keepDims), [x], "reduced")
            return [try apply1(.cast(.bool), [reduced])]
        }
        let reduction: Reduction
        switch opType {
        case "ReduceMean": reduction = .mean
        case "ReduceMax": reduction = .max
        case "ReduceMin": reduction = .min
        default: reduction = .sum
        }
        if reduction == .mean || ["ReduceL2", "ReduceLogSum", "ReduceLogSumExp"].contains(opType) { try requireFloat(x) }
        switch opType {
        case "ReduceSumSquare", "ReduceL2": x = try apply1(.binary(.mul), [x, x], "square")
        case "ReduceL1": x = try apply1(.unary(.abs), [x], "abs")
        case "ReduceLogSumExp": x = try apply1(.unary(.exp), [x], "exp")
        default: break
        }
        let finish: UnaryFunction? = switch opType {
        case "ReduceL2": .sqrt
        case "ReduceLogSum", "ReduceLogSumExp": .log
        default: nil
        }
        let reduced: ValueID
        if axes.isEmpty {
            reduced = try apply1(.identity, [x], finish == nil ? "" : "reduced")
        } else {
            reduced = try apply1(.reduce(reduction, axes: axes, keepDims: keepDims), [x], finish == nil ? "" : "reduced")
        }
        guard let finish else { return [reduced] }
        return [try apply1(.unary(finish), [reduced])]
    }

    /// `ArgMax`, and `ArgMin` as the argmax of the negation.
    mutating func argExtreme(max isMax: Bool) throws -> [ValueID?] {
        var x = try input(0)
        guard type(x).dtype != .bool else { throw LoweringError.unsupported("bool input") }
        let along = try axis(try node.int("axis", default: 0), rank: type(x).shape.rank)
        if !isMax { x = try apply1(.unary(.neg), [x], "negated") }
        let op = Op.argMax(axis: along, keepDims: try node.int("keepdims", default: 1) != 0,
                           selectLastIndex: try node.int("select_last_index", default: 0) != 0)
        return [try apply1(op, [x])]
    }

    /// Strides, pads and dilations of a convolution or pooling window, with `auto_pad` resolved.
    private func windowGeometry(input: [Int], kernel: [Int], dilationsSupported: Bool) throws -> Window {
        let spatial = input.count
        let strides = try node.ints("strides") ?? Array(repeating: 1, count: spatial)
        let dilations = (dilationsSupported ? try node.ints("dilations") : nil) ?? Array(repeating: 1, count: spatial)
        var pads = try node.ints("pads") ?? Array(repeating: 0, count: 2 * spatial)
        guard strides.count == spatial, dilations.count == spatial, pads.count == 2 * spatial else {
            throw LoweringError.invalid("strides, dilations and pads must describe \(spatial) spatial axes")
        }
        // Bounded so that window arithmetic on hostile values cannot overflow.
        let limit = 1 << 20
        guard (strides + dilations + kernel).allSatisfy({ (1...limit).contains($0) }), pads.allSatisfy({ (0...limit).contains($0) }) else {
            throw LoweringError.invalid("strides, dilations and kernel must be in 1…\(limit) and pads in 0…\(limit)")
        }
        // Padding beyond the input and the window only adds planes of padding: a million-row pad on
        // a small image asks for terabytes. Refused rather than allocated.
        for (index, pad) in pads.enumerated() {
            let axis = index % spatial, span = dilations[axis] * (kernel[axis] - 1) + 1
            guard pad <= input[axis] + span else {
                throw LoweringError.invalid("pads \(pads) exceed the input \(input) and the window \(kernel)")
            }
        }
        switch try node.string("auto_pad", default: "NOTSET") {
        case "NOTSET", "": break
        case "VALID": pads = Array(repeating: 0, count: 2 * spatial)
        case let mode where mode == "SAME_UPPER" || mode == "SAME_LOWER":
            for axis in 0..<spatial {
                let output = (input[axis] + strides[axis] - 1) / strides[axis]
                let total = max(0, (output - 1) * strides[axis] + (kernel[axis] - 1) * dilations[axis] + 1 - input[axis])
                let small = total / 2
                pads[axis] = mode == "SAME_UPPER" ? small : total - small
                pads[axis + spatial] = total - pads[axis]
            }
        case let other: throw LoweringError.unsupported("auto_pad '\(other)'")
        }
        return Window(strides: strides, pads: pads, dilations: dilations)
    }
}

/// Window geometry in ONNX's layout (pads: all begins, then all ends), which for two spatial axes
/// is the IR's [top, left, bottom, right].
private struct Window {
    var strides: [Int]
    var pads: [Int]
    var dilations: [Int]

    /// The 1-D window as a 2-D one over a height of one.
    func lifted() -> Window {
        Window(strides: [1] + strides, pads: [0, pads[0], 0, pads[1]], dilations: [1] + dilations)
    }
}
