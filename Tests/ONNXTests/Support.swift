import Foundation
import GraphIR
import ONNX
import Reference
import Testing

/// Writes `model` to a scratch folder and imports it.
func importModel(_ model: ModelSpec, options: ONNXImport.Options = .init()) throws -> Graph {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    let path = folder.file("model.onnx")
    try model.write(to: path)
    return try ONNXImport.graph(fromFile: path, options: options)
}

/// Imports `model` and runs it on `inputs` with the reference interpreter.
func run(_ model: ModelSpec, _ inputs: [Tensor], options: ONNXImport.Options = .init()) throws -> [Tensor] {
    let graph = try importModel(model, options: options)
    try Verifier.verify(graph)
    return try Reference.run(graph, inputs: inputs)
}

/// A model of one node: float inputs named after `inputs` with the given dims, one output per name
/// in `outputs`.
func singleNode(_ op: String, inputs: [(String, [Int?])], outputs: [String] = ["y"], _ attributes: [AttributeSpec] = [],
                initializers: [TensorSpec] = [], opset: Int = 17, inputTypes: [Int32]? = nil) -> ModelSpec {
    var model = ModelSpec(opset: opset)
    let initialized = Set(initializers.map(\.name))
    model.inputs = inputs.enumerated().filter { !initialized.contains($0.element.0) && !$0.element.0.isEmpty }.map { index, input in
        PortSpec(input.0, input.1, type: inputTypes?[index] ?? 1)
    }
    model.initializers = initializers
    model.outputs = outputs.map { PortSpec($0, []) }
    model.nodes = [NodeSpec(op, inputs.map(\.0), outputs, attributes, name: "node")]
    return model
}

/// Expects `actual` to equal `expected` within `tolerance` (absolute), with the same shape.
func expectClose(_ actual: Tensor, _ expected: [Double], shape: Shape, tolerance: Double = 1e-6,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape == shape, "shape \(actual.shape), expected \(shape)", sourceLocation: sourceLocation)
    let values = actual.doubles
    #expect(values.count == expected.count, sourceLocation: sourceLocation)
    for (index, (a, e)) in zip(values, expected).enumerated() where !(abs(a - e) <= tolerance || (a.isNaN && e.isNaN)) {
        Issue.record("element \(index): \(a), expected \(e)", sourceLocation: sourceLocation)
    }
}

/// The error message a throwing expression produces, or nil if it does not throw.
func message(of body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return "\(error)"
    }
}
