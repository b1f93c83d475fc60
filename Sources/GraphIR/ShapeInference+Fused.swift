import Tensor

extension FusedOp {
    /// Output types of the fused ops (linear, convActivation, attention, elementwise): those of the
    /// compositions they replace.
    func outputTypes(for inputs: [TensorType]) throws -> [TensorType] {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw InvalidInput(nil, message()) }
        }
        for (index, input) in inputs.enumerated() {
            try require(input.dtype == .float32, "input \(index) must be f32, got \(input)")
        }
        switch self {
        case .linear(let flags, let bias, let activation):
            try require(inputs.count == (bias == .none ? 2 : 3), "expects \(bias == .none ? 2 : 3) inputs, got \(inputs.count)")
            var product = try Op.matMul(flags).outputTypes(for: Array(inputs[..<2]))[0]
            if bias != .none {
                let dims = product.shape.dims
                let length = bias == .column ? dims[dims.count - 1] : dims[dims.count - 2]
                let vector = inputs[2].shape.dims
                let aligned = bias == .column ? vector.last == length : vector.count >= 2 && vector[vector.count - 2] == length && vector.last == 1
                try require(aligned && inputs[2].shape.elementCount == length && vector.count <= dims.count,
                            "a \(bias.rawValue) bias of the \(product.shape) product must hold \(length) values along that axis, got \(inputs[2].shape)")
                product = try Op.binary(.add).outputTypes(for: [product, inputs[2]])[0]
            }
            if let activation { product = try Op.unary(activation).outputTypes(for: [product])[0] }
            return [product]

        case .convActivation(let geometry, _):
            return try Op.conv(geometry).outputTypes(for: inputs)

        case .attention(_, let keysTransposed):
            try require(inputs.count == 3, "expects Q, K and V, got \(inputs.count) inputs")
            let q = inputs[0].shape, k = inputs[1].shape, v = inputs[2].shape
            try require(q.rank >= 2 && k.rank == q.rank && v.rank == q.rank, "Q \(q), K \(k) and V \(v) must share a rank ≥ 2")
            let leading = Array(q.dims.dropLast(2))
            try require(Array(k.dims.dropLast(2)) == leading && Array(v.dims.dropLast(2)) == leading,
                        "Q \(q), K \(k) and V \(v) must agree on their leading axes")
            let (keys, depth) = keysTransposed ? (k[-1], k[-2]) : (k[-2], k[-1])
            try require(depth == q[-1], "keys \(k)\(keysTransposed ? " (transposed)" : "") have depth \(depth), queries \(q) have \(q[-1])")
            try require(v[-2] == keys, "values \(v) must have one row per key (\(keys))")
            return [TensorType(.float32, Shape(leading + [q[-2], v[-1]]))]

        case .elementwise(let program):
            try require(program.inputCount == inputs.count, "program reads \(program.inputCount) inputs, the node has \(inputs.count)")
            if let problem = program.problem { throw InvalidInput(nil, problem) }
            try require(!inputs.isEmpty, "expects at least one input")
            let shape = try inputs.dropFirst().reduce(inputs[0].shape) { shape, next in
                guard let result = Shape.broadcast(shape, next.shape) else {
                    throw InvalidInput(nil, "cannot broadcast \(shape) with \(next.shape)")
                }
                return result
            }
            return [TensorType(.float32, shape)]
        }
    }
}
