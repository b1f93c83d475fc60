import Tensor

/// The footprint of each kernel, derived from its geometry with checked arithmetic: the shape of the
/// memory the executor's pointer arithmetic will touch, for `Plan.validate` to compare with the
/// buffers a step names. Geometries the compiler derives from shapes are rebuilt from the fields
/// they keep and must come out identical, so derived fields (algorithms, slots, workspace sizes)
/// cannot be forged apart from the sizes they follow from.
extension Kernel {
    func footprint() throws -> Footprint {
        switch self {
        case .unary(let function, let dtype, let count):
            try Checked.require(dtype == .float32 || (dtype == .int64 && [.neg, .abs, .relu].contains(function)),
                                "no \(function) kernel on \(dtype.shortName)")
            return Footprint(operands: [try .elements(dtype, count)], results: [try .elements(dtype, count)])
        case .binary(_, let dtype, let geometry):
            try Checked.require([.float32, .int64].contains(dtype), "no binary kernel on \(dtype.shortName)")
            let reach = try geometry.reach(operands: 2)
            return Footprint(operands: try reach.map { try .elements(dtype, $0) }, results: [try .elements(dtype, geometry.count)])
        case .compare(_, let dtype, let geometry):
            try Checked.require([.float32, .int64, .bool].contains(dtype), "no comparison on \(dtype.shortName)")
            let reach = try geometry.reach(operands: 2)
            return Footprint(operands: try reach.map { try .elements(dtype, $0) }, results: [try .elements(.bool, geometry.count)])
        case .select(let geometry, let elementSize):
            try Checked.require([1, 2, 4, 8].contains(elementSize), "no select of \(elementSize)-byte elements")
            let reach = try geometry.reach(operands: 3)
            return Footprint(operands: [try .elements(.bool, reach[0]), try .sized(elementSize, reach[1]), try .sized(elementSize, reach[2])],
                             results: [try .sized(elementSize, geometry.count)])
        case .logicalNot(let count):
            return Footprint(operands: [try .elements(.bool, count)], results: [try .elements(.bool, count)])
        case .cast(let source, let target, let count):
            let kinds: [DType] = [.float32, .int64, .bool]
            try Checked.require(source == target || (kinds.contains(source) && kinds.contains(target)),
                                "no cast from \(source.shortName) to \(target.shortName)")
            return Footprint(operands: [try .elements(source, count)], results: [try .elements(target, count)])
        case .copy(let geometry):
            let reach = try geometry.reach()
            return Footprint(operands: [try .sized(geometry.elementSize, reach)], results: [try .sized(geometry.elementSize, geometry.count)])
        case .concat(let geometry):
            try Checked.require(!geometry.blockBytes.isEmpty, "concatenation of no inputs")
            let operands = try geometry.blockBytes.map { Footprint.Access.bytes(try Checked.product(geometry.outer, $0)) }
            return Footprint(operands: operands, results: [.bytes(try Checked.product(geometry.outer, try Checked.sum(geometry.blockBytes)))])
        case .gather(let geometry):
            return try geometry.footprint(dataDtype: nil)
        case .pad(let geometry):
            return try geometry.footprint()
        case .gemm(let geometry):
            return try geometry.footprint()
        case .conv2d(let geometry):
            try geometry.validate()
            let (input, weight, output) = try geometry.counts()
            let bias = geometry.hasBias ? [try Footprint.Access.floats(geometry.outputChannels)] : []
            return Footprint(operands: [try .floats(input), try .floats(weight)] + bias, results: [try .floats(output)],
                             workspace: geometry.workspaceBytes)
        case .maxPool(let geometry), .averagePool(let geometry):
            let (input, output) = try geometry.counts()
            return Footprint(operands: [try .floats(input)], results: [try .floats(output)])
        case .globalAveragePool(let planes, let size), .globalMaxPool(let planes, let size):
            return Footprint(operands: [try .floats(try Checked.product(planes, size))], results: [try .floats(planes)])
        case .batchNorm(let layout, _):
            let count = try layout.checkedCount(), channel = try Footprint.Access.floats(layout.extent)
            return Footprint(operands: [try .floats(count), channel, channel, channel, channel], results: [try .floats(count)])
        case .layerNorm(let geometry, let hasBias):
            try Checked.require(geometry.scaleCount > 0 && geometry.columns % geometry.scaleCount == 0,
                                "a scale of \(geometry.scaleCount) does not tile rows of \(geometry.columns)")
            try Checked.require(hasBias == (geometry.biasCount > 0) && geometry.biasCount >= 0
                                && (geometry.biasCount == 0 || geometry.columns % geometry.biasCount == 0),
                                "a bias of \(geometry.biasCount) does not tile rows of \(geometry.columns)")
            let count = try Checked.product(geometry.rows, geometry.columns)
            let bias = hasBias ? [try Footprint.Access.floats(geometry.biasCount)] : []
            return Footprint(operands: [try .floats(count), try .floats(geometry.scaleCount)] + bias,
                             results: [try .floats(count), try .floats(geometry.rows), try .floats(geometry.rows)])
        case .softmax(let layout), .logSoftmax(let layout):
            let count = try layout.checkedCount()
            return Footprint(operands: [try .floats(count)], results: [try .floats(count)])
        case .reduce(let kind, let dtype, let geometry):
            try Checked.require(dtype == .float32 || (dtype == .int64 && kind != .mean), "no \(kind) reduction on \(dtype.shortName)")
            let input = try geometry.validatedInputCount()
            return Footprint(operands: [try .elements(dtype, input)], results: [try .elements(dtype, geometry.outputCount)])
        case .argMax(let layout, let dtype, _):
            try Checked.require([.float32, .int64].contains(dtype), "no argmax on \(dtype.shortName)")
            try Checked.require(layout.extent > 0, "argmax over an empty axis")
            return Footprint(operands: [try .elements(dtype, try layout.checkedCount())],
                             results: [try .elements(.int64, try Checked.product(layout.outer, layout.inner))])
        case .attention(let geometry):
            return try geometry.footprint()
        case .fusedElementwise(let geometry):
            return try geometry.footprint()
        case .gradient(let kernel):
            return try kernel.footprint()
        case .seRKD(let kernel):
            return try kernel.footprint()
        case .optimizer(let kernel):
            return try kernel.footprint()
        case .loss(let kernel):
            return try kernel.footprint()
        case .allReduce(let kernel):
            return try kernel.footprint()
        }
    }
}

