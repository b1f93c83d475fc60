import GraphIR
import Reference

/// A lowering rule: reads `importer.node` (at `importer.opset`) and returns the IR values of its
/// outputs, in order; a shorter list (or nil entries) means those outputs are not produced.
typealias LoweringRule = (inout Importer) throws -> [ValueID?]

// The helpers every rule uses: reading inputs, demanding constants, emitting core ops (folded when
// their inputs are known).
extension Importer {
    /// Input `index` of the current node, which must be present.
    func input(_ index: Int) throws -> ValueID {
        guard let value = try optionalInput(index) else { throw LoweringError.invalid("input \(index) is missing") }
        return value
    }

    /// Input `index`, or nil when omitted (absent or named "").
    func optionalInput(_ index: Int) throws -> ValueID? {
        guard index < node.inputs.count, !node.inputs[index].isEmpty else { return nil }
        let name = node.inputs[index]
        guard let value = values[name] else {
            throw LoweringError.invalid("input '\(name)' is not produced by an earlier node, an initializer or a graph input")
        }
        return value
    }

    /// All present inputs.
    func presentInputs() throws -> [ValueID] {
        try node.inputs.indices.compactMap { try optionalInput($0) }
    }

    func type(_ value: ValueID) -> TensorType { graph.type(of: value) }

    /// The data of a constant (a folded result, a bound input, an integer or scalar initializer):
    /// what folding may evaluate. Parameters (float weights) are not folded, so that a training step
    /// can still learn them.
    func constantData(_ value: ValueID) -> Tensor? {
        graph[value].kind == .constant ? graph.tensors[value] : nil
    }

    /// The data of input `index`, which must be known at import because it decides a shape or an
    /// attribute; nil when the input is omitted.
    func constantInput(_ index: Int, _ role: String) throws -> Tensor? {
        guard let value = try optionalInput(index) else { return nil }
        guard let data = graph.tensors[value] else {
            throw LoweringError.unsupported("input \(index) ('\(role)') must be known at import, but it depends on graph inputs")
        }
        return data
    }

    /// Input `index` as integers (for shapes, axes, pads), or nil when omitted.
    func integersInput(_ index: Int, _ role: String) throws -> [Int]? {
        guard let data = try constantInput(index, role) else { return nil }
        guard data.dtype == .int64 else { throw LoweringError.invalid("input \(index) ('\(role)') must be integers, got \(data.dtype.shortName)") }
        return data.int64s.map { Int($0) }
    }

    /// Input `index` as one float (a clip bound, a pad value), or nil when omitted.
    func scalarInput(_ index: Int, _ role: String) throws -> Double? {
        guard let data = try constantInput(index, role) else { return nil }
        guard data.elementCount == 1 else { throw LoweringError.invalid("input \(index) ('\(role)') must hold one value, got \(data.shape)") }
        return data.doubles[0]
    }

    /// Emits `op` on `inputs`, or evaluates it now when every input is a constant and the result
    /// does not materialise more data than the inputs hold (folding `Expand` of a weight would
    /// replace one parameter by many copies). `label` distinguishes helper nodes of one ONNX node.
    mutating func apply(_ op: Op, _ inputs: [ValueID], _ label: String = "") throws -> [ValueID] {
        let name = label.isEmpty ? node.label : node.label + "/" + label
        let types: [TensorType]
        do {
            types = try op.outputTypes(for: inputs.map { type($0) })
        } catch let error as InvalidInput {
            throw LoweringError.invalid("\(op.kindName): \(error.problem)")
        }
        let known = inputs.compactMap { constantData($0) }
        if known.count == inputs.count, Folding.isWorthIt(types, known) {
            let results: [Tensor]
            do {
                results = try Reference.evaluate(op, known)
            } catch let error as InvalidInput {
                throw LoweringError.invalid("\(op.kindName): \(error.problem)")
            }
            return results.enumerated().map { graph.addConstant(results.count == 1 ? name : "\(name):\($0.offset)", $0.element) }
        }
        do {
            return try graph.apply(op, inputs, name: name)
        } catch let error as InvalidInput {
            throw LoweringError.invalid(error.problem)
        }
    }

    /// `apply` for ops with one output.
    mutating func apply1(_ op: Op, _ inputs: [ValueID], _ label: String = "") throws -> ValueID {
        try apply(op, inputs, label)[0]
    }

    /// A new constant value.
    mutating func constant(_ tensor: Tensor, _ label: String) -> ValueID {
        graph.addConstant(node.label + "/" + label, tensor)
    }

    /// A scalar constant of `dtype` (reshaped to `rank` ones so it broadcasts without changing rank).
    mutating func scalar(_ value: Double, _ dtype: DType, rank: Int = 0, _ label: String) -> ValueID {
        constant(Tensor(doubles: [value], dtype: dtype, shape: Shape(Array(repeating: 1, count: rank))), label)
    }

    /// `value` reshaped by a helper node called `label`, or `value` itself when it has that shape.
    mutating func reshape(_ value: ValueID, _ shape: Shape, _ label: String) throws -> ValueID {
        type(value).shape == shape ? value : try apply1(.reshape(shape), [value], label)
    }

    /// `value` converted to `dtype` (no-op when it already is).
    mutating func cast(_ value: ValueID, to dtype: DType, _ label: String) throws -> ValueID {
        type(value).dtype == dtype ? value : try apply1(.cast(dtype), [value], label)
    }

    /// Checks a shape computed from model data before any IR code multiplies its extents.
    func checkedShape(_ dims: [Int], _ what: String) throws -> Shape {
        let shape = Shape(dims)
        guard let count = shape.checkedElementCount, count <= ShapeLimits.maxElements else {
            throw LoweringError.invalid("\(what) \(dims) is not a valid shape")
        }
        return shape
    }

    /// Resolves an axis attribute or input against `rank`.
    func axis(_ axis: Int, rank: Int, _ what: String = "axis") throws -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard (0..<rank).contains(resolved) else { throw LoweringError.invalid("\(what) \(axis) is out of range for rank \(rank)") }
        return resolved
    }

    /// Fails unless the value is float32 (ops the IR computes only in float).
    func requireFloat(_ value: ValueID, _ role: String = "input") throws {
        let dtype = type(value).dtype
        guard dtype == .float32 else { throw LoweringError.unsupported("\(role) of type \(dtype.shortName) (serkd computes it in float32 only)") }
    }
}
