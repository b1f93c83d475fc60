import GraphIR

/// The plain, obviously-correct evaluation of every core op: the executable statement of what each
/// op in `Op` means.
///
/// The ONNX importer folds constant subgraphs with it, every fast runtime kernel is tested against
/// it, and conformance tests run whole graphs through it. It favours clarity over speed: float32
/// ops compute in Double and round once per output element, so no kernel can be more accurate than
/// the yardstick it is checked against; int64 ops compute in Int64 with wrapping arithmetic.
public enum Reference {
    /// Evaluates one op on concrete input tensors; output dtypes/shapes follow `op.outputTypes(for:)`.
    ///
    /// Throws `InvalidInput` without a subject (so callers can attribute it with `about(_:)`) when
    /// the inputs break the op's constraints or their values are unusable (an out-of-range gather
    /// index, an integer division by zero).
    public static func evaluate(_ op: Op, _ inputs: [Tensor]) throws -> [Tensor] {
        let types = try op.outputTypes(for: inputs.map { TensorType($0.dtype, $0.shape) })
        let shape = types[0].shape
        let outputs: [Tensor]
        switch op {
        case .core(let op): outputs = try core(op, inputs, types: types)
        case .training(let op): outputs = try training(op, inputs, types: types)
        case .fused(let op): outputs = [try fused(op, inputs, shape: shape)]
        }
        precondition(outputs.map { TensorType($0.dtype, $0.shape) } == types, "Reference.\(op.kindName) disagrees with shape inference")
        return outputs
    }

    /// Evaluates a core op; `types` are its output types.
    static func core(_ op: CoreOp, _ inputs: [Tensor], types: [TensorType]) throws -> [Tensor] {
        let shape = types[0].shape
        let outputs: [Tensor]
        switch op {
        case .unary(let function): outputs = [unary(function, inputs[0])]
        case .binary(let function): outputs = [try binary(function, inputs[0], inputs[1], shape: shape)]
        case .compare(let comparison): outputs = [compare(comparison, inputs[0], inputs[1], shape: shape)]
        case .logicalNot: outputs = [Tensor(inputs[0].bools.map { !$0 }, shape: shape)]
        case .select: outputs = [select(inputs[0], inputs[1], inputs[2], shape: shape)]
        case .cast(let dtype): outputs = [cast(inputs[0], to: dtype)]
        case .identity: outputs = [inputs[0].copy()]
        case .matMul(let flags): outputs = [matMul(inputs[0], inputs[1], flags, shape: shape)]
        case .conv(let geometry): outputs = [conv(inputs[0], inputs[1], bias: inputs.count > 2 ? inputs[2] : nil, geometry, shape: shape)]
        case .maxPool(let geometry): outputs = [pool(inputs[0], geometry, average: false, shape: shape)]
        case .averagePool(let geometry): outputs = [pool(inputs[0], geometry, average: true, shape: shape)]
        case .globalAveragePool: outputs = [globalPool(inputs[0], average: true, shape: shape)]
        case .globalMaxPool: outputs = [globalPool(inputs[0], average: false, shape: shape)]
        case .batchNorm(let epsilon): outputs = [batchNorm(inputs, epsilon: epsilon)]
        case .layerNorm(let axis, let epsilon):
            outputs = layerNorm(inputs[0], scale: inputs[1], bias: inputs.count > 2 ? inputs[2] : nil, axis: axis, epsilon: epsilon,
                                statisticsShape: types[1].shape)
        case .softmax(let axis): outputs = [softmax(inputs[0], axis: axis, logarithm: false)]
        case .logSoftmax(let axis): outputs = [softmax(inputs[0], axis: axis, logarithm: true)]
        case .reduce(let kind, let axes, _): outputs = [reduce(kind, inputs[0], axes: axes, shape: shape)]
        case .argMax(let axis, _, let selectLastIndex): outputs = [argMax(inputs[0], axis: axis, selectLastIndex: selectLastIndex, shape: shape)]
        case .reshape: outputs = [inputs[0].copy().reshaped(shape)]
        case .transpose(let permutation): outputs = [transpose(inputs[0], permutation: permutation, shape: shape)]
        case .slice(let window): outputs = [slice(inputs[0], window, shape: shape)]
        case .concat(let axis): outputs = [concat(inputs, axis: axis, shape: shape)]
        case .gather(let axis): outputs = [try gather(inputs[0], indices: inputs[1], axis: axis, shape: shape)]
        case .expand: outputs = [take(inputs[0], broadcastIndices(from: inputs[0].shape, to: shape), shape: shape)]
        case .pad(let pads, let mode, let value): outputs = [try pad(inputs[0], pads: pads, mode: mode, value: value, shape: shape)]
        case .tile(let repeats): outputs = [tile(inputs[0], repeats: repeats, shape: shape)]
        }
        return outputs
    }

    /// Runs a whole graph: `inputs` in the order of `graph.inputs`; returns `graph.outputs` in order.
    /// Parameters/constants come from `graph.tensors`. Checks input dtypes/shapes (InvalidInput naming the input).
    ///
    /// Each intermediate is released after its last reader, so a deep network holds only the
    /// activations that are still needed.
    public static func run(_ graph: Graph, inputs: [Tensor]) throws -> [Tensor] {
        let subject = "graph '\(graph.name)'"
        guard inputs.count == graph.inputs.count else {
            throw InvalidInput(subject, "expects \(graph.inputs.count) input\(graph.inputs.count == 1 ? "" : "s"), got \(inputs.count)")
        }
        var values = [Tensor?](repeating: nil, count: graph.values.count)
        for (id, tensor) in graph.tensors { values[id.index] = tensor }
        for (id, tensor) in zip(graph.inputs, inputs) {
            let expected = graph.type(of: id), actual = TensorType(tensor.dtype, tensor.shape)
            guard actual == expected else { throw InvalidInput("input '\(graph[id].name)'", "expected \(expected), got \(actual)") }
            values[id.index] = tensor
        }

        var lastReader = [Int](repeating: -1, count: graph.values.count)
        for (index, node) in graph.nodes.enumerated() { for input in node.inputs { lastReader[input.index] = index } }
        let kept = Set(graph.outputs)

        for (index, node) in graph.nodes.enumerated() {
            let label = "node '\(node.name)' (\(node.op.kindName))"
            var arguments: [Tensor] = []
            for input in node.inputs {
                guard let tensor = values[input.index] else { throw InvalidInput(subject, "\(label) reads '\(graph[input].name)' before it is defined") }
                arguments.append(tensor)
            }
            let results: [Tensor]
            do {
                results = try evaluate(node.op, arguments)
            } catch let error as InvalidInput {
                throw InvalidInput(subject, "\(label): \(error.problem)")
            }
            for (output, result) in zip(node.outputs, results) { values[output.index] = result }
            for input in node.inputs where lastReader[input.index] == index && graph[input].kind == .intermediate && !kept.contains(input) {
                values[input.index] = nil
            }
        }

        return try graph.outputs.map { id in
            guard let tensor = values[id.index] else { throw InvalidInput(subject, "output '\(graph[id].name)' is never defined") }
            return tensor
        }
    }
}