extension AllReduceKernel {
    /// Gradients in, their averages out, in the same order, through one bucket of workspace.
    func footprint() throws -> Footprint {
        try Checked.require(!counts.isEmpty, "an all-reduce of no gradients")
        try Checked.require(ranks, in: 1...(1 << 20), "ranks")
        try Checked.require(bucketElements, in: 1...(1 << 40), "bucket")
        let accesses = try counts.map { try Footprint.Access.floats($0) }
        let bucket = try Checked.product(min(try Checked.sum(counts), bucketElements), MemoryLayout<Float>.size)
        try Checked.require(bucket == workspaceBytes, "workspace of \(workspaceBytes) bytes, the bucket needs \(bucket)")
        return Footprint(operands: accesses, results: accesses, workspace: bucket)
    }
}

extension AxisLayout {
    /// Elements of the viewed tensor, refusing negative or overflowing extents.
    func checkedCount() throws -> Int { try Checked.product(outer, extent, inner) }
}

extension Broadcast {
    /// Elements each of `operands` operands is read up to, after checking the walk is one the
    /// broadcast kernels make: non-empty extents, `count` their product, non-negative strides that
    /// are 0 or 1 along the last axis.
    func reach(operands: Int) throws -> [Int] {
        try Checked.require(!extents.isEmpty, "broadcast over no axes")
        try Checked.require(strides.count == operands, "broadcast of \(strides.count) operands, the kernel takes \(operands)")
        try Checked.require(try Checked.product(extents) == count, "broadcast count \(count) is not the product of \(extents)")
        return try strides.map { operand in
            try Checked.require(operand.allSatisfy { $0 >= 0 } && [0, 1].contains(operand.last ?? 0),
                                "broadcast strides \(operand) are not a broadcast")
            return try Checked.reach(extents: extents, strides: operand)
        }
    }
}

extension DataMovement.Copy {
    /// Input elements the view reaches, after checking it is one the copy kernels walk.
    func reach() throws -> Int {
        try Checked.require([1, 2, 4, 8].contains(elementSize), "no copy of \(elementSize)-byte elements")
        try Checked.require(!extents.isEmpty, "a copy over no axes")
        try Checked.require(try Checked.product(extents) == count, "copy count \(count) is not the product of \(extents)")
        return try Checked.reach(extents: extents, strides: strides, offset: offset)
    }
}

