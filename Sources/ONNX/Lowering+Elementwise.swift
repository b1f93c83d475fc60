import GraphIR

// Elementwise ONNX ops: activations, arithmetic, comparisons, logic, casts.
extension Importer {
    /// `f(x)`; only neg/abs/relu also take integers.
    mutating func unary(_ function: UnaryFunction) throws -> [ValueID?] {
        let x = try input(0)
        switch function {
        case .neg, .abs, .relu:
            guard type(x).dtype != .bool else { throw LoweringError.unsupported("bool input") }
        default:
            try requireFloat(x)
        }
        return [try apply1(.unary(function), [x])]
    }

    /// `f(a, b)` with numpy broadcasting.
    mutating func binary(_ function: BinaryFunction) throws -> [ValueID?] {
        try rejectLegacyBroadcast()
        var a = try input(0), b = try input(1)
        let (ta, tb) = (type(a).dtype, type(b).dtype)
        guard ta != .bool, tb != .bool else { throw LoweringError.unsupported("bool arithmetic") }
        if function == .pow && ta != tb {
            // ONNX lets the exponent's type differ; the result has the base's type.
            if ta == .float32 {
                b = try cast(b, to: .float32, "exponent")
            } else {
                a = try cast(a, to: .float32, "base")
                let power = try apply1(.binary(.pow), [a, b], "pow")
                return [try apply1(.cast(ta), [power])]
            }
        }
        guard type(a).dtype == type(b).dtype else { throw LoweringError.invalid("operands have types \(ta.shortName) and \(tb.shortName)") }
        return [try apply1(.binary(function), [a, b])]
    }

    /// `Max`, `Min`, `Sum`: a binary function folded over one or more inputs.
    mutating func variadic(_ function: BinaryFunction) throws -> [ValueID?] {
        try rejectLegacyBroadcast()
        let inputs = try presentInputs()
        guard var result = inputs.first else { throw LoweringError.invalid("needs at least one input") }
        guard type(result).dtype != .bool else { throw LoweringError.unsupported("bool inputs") }
        if inputs.count == 1 { return [try apply1(.identity, [result])] }
        for (index, next) in inputs.dropFirst().enumerated() {
            result = try apply1(.binary(function), [result, next], index == inputs.count - 2 ? "" : "\(function.rawValue)\(index)")
        }
        return [result]
    }

    /// `Mean`: the sum of the inputs divided by their count.
    mutating func mean() throws -> [ValueID?] {
        let inputs = try presentInputs()
        guard !inputs.isEmpty else { throw LoweringError.invalid("needs at least one input") }
        try requireFloat(inputs[0])
        var sum = inputs[0]
        for (index, next) in inputs.dropFirst().enumerated() { sum = try apply1(.binary(.add), [sum, next], "add\(index)") }
        let count = scalar(Double(inputs.count), .float32, "count")
        return [try apply1(.binary(.div), [sum, count])]
    }

    /// `a ⋚ b`; `Not(Less)` and friends are spelt out by the IR's five comparisons.
    mutating func compare(_ comparison: Comparison) throws -> [ValueID?] {
        try rejectLegacyBroadcast()
        let a = try input(0), b = try input(1)
        guard type(a).dtype == type(b).dtype else {
            throw LoweringError.invalid("operands have types \(type(a).dtype.shortName) and \(type(b).dtype.shortName)")
        }
        return [try apply1(.compare(comparison), [a, b])]
    }

    /// `Not`, `And`, `Or`, `Xor` on bool tensors (And = a ? b : a, Or = a ? a : b, Xor = not(a == b)).
    mutating func logic(_ opType: String) throws -> [ValueID?] {
        let a = try input(0)
        guard type(a).dtype == .bool else { throw LoweringError.invalid("inputs must be bool") }
        if opType == "Not" { return [try apply1(.logicalNot, [a])] }
        try rejectLegacyBroadcast()
        let b = try input(1)
        guard type(b).dtype == .bool else { throw LoweringError.invalid("inputs must be bool") }
        switch opType {
        case "And": return [try apply1(.select, [a, b, a])]
        case "Or": return [try apply1(.select, [a, a, b])]
        default: return [try apply1(.logicalNot, [try apply1(.compare(.equal), [a, b], "equal")])]
        }
    }

    /// `Where(condition, x, y)`.
    mutating func select() throws -> [ValueID?] {
        let condition = try input(0), x = try input(1), y = try input(2)
        guard type(condition).dtype == .bool else { throw LoweringError.invalid("condition must be bool") }
        return [try apply1(.select, [condition, x, y])]
    }

