import Tensor

extension TrainingOp {
    /// Output types of the training ops (gradients, SeRKD operators, optimizers).
    func outputTypes(for inputs: [TensorType]) throws -> [TensorType] {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw InvalidInput(nil, message()) }
        }
        func arity(_ count: Int) throws {
            try require(inputs.count == count, "expects \(count) inputs, got \(inputs.count)")
        }
        func floats() throws {
            for (index, input) in inputs.enumerated() where input.dtype != .float32 && !(isIndexInput(index)) {
                throw InvalidInput(nil, "input \(index) must be f32, got \(input)")
            }
        }
        func scalar(_ index: Int) throws {
            try require(inputs[index].shape.rank == 0, "input \(index) must be a scalar, got \(inputs[index])")
        }
        func f32(_ dims: [Int]) -> TensorType { TensorType(.float32, Shape(dims)) }

        switch self {
        case .gradient(.convBackwardData(let conv, let inputSize)):
            try arity(2)
            try floats()
            let dy = inputs[0].shape, w = inputs[1].shape
            try require(dy.rank == 4 && w.rank == 4 && inputSize.count == 2, "expects dY and W of rank 4 and a 2-D input size")
            try require(dy[1] == w[0], "dY has \(dy[1]) channels, weight \(w) has \(w[0]) filters")
            let x = f32([dy[0], w[1] * conv.groups, inputSize[0], inputSize[1]])
            let forward = try Op.conv(conv).outputTypes(for: [x, inputs[1]])[0]
            try require(forward.shape == dy, "convolving \(x.shape) gives \(forward.shape), not dY \(dy)")
            return [x]

        case .gradient(.convBackwardWeight(let conv, let kernelSize)):
            try arity(2)
            try floats()
            let x = inputs[0].shape, dy = inputs[1].shape
            try require(x.rank == 4 && dy.rank == 4 && kernelSize.count == 2, "expects X and dY of rank 4 and a 2-D kernel size")
            let w = f32([dy[1], x[1] / max(conv.groups, 1), kernelSize[0], kernelSize[1]])
            let forward = try Op.conv(conv).outputTypes(for: [inputs[0], w])[0]
            try require(forward.shape == dy, "convolving \(x) gives \(forward.shape), not dY \(dy)")
            return [w]

        case .gradient(.maxPoolBackward(let pool)):
            try arity(2)
            try floats()
            let forward = try Op.maxPool(pool).outputTypes(for: [inputs[0]])[0]
            try require(forward.shape == inputs[1].shape, "pooling \(inputs[0].shape) gives \(forward.shape), not dY \(inputs[1].shape)")
            return [inputs[0]]

        case .gradient(.averagePoolBackward(let pool, let inputSize)):
            try arity(1)
            try floats()
            let dy = inputs[0].shape
            try require(dy.rank == 4 && inputSize.count == 2, "expects dY of rank 4 and a 2-D input size")
            let x = f32([dy[0], dy[1], inputSize[0], inputSize[1]])
            let forward = try Op.averagePool(pool).outputTypes(for: [x])[0]
            try require(forward.shape == dy, "pooling \(x.shape) gives \(forward.shape), not dY \(dy)")
            return [x]

        case .gradient(.unaryBackward(let function)):
            try arity(2)
            try floats()
            _ = try Op.unary(function).outputTypes(for: [inputs[0]])
            try require(inputs[0].shape == inputs[1].shape, "X \(inputs[0].shape) and dY \(inputs[1].shape) differ")
            return [inputs[0]]

        case .gradient(.softmaxBackward(let axis)), .gradient(.logSoftmaxBackward(let axis)):
            try arity(2)
            try floats()
            try require(inputs[0].shape == inputs[1].shape, "Y \(inputs[0].shape) and dY \(inputs[1].shape) differ")
            try require((0..<inputs[0].shape.rank).contains(axis), "axis \(axis) out of range")
            return [inputs[0]]

        case .gradient(.layerNormBackward(let axis)):
            try arity(5)
            try floats()
            let forward = try Op.layerNorm(axis: axis, epsilon: 0).outputTypes(for: [inputs[0], inputs[1]])
            try require(inputs[2] == forward[1] && inputs[3] == forward[2], "mean and inverse std must be \(forward[1])")
            try require(inputs[4] == inputs[0], "dY must be \(inputs[0])")
            return [inputs[0], inputs[1], inputs[1]]

        case .gradient(.batchNormTraining):
            try arity(5)
            try floats()
            let x = inputs[0].shape
            try require(x.rank >= 2, "input must have a channel axis, got \(x)")
            for i in 1..<5 { try require(inputs[i].shape == [x[1]], "input \(i) must be [\(x[1])], got \(inputs[i].shape)") }
            let channel = f32([x[1]])
            return [inputs[0], channel, channel, channel, channel]

        case .gradient(.batchNormBackward):
            try arity(5)
            try floats()
            let x = inputs[0].shape
            try require(x.rank >= 2, "input must have a channel axis, got \(x)")
            for i in 1..<4 { try require(inputs[i].shape == [x[1]], "input \(i) must be [\(x[1])], got \(inputs[i].shape)") }
            try require(inputs[4] == inputs[0], "dY must be \(inputs[0])")
            return [inputs[0], inputs[1], inputs[1]]

        case .gradient(.scatterAdd(let axis, let dataShape)):
            try arity(2)
            try require(inputs[1].dtype == .int64, "indices must be i64, got \(inputs[1])")
            let forward = try Op.gather(axis: axis).outputTypes(for: [TensorType(inputs[0].dtype, dataShape), inputs[1]])[0]
            try require(forward.shape == inputs[0].shape, "gathering from \(dataShape) gives \(forward.shape), not dY \(inputs[0].shape)")
            return [TensorType(inputs[0].dtype, dataShape)]

        case .gradient(.sliceBackward(let slice, let inputShape)):
            try arity(1)
            let forward = try Op.slice(slice).outputTypes(for: [TensorType(inputs[0].dtype, inputShape)])[0]
            try require(forward.shape == inputs[0].shape, "slicing \(inputShape) gives \(forward.shape), not dY \(inputs[0].shape)")
            return [TensorType(inputs[0].dtype, inputShape)]

        case .gradient(.dropout(let ratio, _, let perSample)):
            try arity(2)
            try require(inputs[0].dtype == .float32, "input must be f32, got \(inputs[0])")
            try require(inputs[1].dtype == .int64 && inputs[1].shape.rank == 0, "step must be an i64 scalar, got \(inputs[1])")
            try require(ratio >= 0 && ratio < 1, "ratio \(ratio) must be in [0, 1)")
            let x = inputs[0].shape
            try require(!perSample || x.rank >= 1, "drop path needs a batch axis")
            let mask = perSample ? f32([x[0]] + Array(repeating: 1, count: x.rank - 1)) : inputs[0]
            return [inputs[0], mask]

        case .seRKD(.superpixelTokens(let clustering)):
            try arity(1)
            try floats()
            let x = inputs[0].shape
            let (h, w, g) = (clustering.height, clustering.width, clustering.grid)
            try require(x.rank == 3, "expects tokens [B, N, D], got \(x)")
            try require(h > 0 && w > 0 && h * w == x[1], "\(x[1]) tokens do not form a \(h)×\(w) grid")
            try require(g > 0 && h % g == 0 && w % g == 0, "grid \(g) does not divide the \(h)×\(w) token map")
            try require(clustering.iterations >= 0, "iterations must be ≥ 0")
            let m = clustering.superTokenCount
            return [f32([x[0], m, x[2]]), f32([x[0], x[1], m])]

        case .seRKD(.rkdDistance), .seRKD(.rkdAngle):
            try arity(2)
            try floats()
            let s = inputs[0].shape, t = inputs[1].shape
            try require(s.rank == 3 && t.rank == 3 && s[0] == t[0] && s[1] == t[1],
                        "student \(s) and teacher \(t) must be [B, N, D] with the same B and N")
            try require(s[1] >= 2, "relations need at least 2 tokens per image, got \(s[1])")
            if case .seRKD(.rkdAngle(let chunk)) = self { try require(chunk > 0, "chunk must be positive") }
            return [f32([])]

        case .seRKD(.rkdDistanceBackward), .seRKD(.rkdAngleBackward):
            try arity(3)
            try floats()
            let s = inputs[0].shape, t = inputs[1].shape
            try require(s.rank == 3 && t.rank == 3 && s[0] == t[0] && s[1] == t[1],
                        "student \(s) and teacher \(t) must be [B, N, D] with the same B and N")
            try require(s[1] >= 2, "relations need at least 2 tokens per image, got \(s[1])")
            if case .seRKD(.rkdAngleBackward(let chunk)) = self { try require(chunk > 0, "chunk must be positive") }
            try scalar(2)
            return [inputs[0]]

        case .loss(.distillationKL(let temperature)), .loss(.distillationKLBackward(let temperature)):
            let backward = { if case .loss(.distillationKLBackward) = self { return true } else { return false } }()
            try arity(backward ? 3 : 2)
            try floats()
            try require(inputs[0].shape.rank == 2 && inputs[0] == inputs[1], "student \(inputs[0]) and teacher \(inputs[1]) logits must both be [B, classes]")
            try require(temperature > 0 && temperature.isFinite, "temperature must be positive, got \(temperature)")
            if backward { try scalar(2) }
            return [backward ? inputs[0] : f32([])]

        case .optimizer(.adamW):
            try arity(6)
            try floats()
            try require(inputs[1] == inputs[0] && inputs[2] == inputs[0] && inputs[3] == inputs[0],
                        "gradient and moments must be shaped like the parameter \(inputs[0])")
            try scalar(4)
            try scalar(5)
            return [inputs[0], inputs[0], inputs[0]]

        case .optimizer(.sgd):
            try arity(4)
            try floats()
            try require(inputs[1] == inputs[0] && inputs[2] == inputs[0], "gradient and velocity must be shaped like the parameter \(inputs[0])")
            try scalar(3)
            return [inputs[0], inputs[0]]

        case .collective(let op):
            return try op.outputTypes(for: inputs)
        }
    }

    /// Inputs of training ops that are not float32 data (gather indices, dropout step).
    private func isIndexInput(_ index: Int) -> Bool {
        switch self {
        case .gradient(let op):
            switch op {
            case .scatterAdd, .dropout:
                index == 1
            case .convBackwardData, .convBackwardWeight, .maxPoolBackward, .averagePoolBackward, .unaryBackward,
                 .softmaxBackward, .logSoftmaxBackward, .layerNormBackward, .batchNormTraining, .batchNormBackward,
                 .sliceBackward:
                false
            }
        case .seRKD, .loss, .optimizer, .collective:
            false
        }
    }
}