extension DataMovement.Gather {
    /// Data (of `dataDtype`, or any dtype of the element size), int64 indices → gathered rows.
    func footprint(dataDtype: DType?) throws -> Footprint {
        try Checked.require(elementSize >= 1 && elementSize <= 8, "no gather of \(elementSize)-byte elements")
        let data = try layout.checkedCount()
        let output = try Checked.product(layout.outer, indexCount, layout.inner)
        func access(_ count: Int) throws -> Footprint.Access {
            if let dataDtype { try .elements(dataDtype, count) } else { try .sized(elementSize, count) }
        }
        return Footprint(operands: [try access(data), try .elements(.int64, indexCount)], results: [try access(output)])
    }
}

extension DataMovement.Pad {
    /// Input elements reached through `sources`, after checking each axis maps every output index to
    /// an input index or the constant.
    func footprint() throws -> Footprint {
        try Checked.require([1, 2, 4, 8].contains(elementSize), "no pad of \(elementSize)-byte elements")
        let rank = extents.count
        try Checked.require(sources.count == rank && inputStrides.count == rank, "pad of rank \(rank) with \(sources.count) axis maps")
        let output = try Checked.product(extents)
        guard rank > 0 else {
            return Footprint(operands: [try .sized(elementSize, 1)], results: [try .sized(elementSize, 1)])
        }
        var reach = 1, readsInput = output > 0
        for axis in 0..<rank {
            try Checked.require(sources[axis].count == extents[axis], "axis \(axis) maps \(sources[axis].count) of \(extents[axis]) output indices")
            try Checked.require(inputStrides[axis] >= 0 && sources[axis].allSatisfy { $0 >= -1 }, "axis \(axis) maps to negative input indices")
            guard let last = sources[axis].max(), last >= 0 else {
                readsInput = false
                continue
            }
            let (span, overflow) = last.multipliedReportingOverflow(by: inputStrides[axis])
            try Checked.require(!overflow, "pad strides overflow")
            reach = try Checked.sum([reach, span])
        }
        return Footprint(operands: [try .sized(elementSize, readsInput ? reach : 0)], results: [try .sized(elementSize, output)])
    }
}

extension Gemm.Geometry {
    /// A, B[, bias] → C, after checking the sizes fit BLAS's 32-bit arguments and the batch walk.
    func footprint() throws -> Footprint {
        for (name, value) in [("m", m), ("n", n), ("k", k)] { try Checked.require(value, in: 0...Int(Int32.max), name) }
        try Checked.require(batchStridesA.count == batchExtents.count && batchStridesB.count == batchExtents.count,
                            "batch strides do not match \(batchExtents.count) batch axes")
        try Checked.require(batchStridesA.allSatisfy { $0 >= 0 } && batchStridesB.allSatisfy { $0 >= 0 }, "negative batch strides")
        try Checked.require(try Checked.product(batchExtents) == batchCount, "batch count \(batchCount) is not the product of \(batchExtents)")
        let output = try Checked.product(batchCount, m, n)
        var a = 0, b = 0
        if output > 0 {
            a = try Checked.sum([try Checked.reach(extents: batchExtents, strides: batchStridesA) - 1, try Checked.product(m, k)])
            b = try Checked.sum([try Checked.reach(extents: batchExtents, strides: batchStridesB) - 1, try Checked.product(k, n)])
        }
        let bias: [Footprint.Access] = switch epilogue.bias {
        case .none: []
        case .perRow: [try .floats(m)]
        case .perColumn: [try .floats(n)]
        }
        return Footprint(operands: [try .floats(a), try .floats(b)] + bias, results: [try .floats(output)])
    }
}

extension Conv2D.Geometry {
    /// Bounds on every extent of a convolution a plan may hold: far beyond any real network, small
    /// enough that no product of a few of them overflows before it is checked.
    static let extentLimit = 1 << 24

