import Tensor

// Footprints of the training kernels (see `Kernel.footprint()`): gradients, optimizers, losses, SeRKD.

extension GradientKernel {
    func footprint() throws -> Footprint {
        switch self {
        case .convBackwardData(let geometry):
            try geometry.validate()
            let (input, weight, output) = try geometry.forward.counts()
            return Footprint(operands: [try .floats(output), try .floats(weight)], results: [try .floats(input)],
                             workspace: geometry.dataWorkspaceBytes)
        case .convBackwardWeight(let geometry):
            try geometry.validate()
            let (input, weight, output) = try geometry.forward.counts()
            return Footprint(operands: [try .floats(input), try .floats(output)], results: [try .floats(weight)],
                             workspace: geometry.weightWorkspaceBytes)
        case .maxPoolBackward(let geometry):
            let (input, output) = try geometry.counts()
            return Footprint(operands: [try .floats(input), try .floats(output)], results: [try .floats(input)])
        case .averagePoolBackward(let geometry):
            let (input, output) = try geometry.counts()
            return Footprint(operands: [try .floats(output)], results: [try .floats(input)])
        case .unaryBackward(_, let count):
            return Footprint(operands: [try .floats(count), try .floats(count)], results: [try .floats(count)])
        case .softmaxBackward(let layout), .logSoftmaxBackward(let layout):
            let count = try layout.checkedCount()
            return Footprint(operands: [try .floats(count), try .floats(count)], results: [try .floats(count)])
        case .layerNormBackward(let geometry):
            try Checked.require(geometry.rows >= 0 && geometry.scaleCount > 0 && geometry.columns >= 0 && geometry.columns % geometry.scaleCount == 0,
                                "a scale of \(geometry.scaleCount) does not tile rows of \(geometry.columns)")
            let count = try Checked.product(geometry.rows, geometry.columns)
            let rebuilt = Normalization.LayerNormGradientGeometry(rows: geometry.rows, columns: geometry.columns, scaleCount: geometry.scaleCount)
            try Checked.require(rebuilt == geometry, "rows per block \(geometry.rowsPerBlock) are not \(rebuilt.rowsPerBlock)")
            let (rows, scale) = (try Footprint.Access.floats(geometry.rows), try Footprint.Access.floats(geometry.scaleCount))
            return Footprint(operands: [try .floats(count), scale, rows, rows, try .floats(count)], results: [try .floats(count), scale, scale],
                             workspace: try Checked.product(geometry.blocks, 2, geometry.scaleCount, 4))
        case .batchNormTraining(let layout, _, _):
            try Checked.require(try Checked.product(layout.outer, layout.inner) > 1 || layout.extent == 0,
                                "training batch norm needs two or more elements per channel")
            let count = try Footprint.Access.floats(try layout.checkedCount()), channel = try Footprint.Access.floats(layout.extent)
            return Footprint(operands: [count, channel, channel, channel, channel], results: [count, channel, channel, channel, channel])
        case .batchNormBackward(let layout):
            let count = try Footprint.Access.floats(try layout.checkedCount()), channel = try Footprint.Access.floats(layout.extent)
            return Footprint(operands: [count, channel, channel, channel, count], results: [count, channel, channel])
        case .scatterAdd(let geometry):
            try Checked.require(geometry.elementSize == 4, "scatter-add of \(geometry.elementSize)-byte elements")
            let gather = try geometry.footprint(dataDtype: .float32)
            return Footprint(operands: [gather.results[0], gather.operands[1]], results: [gather.operands[0]])
        case .sliceBackward(let geometry, let inputCount):
            let reach = try geometry.reach()
            try Checked.require(reach <= inputCount, "the slice reaches \(reach) of \(inputCount) elements")
            return Footprint(operands: [try .sized(geometry.elementSize, geometry.count)], results: [try .sized(geometry.elementSize, inputCount)])
        case .dropout(let geometry):
            try Checked.require(geometry.count >= 0 && geometry.maskCount >= 0
                                && (geometry.maskCount == 0 ? geometry.count == 0 : geometry.count % geometry.maskCount == 0),
                                "a mask of \(geometry.maskCount) does not tile \(geometry.count) elements")
            try Checked.require(geometry.ratio >= 0 && geometry.ratio < 1, "dropout ratio \(geometry.ratio)")
            return Footprint(operands: [try .floats(geometry.count), try .elements(.int64, 1)],
                             results: [try .floats(geometry.count), try .floats(geometry.maskCount)])
        }
    }
}