    /// `Cast` and `CastLike`.
    mutating func castNode() throws -> [ValueID?] {
        let x = try input(0)
        let target: DType
        if node.opType == "CastLike" {
            target = type(try input(1)).dtype
        } else {
            if case .string = node.attributes["to"] { throw LoweringError.unsupported("'to' given as a type name (opset < 6)") }
            guard let code = try node.int("to") else { throw LoweringError.invalid("attribute 'to' is missing") }
            let element = ElementType(code: Int32(truncatingIfNeeded: code))
            guard let stored = element.storedAs else { throw LoweringError.unsupported("cast to \(element)") }
            target = stored
        }
        return [try apply1(.cast(target), [x])]
    }

    /// `Clip`: bounds from attributes (opset < 11) or optional inputs. Float inputs with known
    /// bounds become one `clip`; otherwise `max` then `min`.
    mutating func clip() throws -> [ValueID?] {
        let x = try input(0)
        let dtype = type(x).dtype
        guard dtype != .bool else { throw LoweringError.unsupported("bool input") }
        if opset < 11 {
            let low = try node.float("min", default: -Float.greatestFiniteMagnitude)
            let high = try node.float("max", default: Float.greatestFiniteMagnitude)
            try requireFloat(x)
            return [try apply1(.unary(.clip(min: low, max: high)), [x])]
        }
        let low = try optionalInput(1), high = try optionalInput(2)
        let lowData = low.flatMap(constantData), highData = high.flatMap(constantData)
        if dtype == .float32, low == nil || lowData?.elementCount == 1, high == nil || highData?.elementCount == 1 {
            let lo = lowData.map { Float($0.doubles[0]) } ?? -.infinity
            let hi = highData.map { Float($0.doubles[0]) } ?? .infinity
            return [try apply1(.unary(.clip(min: lo, max: hi)), [x])]
        }
        var result = x
        if let low { result = try apply1(.binary(.max), [result, low], high == nil ? "" : "min_bound") }
        if let high { result = try apply1(.binary(.min), [result, high]) }
        return [result == x ? try apply1(.identity, [x]) : result]
    }

    mutating func leakyRelu() throws -> [ValueID?] {
        let x = try input(0)
        try requireFloat(x)
        return [try apply1(.unary(.leakyRelu(alpha: try node.float("alpha", default: 0.01))), [x])]
    }

    mutating func hardSigmoid() throws -> [ValueID?] {
        let x = try input(0)
        try requireFloat(x)
        let alpha = try node.float("alpha", default: 0.2), beta = try node.float("beta", default: 0.5)
        return [try apply1(.unary(.hardSigmoid(alpha: alpha, beta: beta)), [x])]
    }

    mutating func gelu() throws -> [ValueID?] {
        let x = try input(0)
        try requireFloat(x)
        switch try node.string("approximate", default: "none") {
        case "none": return [try apply1(.unary(.gelu), [x])]
        case "tanh": return [try apply1(.unary(.geluTanh), [x])]
        case let other: throw LoweringError.unsupported("approximate '\(other)'")
        }
    }

    /// `PRelu(x, slope)` = x < 0 ? slope·x : x.
    mutating func prelu() throws -> [ValueID?] {
        let x = try input(0), slope = try input(1)
        try requireFloat(x)
        try requireFloat(slope, "slope")
        let zero = scalar(0, .float32, "zero")
        let negative = try apply1(.compare(.less), [x, zero], "negative")
        let scaled = try apply1(.binary(.mul), [x, slope], "scaled")
        return [try apply1(.select, [negative, scaled, x])]
    }

    /// `Identity`: the ONNX name becomes another name for the input's value.
    mutating func identity() throws -> [ValueID?] {
        [try input(0)]
    }

    /// `Dropout` at inference: the input passes through; the mask, if asked for, is all true.
    mutating func dropout() throws -> [ValueID?] {
        let x = try input(0)
        if opset < 7, try node.int("is_test", default: 0) == 0 { throw LoweringError.unsupported("training mode (is_test = 0)") }
        if opset >= 12, let training = try constantInput(2, "training_mode"), training.doubles.contains(where: { $0 != 0 }) {
            throw LoweringError.unsupported("training mode")
        }
        guard node.outputs.count > 1, !node.outputs[1].isEmpty else { return [x] }
        let shape = type(x).shape
        let truth = constant(Tensor([true], shape: Shape(Array(repeating: 1, count: shape.rank))), "true")
        return [x, try apply1(.expand(shape), [truth], "mask")]
    }

    /// Before opset 7, binary ops broadcast only with an explicit `broadcast`/`axis` attribute.
    private func rejectLegacyBroadcast() throws {
        if opset < 7, try node.int("broadcast", default: 0) != 0 {
            throw LoweringError.unsupported("legacy 'broadcast' attribute")
        }
    }
}