    /// Checks the fields are in range, then that the geometry is exactly what `init` derives from its
    /// shapes: the algorithm, the thread split and the workspace size follow from the rest.
    func validate() throws {
        let limit = Self.extentLimit
        for (name, value) in [("batch", batch), ("output height", outputHeight), ("output width", outputWidth),
                              ("input height", inputHeight), ("input width", inputWidth)] {
            try Checked.require(value, in: 0...limit, name)
        }
        for (name, value) in [("input channels", inputChannels), ("output channels", outputChannels), ("groups", groups),
                              ("kernel height", kernelHeight), ("kernel width", kernelWidth), ("stride", strideHeight),
                              ("stride", strideWidth), ("dilation", dilationHeight), ("dilation", dilationWidth)] {
            try Checked.require(value, in: 1...limit, name)
        }
        try Checked.require(padTop, in: 0...limit, "top padding")
        try Checked.require(padLeft, in: 0...limit, "left padding")
        try Checked.require(outputHeight > 0 && outputWidth > 0, "empty output plane")
        try Checked.require(inputChannels % groups == 0 && outputChannels % groups == 0, "\(groups) groups do not divide the channels")
        _ = try counts()
        _ = try Checked.product(Parallel.threadCount, inputChannels / groups, kernelHeight, kernelWidth, outputHeight, outputWidth, 4)
        // The bottom and right padding only shape the output extents: the smallest that gives them.
        let bottom = (outputHeight - 1) * strideHeight + dilationHeight * (kernelHeight - 1) + 1 - inputHeight - padTop
        let right = (outputWidth - 1) * strideWidth + dilationWidth * (kernelWidth - 1) + 1 - inputWidth - padLeft
        let rebuilt = Conv2D.Geometry(input: [batch, inputChannels, inputHeight, inputWidth],
                                      weight: [outputChannels, inputChannels / groups, kernelHeight, kernelWidth],
                                      strides: [strideHeight, strideWidth], pads: [padTop, padLeft, bottom, right],
                                      dilations: [dilationHeight, dilationWidth], groups: groups, hasBias: hasBias, activation: activation)
        try Checked.require(rebuilt == self, "the geometry is not one this build derives from its shapes (algorithm, thread split or workspace)")
    }

    /// Elements of input, weight and output.
    func counts() throws -> (input: Int, weight: Int, output: Int) {
        (try Checked.product(batch, inputChannels, inputHeight, inputWidth),
         try Checked.product(outputChannels, inputChannels / Swift.max(groups, 1), kernelHeight, kernelWidth),
         try Checked.product(batch, outputChannels, outputHeight, outputWidth))
    }
}

extension Pool2D.Geometry {
    /// Elements of input and output, after checking every window stays inside the input plane and
    /// the column windows combine as the row pass assumes.
    func counts() throws -> (input: Int, output: Int) {
        try Checked.require(rows.count == outputHeight && columns.count == outputWidth,
                            "\(rows.count)×\(columns.count) windows for a \(outputHeight)×\(outputWidth) output")
        try Checked.require(kernelWidth >= 1 && dilationWidth >= 1, "window width \(kernelWidth), dilation \(dilationWidth)")
        func inside(_ window: Window, _ size: Int) -> Bool {
            guard window.count > 0 else { return window.count == 0 }
            guard window.start >= 0, window.step >= 1 else { return false }
            let (span, overflow) = (window.count - 1).multipliedReportingOverflow(by: window.step)
            return !overflow && span < size - window.start
        }
        try Checked.require(rows.allSatisfy { inside($0, inputHeight) }, "a window row lies outside the \(inputHeight) input rows")
        try Checked.require(columns.allSatisfy { inside($0, inputWidth) && $0.step == dilationWidth },
                            "a window column lies outside the \(inputWidth) input columns")
        // The kernels walk the first run of whole windows with one stride between their starts.
        if let first = columns.firstIndex(where: { $0.count == kernelWidth }) {
            var end = first + 1
            while end < columns.count && columns[end].count == kernelWidth { end += 1 }
            let stride = end - first > 1 ? columns[first + 1].start - columns[first].start : 0
            try Checked.require((first..<end).allSatisfy { columns[$0].start - columns[first].start == ($0 - first) * stride },
                                "whole window columns are not evenly spaced")
        }
        try Checked.require(try Checked.product(inputHeight, inputWidth) <= Int(Int32.max), "input planes of \(inputHeight)×\(inputWidth)")
        return (try Checked.product(planes, inputHeight, inputWidth), try Checked.product(planes, outputHeight, outputWidth))
    }
}

extension Reductions.Geometry {
    /// Input elements, after checking the geometry is the one `init` derives from its merged extents.
    func validatedInputCount() throws -> Int {
        try Checked.require(extents.count == reduced.count && extents.allSatisfy { $0 >= 0 && $0 != 1 },
                            "reduction extents \(extents) are not merged")
        let input = try Checked.product(extents)
        let rebuilt = Reductions.Geometry(shape: extents, axes: reduced.indices.filter { reduced[$0] })
        try Checked.require(rebuilt == self, "the reduction is not one this build derives from extents \(extents)")
        return input
    }
}

