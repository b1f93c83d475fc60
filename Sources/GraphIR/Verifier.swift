import Tensor

/// Checks the invariants every pass must preserve, and says which one broke.
///
/// - every value is defined once: by the graph (input, parameter, constant) or by one node output;
/// - each node comes after the producers of its inputs;
/// - node output types are what shape inference gives for its input types;
/// - parameters, constants and state, and only they, carry data of their declared type;
/// - graph outputs are defined.
public enum Verifier {
    /// Throws an `InvalidInput` naming the first broken invariant.
    public static func verify(_ graph: Graph) throws {
        func fail(_ message: String) -> InvalidInput { InvalidInput("graph '\(graph.name)'", message) }
        var defined = [Bool](repeating: false, count: graph.values.count)
        for (index, value) in graph.values.enumerated() {
            let id = ValueID(index)
            switch value.kind {
            case .parameter, .constant, .state:
                guard let tensor = graph.tensors[id] else { throw fail("\(value.kind.rawValue) '\(value.name)' has no data") }
                guard tensor.dtype == value.type.dtype && tensor.shape == value.type.shape else {
                    throw fail("data of '\(value.name)' is \(tensor.dtype.shortName)\(tensor.shape), declared \(value.type)")
                }
                defined[index] = true
            case .input:
                guard graph.inputs.contains(id) else { throw fail("input '\(value.name)' is not listed as a graph input") }
                defined[index] = true
            case .intermediate:
                if graph.tensors[id] != nil { throw fail("intermediate '\(value.name)' carries data") }
            }
        }
        for id in graph.inputs where graph[id].kind != .input {
            throw fail("graph input '\(graph[id].name)' is a \(graph[id].kind.rawValue)")
        }
        for node in graph.nodes {
            let label = "node '\(node.name)' (\(node.op.kindName))"
            for input in node.inputs {
                guard input.index >= 0 && input.index < graph.values.count else { throw fail("\(label) reads an unknown value \(input)") }
                guard defined[input.index] else { throw fail("\(label) reads '\(graph[input].name)' before it is defined") }
            }
            let expected: [TensorType]
            do {
                expected = try node.op.outputTypes(for: node.inputs.map { graph.type(of: $0) })
            } catch let error as InvalidInput {
                throw fail("\(label): \(error.problem)")
            }
            guard expected.count == node.outputs.count else {
                throw fail("\(label) has \(node.outputs.count) outputs, its op produces \(expected.count)")
            }
            for (output, type) in zip(node.outputs, expected) {
                guard output.index >= 0 && output.index < graph.values.count else { throw fail("\(label) writes an unknown value") }
                let value = graph[output]
                guard value.kind == .intermediate else { throw fail("\(label) writes the \(value.kind.rawValue) '\(value.name)'") }
                guard !defined[output.index] else { throw fail("'\(value.name)' is defined twice") }
                guard value.type == type else { throw fail("\(label) output '\(value.name)' is declared \(value.type), inferred \(type)") }
                defined[output.index] = true
            }
        }
        for output in graph.outputs where !defined[output.index] {
            throw fail("output '\(graph[output].name)' is never defined")
        }
    }
}
