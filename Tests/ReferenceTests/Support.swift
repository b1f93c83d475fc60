import GraphIR
import Reference
import Testing

/// Evaluates a single-output op.
func evaluate(_ op: Op, _ inputs: Tensor...) throws -> Tensor {
    try Reference.evaluate(op, inputs)[0]
}

/// A float32 tensor of consecutive values `start, start + 1, …` in row-major order.
func counting(_ shape: Shape, from start: Float = 1) -> Tensor {
    Tensor((0..<shape.elementCount).map { start + Float($0) }, shape: shape)
}

/// Expects a float32 tensor of `shape` whose elements lie within a relative `tolerance` of
/// `expected` (|actual − expected| ≤ tolerance · max(1, |expected|)); with tolerance 0 each element
/// must be exactly `expected` rounded to Float, and NaN must match NaN.
func expectValues(_ tensor: Tensor, _ expected: [Double], shape: Shape, tolerance: Double = 0,
                  sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(tensor.dtype == .float32 && tensor.shape == shape, "got \(tensor.dtype.shortName)\(tensor.shape)", sourceLocation: sourceLocation)
    guard tensor.dtype == .float32 && tensor.elementCount == expected.count else { return }
    for (index, (actual, wanted)) in zip(tensor.floats, expected).enumerated() {
        let matches = wanted.isNaN ? actual.isNaN
            : tolerance == 0 ? actual == Float(wanted) : abs(Double(actual) - wanted) <= tolerance * max(1, abs(wanted))
        #expect(matches, "element \(index): \(actual), expected \(wanted) ± \(tolerance)", sourceLocation: sourceLocation)
    }
}