extension Conv2DGradient.Geometry {
    /// Checks the forward convolution, then that the gradient's blocking and slots are what `init`
    /// derives (the workspace sizes follow from them).
    func validate() throws {
        try Checked.require(forward.activation == nil && !forward.hasBias, "a gradient of a convolution with an epilogue")
        try forward.validate()
        try Checked.require(slots, in: 1...1024, "slots")
        let f = forward
        _ = try Checked.product(slots, f.inputChannels / f.groups, f.kernelHeight, f.kernelWidth, f.outputHeight, f.outputWidth, 4)
        let bottom = (f.outputHeight - 1) * f.strideHeight + f.dilationHeight * (f.kernelHeight - 1) + 1 - f.inputHeight - f.padTop
        let right = (f.outputWidth - 1) * f.strideWidth + f.dilationWidth * (f.kernelWidth - 1) + 1 - f.inputWidth - f.padLeft
        let rebuilt = Conv2DGradient.Geometry(input: [f.batch, f.inputChannels, f.inputHeight, f.inputWidth],
                                              weight: [f.outputChannels, f.inputChannels / f.groups, f.kernelHeight, f.kernelWidth],
                                              strides: [f.strideHeight, f.strideWidth], pads: [f.padTop, f.padLeft, bottom, right],
                                              dilations: [f.dilationHeight, f.dilationWidth], groups: f.groups, slots: slots)
        try Checked.require(rebuilt == self, "the gradient geometry is not one this build derives from its shapes")
    }
}

extension OptimizerKernel {
    func footprint() throws -> Footprint {
        let scalar = try Footprint.Access.floats(1)
        switch self {
        case .adamW(let count, _, _, _, _):
            let tensor = try Footprint.Access.floats(count)
            return Footprint(operands: [tensor, tensor, tensor, tensor, scalar, scalar], results: [tensor, tensor, tensor])
        case .sgd(let count, _, _, _):
            let tensor = try Footprint.Access.floats(count)
            return Footprint(operands: [tensor, tensor, tensor, scalar], results: [tensor, tensor])
        }
    }
}

extension LossKernel {
    func footprint() throws -> Footprint {
        switch self {
        case .distillationKL(let rows, let classes, _):
            let logits = try Footprint.Access.floats(try Checked.product(rows, classes))
            return Footprint(operands: [logits, logits], results: [try .floats(1)])
        case .distillationKLBackward(let rows, let classes, _):
            let logits = try Footprint.Access.floats(try Checked.product(rows, classes))
            return Footprint(operands: [logits, logits, try .floats(1)], results: [logits])
        }
    }
}

extension SeRKDKernel {
    func footprint() throws -> Footprint {
        switch self {
        case .superpixelTokens(let g):
            try Checked.require(g.grid > 0 && g.height >= 0 && g.width >= 0 && g.height % g.grid == 0 && g.width % g.grid == 0,
                                "grid \(g.grid) does not divide \(g.height)×\(g.width)")
            try Checked.require(g.iterations, in: 0...1024, "iterations")
            let tokens = try Checked.product(g.height, g.width), superTokens = try Checked.product(g.height / g.grid, g.width / g.grid)
            let rebuilt = SuperpixelGeometry(batch: g.batch, height: g.height, width: g.width, channels: g.channels, grid: g.grid,
                                             iterations: g.iterations, countsMissingNeighbours: g.countsMissingNeighbours)
            try Checked.require(g.batch >= 0 && rebuilt == g, "superpixel slots \(g.slots) are not \(rebuilt.slots)")
            // The workspace size's own arithmetic, checked before it runs.
            _ = try Checked.product(g.slots, try Checked.sum([try Checked.product(superTokens, 8), 63]))
            return Footprint(operands: [try .floats(try Checked.product(g.batch, tokens, g.channels))],
                             results: [try .floats(try Checked.product(g.batch, superTokens, g.channels)),
                                       try .floats(try Checked.product(g.batch, tokens, superTokens))],
                             workspace: g.workspaceBytes)
        case .rkdDistance(let g, _), .rkdAngle(let g):
            try g.validate()
            return Footprint(operands: try g.tokens(), results: [try .floats(1)], workspace: workspaceBytes)
        case .rkdDistanceBackward(let g, _), .rkdAngleBackward(let g):
            try g.validate()
            let tokens = try g.tokens()
            return Footprint(operands: tokens + [try .floats(1)], results: [tokens[0]], workspace: workspaceBytes)
        }
    }
}

extension RelationGeometry {
    /// Checks the sizes are `init`'s (slots from this process's threads) and small enough that the
    /// scratch layout's arithmetic cannot overflow.
    func validate() throws {
        try Checked.require(batch > 0 && count >= 2 && studentWidth > 0 && teacherWidth > 0, "relation losses need B ≥ 1, N ≥ 2, D ≥ 1")
        try Checked.require(chunk, in: 1...count, "chunk")
        let limit = 1 << 44
        let grams = try Checked.product(batch, count, count, 16)
        let slots = try Checked.product(Parallel.threadCount, count, try Checked.sum([Swift.max(studentWidth, teacherWidth), count, 4]), 16)
        try Checked.require(grams <= limit && slots <= limit, "relation scratch for \(batch)×\(count) tokens is too large")
        let rebuilt = RelationGeometry(batch: batch, count: count, studentWidth: studentWidth, teacherWidth: teacherWidth, chunk: chunk)
        try Checked.require(rebuilt == self, "relation slots \(slots) are not \(rebuilt.slots)")
    }

    /// Student and teacher tokens.
    func tokens() throws -> [Footprint.Access] {
        [try .floats(try Checked.product(batch, count, studentWidth)), try .floats(try Checked.product(batch, count, teacherWidth))]
    }
}
