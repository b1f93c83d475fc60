import Foundation
import GraphIR
import Reference
import Runtime
import Tensor
import Testing

/// Deterministic pseudo-random test data (SplitMix64), so a failure reproduces exactly.
struct Noise {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func float(in range: ClosedRange<Float> = -1...1) -> Float {
        range.lowerBound + (range.upperBound - range.lowerBound) * Float(next() >> 40) / Float(1 << 24)
    }

    /// A float32 tensor with elements uniform in `range`.
    mutating func tensor(_ shape: Shape, in range: ClosedRange<Float> = -1...1) -> Tensor {
        Tensor((0..<shape.elementCount).map { _ in float(in: range) }, shape: shape)
    }

    /// An int64 tensor with elements uniform in `range`.
    mutating func integers(_ shape: Shape, in range: ClosedRange<Int64>) -> Tensor {
        let width = UInt64(range.upperBound - range.lowerBound + 1)
        return Tensor((0..<shape.elementCount).map { _ in range.lowerBound + Int64(next() % width) }, shape: shape)
    }

    /// A bool tensor with random elements.
    mutating func bools(_ shape: Shape) -> Tensor {
        Tensor((0..<shape.elementCount).map { _ in next() & 1 == 1 }, shape: shape)
    }
}

extension Tensor {
    var f32: UnsafeMutablePointer<Float> { rawPointer.assumingMemoryBound(to: Float.self) }
    var i64: UnsafeMutablePointer<Int64> { rawPointer.assumingMemoryBound(to: Int64.self) }
    var u8: UnsafeMutablePointer<UInt8> { rawPointer.assumingMemoryBound(to: UInt8.self) }
}

/// The yardstick's single output for `op` on `inputs`.
func reference(_ op: Op, _ inputs: [Tensor]) throws -> Tensor {
    try Reference.evaluate(op, inputs)[0]
}

/// The output shape shape inference gives `op` on `inputs`.
func outputShape(_ op: Op, _ inputs: [Tensor]) throws -> Shape {
    try op.outputTypes(for: inputs.map { TensorType($0.dtype, $0.shape) })[0].shape
}

/// max |actual − expected| over the elements, divided by max |expected| (or 1 when that is below 1):
/// the error relative to the output's scale. Matching NaNs count as equal; a NaN on one side only is
/// an infinite error.
func scaledError(_ actual: Tensor, _ expected: Tensor) -> Double {
    precondition(actual.shape == expected.shape, "\(actual.shape) vs \(expected.shape)")
    let a = actual.doubles, e = expected.doubles
    let scale = max(1, e.filter(\.isFinite).map(abs).max() ?? 1)
    var worst = 0.0
    for (x, y) in zip(a, e) {
        if x.isNaN && y.isNaN || x == y { continue }
        worst = max(worst, x.isNaN || y.isNaN ? .infinity : abs(x - y) / scale)
    }
    return worst
}

/// Expects `actual` to equal `expected` in dtype and shape, and in value within `tolerance` relative
/// to the output's scale (0 demands identical values).
func expectClose(_ actual: Tensor, _ expected: Tensor, tolerance: Double, _ comment: Comment? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.dtype == expected.dtype, comment, sourceLocation: sourceLocation)
    #expect(actual.shape == expected.shape, comment, sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let error = scaledError(actual, expected)
    #expect(error <= tolerance, "error \(error) \(comment.map { "— \($0)" } ?? "")", sourceLocation: sourceLocation)
}

/// Float32 ulps between `value` and the exact `expected`: the distance in units of the spacing of
/// floats at `expected`'s magnitude (subnormal spacing below the normal range).
func ulps(_ value: Float, from expected: Double) -> Double {
    if value.isNaN && expected.isNaN { return 0 }
    if Double(value) == expected { return 0 }
    if value.isNaN || expected.isNaN || value.isInfinite { return .infinity }
    let rounded = Float(expected)
    let spacing = rounded.isInfinite ? Double(Float.greatestFiniteMagnitude.ulp) : Double(rounded.magnitude.ulp)
    return abs(Double(value) - expected) / spacing
}

/// A zeroed scratch buffer of `bytes`, released when `body` returns.
func withWorkspace<R>(_ bytes: Int, _ body: (UnsafeMutableRawPointer) throws -> R) rethrows -> R {
    let workspace = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
    defer { workspace.deallocate() }
    return try body(workspace)
}
