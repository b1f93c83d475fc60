import Tensor

extension Op {
    /// The types of this op's outputs for inputs of the given types, or an error saying which
    /// constraint the inputs break.
    public func outputTypes(for inputs: [TensorType]) throws -> [TensorType] {
        switch self {
        case .core(let op): try op.outputTypes(for: inputs)
        case .training(let op): try op.outputTypes(for: inputs)
        case .fused(let op): try op.outputTypes(for: inputs)
        }
    }
}

extension CoreOp {
    /// See `Op.outputTypes(for:)`.
    func outputTypes(for inputs: [TensorType]) throws -> [TensorType] {
        func arity(_ allowed: ClosedRange<Int>) throws {
            guard allowed.contains(inputs.count) else {
                let expected = allowed.lowerBound == allowed.upperBound ? "\(allowed.lowerBound)" : "\(allowed.lowerBound)–\(allowed.upperBound)"
                throw InvalidInput(nil, "expects \(expected) inputs, got \(inputs.count)")
            }
        }
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw InvalidInput(nil, message()) }
        }
        func float(_ index: Int) throws {
            try require(inputs[index].dtype == .float32, "input \(index) must be f32, got \(inputs[index])")
        }
        func broadcast(_ types: [TensorType]) throws -> Shape {
            try types.dropFirst().reduce(types[0].shape) { shape, next in
                guard let result = Shape.broadcast(shape, next.shape) else {
                    throw InvalidInput(nil, "cannot broadcast \(shape) with \(next.shape)")
                }
                return result
            }
        }
        let x = inputs.first

        switch self {
        case .unary(let function):
            try arity(1...1)
            switch function {
            case .neg, .abs, .relu: try require(x!.dtype != .bool, "input must be numeric, got \(x!)")
            default: try float(0)
            }
            return [x!]

        case .binary:
            try arity(2...2)
            try require(inputs[0].dtype == inputs[1].dtype && inputs[0].dtype != .bool,
                        "inputs must share a numeric dtype, got \(inputs[0]) and \(inputs[1])")
            return [TensorType(inputs[0].dtype, try broadcast(inputs))]

        case .compare:
            try arity(2...2)
            try require(inputs[0].dtype == inputs[1].dtype, "inputs must share a dtype, got \(inputs[0]) and \(inputs[1])")
            return [TensorType(.bool, try broadcast(inputs))]

        case .logicalNot:
            try arity(1...1)
            try require(x!.dtype == .bool, "input must be bool, got \(x!)")
            return [x!]

        case .select:
            try arity(3...3)
            try require(inputs[0].dtype == .bool, "condition must be bool, got \(inputs[0])")
            try require(inputs[1].dtype == inputs[2].dtype, "branches must share a dtype, got \(inputs[1]) and \(inputs[2])")
            return [TensorType(inputs[1].dtype, try broadcast(inputs))]

        case .cast(let dtype):
            try arity(1...1)
            return [TensorType(dtype, x!.shape)]

        case .identity:
            try arity(1...1)
            return [x!]

        case .matMul(let flags):
            try arity(2...2)
            try float(0)
            try float(1)
            let a = inputs[0].shape, b = inputs[1].shape
            try require(a.rank >= 2 && b.rank >= 2, "operands must have rank ≥ 2, got \(a) and \(b)")
            let (m, ka) = flags.transposeA ? (a[-1], a[-2]) : (a[-2], a[-1])
            let (kb, n) = flags.transposeB ? (b[-1], b[-2]) : (b[-2], b[-1])
            try require(ka == kb, "inner extents differ: \(a)\(flags.transposeA ? "ᵀ" : "") · \(b)\(flags.transposeB ? "ᵀ" : "")")
            guard let batch = Shape.broadcast(Shape(Array(a.dims.dropLast(2))), Shape(Array(b.dims.dropLast(2)))) else {
                throw InvalidInput(nil, "batch axes of \(a) and \(b) do not broadcast")
            }
            return [TensorType(.float32, Shape(batch.dims + [m, n]))]

        case .conv(let conv):
            try arity(2...3)
            for i in inputs.indices { try float(i) }
            let xs = inputs[0].shape, w = inputs[1].shape
            try require(xs.rank == 4 && w.rank == 4, "input and weight must be rank 4 (NCHW), got \(xs) and \(w)")
            try require(conv.strides.count == 2 && conv.pads.count == 4 && conv.dilations.count == 2, "geometry must be 2-D")
            try require(conv.strides.allSatisfy { $0 > 0 } && conv.dilations.allSatisfy { $0 > 0 } && conv.pads.allSatisfy { $0 >= 0 },
                        "strides and dilations must be positive and pads non-negative")
            try require(conv.groups > 0 && xs[1] % conv.groups == 0 && w[0] % conv.groups == 0,
                        "groups \(conv.groups) must divide input channels \(xs[1]) and output channels \(w[0])")
            try require(w[1] * conv.groups == xs[1], "weight \(w) expects \(w[1] * conv.groups) input channels, input \(xs) has \(xs[1])")
            if inputs.count == 3 { try require(inputs[2].shape == [w[0]], "bias must be [\(w[0])], got \(inputs[2].shape)") }
            let h = try Self.windowExtent(xs[2], kernel: w[2], stride: conv.strides[0], padding: conv.pads[0] + conv.pads[2],
                                          dilation: conv.dilations[0], ceil: false)
            let wd = try Self.windowExtent(xs[3], kernel: w[3], stride: conv.strides[1], padding: conv.pads[1] + conv.pads[3],
                                           dilation: conv.dilations[1], ceil: false)
            return [TensorType(.float32, [xs[0], w[0], h, wd])]

        case .maxPool(let pool), .averagePool(let pool):
            try arity(1...1)
            try float(0)
            let xs = x!.shape
            try require(xs.rank == 4, "input must be rank 4 (NCHW), got \(xs)")
            try require(pool.kernel.count == 2 && pool.strides.count == 2 && pool.pads.count == 4 && pool.dilations.count == 2,
                        "geometry must be 2-D")
            try require(pool.kernel.allSatisfy { $0 > 0 } && pool.strides.allSatisfy { $0 > 0 } && pool.dilations.allSatisfy { $0 > 0 },
                        "kernel, strides and dilations must be positive")
            try require(pool.pads.allSatisfy { $0 >= 0 }, "pads must be non-negative")
            try require((0..<4).allSatisfy { pool.pads[$0] < pool.dilations[$0 % 2] * (pool.kernel[$0 % 2] - 1) + 1 },
                        "pads \(pool.pads) must be smaller than the window \(pool.kernel), or a window could lie entirely in padding")
            var out = xs
            for axis in 0..<2 {
                out[2 + axis] = try Self.poolExtent(xs[2 + axis], pool: pool, axis: axis)
            }
            return [TensorType(.float32, out)]

        case .globalAveragePool, .globalMaxPool:
            try arity(1...1)
            try float(0)
            try require(x!.shape.rank >= 3, "input must have spatial axes, got \(x!)")
            return [TensorType(.float32, Shape(Array(x!.shape.dims.prefix(2)) + Array(repeating: 1, count: x!.shape.rank - 2)))]

        case .batchNorm:
            try arity(5...5)
            for i in inputs.indices { try float(i) }
            try require(x!.shape.rank >= 2, "input must have a channel axis, got \(x!)")
            for i in 1..<5 { try require(inputs[i].shape == [x!.shape[1]], "input \(i) must be [\(x!.shape[1])], got \(inputs[i].shape)") }
            return [x!]

        case .layerNorm(let axis, _):
            try arity(2...3)
            for i in inputs.indices { try float(i) }
            let xs = x!.shape
            try require((0..<xs.rank).contains(axis), "axis \(axis) out of range for \(xs)")
            let normalized = Shape(Array(xs.dims[axis...]))
            for i in 1..<inputs.count {
                try require(Shape.broadcast(normalized, inputs[i].shape) == normalized,
                            "input \(i) \(inputs[i].shape) does not broadcast to the normalised shape \(normalized)")
            }
            let statistics = TensorType(.float32, Shape(Array(xs.dims[..<axis]) + Array(repeating: 1, count: xs.rank - axis)))
            return [x!, statistics, statistics]

        case .softmax(let axis), .logSoftmax(let axis):
            try arity(1...1)
            try float(0)
            try require((0..<x!.shape.rank).contains(axis), "axis \(axis) out of range for \(x!.shape)")
            return [x!]

        case .reduce(let kind, let axes, let keepDims):
            try arity(1...1)
            try require(x!.dtype != .bool, "input must be numeric, got \(x!)")
            if kind == .mean { try float(0) }
            try require(!axes.isEmpty && axes == axes.sorted() && Set(axes).count == axes.count
                        && axes.allSatisfy { (0..<x!.shape.rank).contains($0) }, "axes \(axes) invalid for \(x!.shape)")
            var dims: [Int] = []
            for (axis, extent) in x!.shape.dims.enumerated() {
                if axes.contains(axis) { if keepDims { dims.append(1) } } else { dims.append(extent) }
            }
            return [TensorType(x!.dtype, Shape(dims))]

        case .argMax(let axis, let keepDims, _):
            try arity(1...1)
            try require((0..<x!.shape.rank).contains(axis), "axis \(axis) out of range for \(x!.shape)")
            try require(x!.shape[axis] > 0, "cannot take argmax over an empty axis")
            var dims = x!.shape.dims
            if keepDims { dims[axis] = 1 } else { dims.remove(at: axis) }
            return [TensorType(.int64, Shape(dims))]

        case .reshape(let shape):
            try arity(1...1)
            try require(shape.checkedElementCount == x!.shape.elementCount, "cannot reshape \(x!.shape) to \(shape)")
            return [TensorType(x!.dtype, shape)]

        case .transpose(let permutation):
            try arity(1...1)
            try require(permutation.sorted() == Array(0..<x!.shape.rank), "\(permutation) is not a permutation of \(x!.shape.rank) axes")
            return [TensorType(x!.dtype, Shape(permutation.map { x!.shape[$0] }))]

        case .slice(let slice):
            try arity(1...1)
            let xs = x!.shape
            try require(slice.starts.count == xs.rank && slice.ends.count == xs.rank && slice.steps.count == xs.rank,
                        "slice has \(slice.starts.count) axes, input \(xs) has \(xs.rank)")
            let extents = slice.extents
            for axis in 0..<xs.rank {
                let (start, end, step) = (slice.starts[axis], slice.ends[axis], slice.steps[axis])
                try require(step != 0, "step on axis \(axis) is 0")
                let inside = (0...xs[axis]).contains(start) && (-1...xs[axis]).contains(end)
                try require(inside && (start < xs[axis] || extents[axis] == 0),
                            "window \(start)..<\(end) step \(step) outside axis \(axis) of \(xs)")
            }
            return [TensorType(x!.dtype, Shape(extents))]

        case .concat(let axis):
            try require(!inputs.isEmpty, "expects at least one input")
            let first = x!.shape
            try require((0..<first.rank).contains(axis), "axis \(axis) out of range for \(first)")
            var total = 0
            for input in inputs {
                try require(input.dtype == x!.dtype, "inputs must share a dtype")
                try require(input.shape.rank == first.rank
                            && (0..<first.rank).allSatisfy { $0 == axis || input.shape[$0] == first[$0] },
                            "cannot concatenate \(first) and \(input.shape) on axis \(axis)")
                total += input.shape[axis]
            }
            var out = first
            out[axis] = total
            return [TensorType(x!.dtype, out)]

        case .gather(let axis):
            try arity(2...2)
            try require(inputs[1].dtype == .int64, "indices must be i64, got \(inputs[1])")
            let xs = x!.shape
            try require((0..<xs.rank).contains(axis), "axis \(axis) out of range for \(xs)")
            return [TensorType(x!.dtype, Shape(Array(xs.dims[..<axis]) + inputs[1].shape.dims + Array(xs.dims[(axis + 1)...])))]

        case .expand(let shape):
            try arity(1...1)
            try require(shape.checkedElementCount != nil && Shape.broadcast(x!.shape, shape) == shape, "cannot expand \(x!.shape) to \(shape)")
            return [TensorType(x!.dtype, shape)]

        case .pad(let pads, _, _):
            try arity(1...1)
            let xs = x!.shape
            try require(pads.count == 2 * xs.rank, "pads must have \(2 * xs.rank) entries, got \(pads.count)")
            try require(pads.allSatisfy { abs($0) <= Self.extentLimit }, "pads \(pads) are out of range")
            let dims = (0..<xs.rank).map { xs[$0] + pads[$0] + pads[$0 + xs.rank] }
            try require(dims.allSatisfy { $0 >= 0 }, "pads \(pads) crop \(xs) below zero")
            if case .pad(_, let mode, _) = self, mode != .constant {
                try require((0..<xs.rank).allSatisfy { xs[$0] > 0 || (pads[$0] <= 0 && pads[$0 + xs.rank] <= 0) },
                            "\(mode.rawValue) padding needs a non-empty axis to copy from")
            }
            return [TensorType(x!.dtype, Shape(dims))]

        case .tile(let repeats):
            try arity(1...1)
            try require(repeats.count == x!.shape.rank && repeats.allSatisfy { $0 >= 0 }, "repeats \(repeats) invalid for \(x!.shape)")
            let out = Shape(zip(x!.shape.dims, repeats).map { $0.multipliedReportingOverflow(by: $1).overflow ? -1 : $0 * $1 })
            try require(out.checkedElementCount != nil, "repeats \(repeats) make \(x!.shape) too large")
            return [TensorType(x!.dtype, out)]
        }
    }

    /// The largest extent, pad, stride or window accepted: far beyond any real model, small enough
    /// that window arithmetic on values read from a hostile file cannot overflow.
    static let extentLimit = 1 << 31

    /// Output extent of a convolution window sliding over `input`.
    static func windowExtent(_ input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, ceil: Bool) throws -> Int {
        guard [input, kernel, stride, padding, dilation].allSatisfy({ abs($0) <= extentLimit }) else {
            throw InvalidInput(nil, "window geometry is out of range")
        }
        let span = dilation * (kernel - 1) + 1
        let room = input + padding - span
        guard room >= 0 else {
            throw InvalidInput(nil, "window of \(span) does not fit in \(input) (+\(padding) padding)")
        }
        return (ceil ? (room + stride - 1) / stride : room / stride) + 1
    }

    /// Output extent of a pooling window: like a convolution, except that in ceil mode a last window
    /// starting entirely in the end padding is dropped (PyTorch and ONNX agree on this).
    static func poolExtent(_ input: Int, pool: Pooling, axis: Int) throws -> Int {
        let begin = pool.pads[axis], end = pool.pads[axis + 2]
        var extent = try windowExtent(input, kernel: pool.kernel[axis], stride: pool.strides[axis], padding: begin + end,
                                      dilation: pool.dilations[axis], ceil: pool.ceilMode)
        if pool.ceilMode && (extent - 1) * pool.strides[axis] >= input + begin { extent -= 1 }
        return extent
    }
}