extension FusedAttention.Geometry {
    /// Q, K, V → output, after checking the geometry (slots and so workspace) is `init`'s.
    func footprint() throws -> Footprint {
        for (name, value) in [("pairs", count), ("queries", queries), ("keys", keys), ("depth", depth), ("value depth", valueDepth)] {
            try Checked.require(value, in: 0...Int(Int32.max), name)
        }
        let workspace = try Checked.product(Parallel.threadCount, queries, keys, 4)
        let rebuilt = FusedAttention.Geometry(count: count, queries: queries, keys: keys, depth: depth, valueDepth: valueDepth,
                                              scale: scale, keysTransposed: keysTransposed)
        try Checked.require(rebuilt == self, "attention slots \(slots) are not \(rebuilt.slots)")
        return Footprint(operands: [try .floats(try Checked.product(count, queries, depth)), try .floats(try Checked.product(count, keys, depth)),
                                    try .floats(try Checked.product(count, keys, valueDepth))],
                         results: [try .floats(try Checked.product(count, queries, valueDepth))],
                         workspace: count > 0 && queries > 0 && keys > 0 ? workspace / Parallel.threadCount * slots : 0)
    }
}

extension FusedElementwise.Geometry {
    /// Inputs → output, after checking the program: each instruction's arity and parameters, registers
    /// read only after they are written, scratch buffers that hold each result until its last read,
    /// and slots as `init` derives them.
    func footprint() throws -> Footprint {
        try Checked.require(!instructions.isEmpty, "a fused program without instructions")
        let inputCount = strides.count
        let reach = try Broadcast(extents: extents, strides: strides, count: count).reach(operands: inputCount)
        for (index, instruction) in instructions.enumerated() {
            let (arity, parameters) = instruction.operation.arity
            try Checked.require(instruction.operands.count == arity && instruction.parameters.count >= parameters,
                                "instruction \(index) (\(instruction.operation)) has \(instruction.operands.count) operands")
            try Checked.require(instruction.operands.allSatisfy { $0 >= 0 && $0 < inputCount + index },
                                "instruction \(index) reads a register not yet written")
        }
        try Checked.require(instructions.count <= 1 << 12, "a fused program of \(instructions.count) instructions")
        try Checked.require(buffers.count == instructions.count - 1 && bufferCount >= 0 && buffers.allSatisfy { (0..<bufferCount).contains($0) },
                            "scratch buffers \(buffers) do not fit \(instructions.count) instructions in \(bufferCount) buffers")
        // No instruction may write a buffer whose register is still to be read, its own operands included.
        var lastUse = [Int](repeating: -1, count: inputCount + instructions.count)
        for (index, instruction) in instructions.enumerated() {
            for operand in instruction.operands { lastUse[operand] = index }
        }
        for writer in buffers.indices {
            for earlier in 0..<writer where buffers[earlier] == buffers[writer] && lastUse[inputCount + earlier] >= writer {
                throw FootprintError("instruction \(writer) overwrites the result of instruction \(earlier) before it is read")
            }
        }
        try Checked.require(slots == max(1, min(Parallel.threadCount, count / Elementwise.grain)), "fused slots \(slots)")
        return Footprint(operands: try reach.map { try .floats($0) }, results: [try .floats(count)],
                         workspace: try Checked.product(slots, bufferCount, FusedElementwise.block, 4))
    }
}

extension FusedElementwise.Operation {
    /// Registers read and parameters required.
    var arity: (operands: Int, parameters: Int) {
        switch self {
        case .leakyRelu: (1, 1)
        case .hardSigmoid, .clip: (1, 2)
        case .neg, .abs, .exp, .log, .sqrt, .reciprocal, .sigmoid, .tanh, .erf, .relu, .gelu, .geluTanh, .hardSwish: (1, 0)
        case .add, .sub, .mul, .div, .pow, .max, .min, .equal, .less, .lessOrEqual, .greater, .greaterOrEqual: (2, 0)
        case .select: (3, 0)
        }
    }
}

extension Broadcast {
    /// A broadcast walk with its fields given, for checking the walk of a fused elementwise kernel.
    init(extents: [Int], strides: [[Int]], count: Int) {
        self.extents = extents
        self.strides = strides
        self.count = count
    }
}
