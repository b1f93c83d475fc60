import Tensor

extension Op {
    /// Output types of the fused ops (linear, convActivation, attention, elementwise): those of the
    /// compositions they replace.
    func fusedOutputTypes(for inputs: [TensorType]) throws -> [TensorType] {
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
        default:
            preconditionFailure("\(kindName) is not a fused op")
        }
    }

    /// The attributes of the fused ops, by name, in a fixed order (see `attributes`).
    var fusedAttributes: [(name: String, value: AttributeValue)] {
        switch self {
        case .linear(let flags, let bias, let activation):
            return Op.matMul(flags).attributes + [("bias", .string(bias.rawValue)), ("activation", .string(activation?.text ?? "none"))]
        case .convActivation(let geometry, let activation):
            return Op.conv(geometry).attributes + [("activation", .string(activation.text))]
        case .attention(let scale, let keysTransposed):
            return [("scale", .float(scale)), ("keys_transposed", .int(keysTransposed ? 1 : 0))]
        case .elementwise(let program):
            return [("inputs", .int(program.inputCount)), ("program", .string(program.text))]
        default:
            preconditionFailure("\(kindName) is not a fused op")
        }
    }

    /// Rebuilds a fused op from its kind name and attributes; nil when `kindName` names none.
    static func fused(kindName: String, attributes: [String: AttributeValue]) throws -> Op? {
        func string(_ key: String) throws -> String {
            guard case .string(let v) = attributes[key] else { throw InvalidInput(nil, "\(kindName) needs string attribute '\(key)'") }
            return v
        }
        func activation() throws -> UnaryFunction? {
            let text = try string("activation")
            if text == "none" { return nil }
            guard let f = UnaryFunction(text: text) else { throw InvalidInput(nil, "\(kindName) has unknown activation '\(text)'") }
            return f
        }
        switch kindName {
        case "linear":
            guard case .matMul(let flags) = try Op(kindName: "matmul", attributes: attributes) else { return nil }
            guard let bias = LinearBias(rawValue: try string("bias")) else { throw InvalidInput(nil, "\(kindName) has an unknown bias kind") }
            return .linear(flags, bias: bias, activation: try activation())
        case "conv_activation":
            guard case .conv(let geometry) = try Op(kindName: "conv", attributes: attributes) else { return nil }
            guard let f = try activation() else { throw InvalidInput(nil, "\(kindName) needs an activation") }
            return .convActivation(geometry, activation: f)
        case "attention":
            let scale: Float
            switch attributes["scale"] {
            case .float(let v): scale = v
            case .int(let v): scale = Float(v)
            default: throw InvalidInput(nil, "\(kindName) needs float attribute 'scale'")
            }
            guard case .int(let transposed)? = attributes["keys_transposed"] else {
                throw InvalidInput(nil, "\(kindName) needs integer attribute 'keys_transposed'")
            }
            return .attention(scale: scale, keysTransposed: transposed != 0)
        case "elementwise":
            guard case .int(let count)? = attributes["inputs"], count >= 0 else { throw InvalidInput(nil, "\(kindName) needs integer attribute 'inputs'") }
            return .elementwise(try ElementwiseProgram(text: try string("program"), inputCount: count))
        default:
            return nil
        }
    }
}
