import Compiler
import Foundation
import GraphIR
@testable import Reference
import Runtime
import Tensor
import Testing

/// Helpers shared by the SeRKD tests (prefixed so other Distill test files can have their own).
enum SeRKDCheck {
    /// Tests/Fixtures/serkd, made by scripts/make_serkd_fixtures.py.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/serkd").path

    /// A fixture array.
    static func fixture(_ name: String) throws -> Tensor {
        try NumPyFile.read("\(fixtures)/\(name).npy")
    }

    /// Deterministic float32 tokens uniform in offset ± 1 (SplitMix64), so a failure reproduces exactly.
    static func tokens(_ shape: Shape, seed: UInt64, offset: Float = 0) -> Tensor {
        var state = seed
        let values = (0..<shape.elementCount).map { _ -> Float in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            return offset + 2 * Float(z >> 40) / Float(1 << 24) - 1
        }
        return Tensor(values, shape: shape)
    }

    /// Runs one op through the compiler and the executor: lowering, memory plan, kernel.
    static func run(_ op: Op, _ inputs: [Tensor]) throws -> [Tensor] {
        var graph = Graph(name: "serkd-op")
        let ids = inputs.enumerated().map { graph.addInput("input\($0.offset)", TensorType($0.element.dtype, $0.element.shape)) }
        graph.outputs = try graph.apply(op, ids, name: "op")
        return try Executor(try Lowering.plan(graph).plan).run(inputs)
    }

    /// max |a − e| / max |e| over the elements: the error relative to the tensor's scale.
    static func relativeError(_ actual: [Double], _ expected: [Double]) -> Double {
        precondition(actual.count == expected.count, "\(actual.count) vs \(expected.count) values")
        let scale = expected.map(abs).max() ?? 0
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        return scale > 0 ? worst / scale : worst
    }

    static func relativeError(_ actual: Tensor, _ expected: Tensor) -> Double {
        precondition(actual.shape == expected.shape, "\(actual.shape) vs \(expected.shape)")
        return relativeError(actual.doubles, expected.doubles)
    }

    /// Central differences of `f` at `x` along the coordinates `indices`, step h.
    static func centralDifferences(_ f: ([Double]) -> Double, at x: [Double], indices: [Int], step h: Double = 1e-5) -> [Double] {
        indices.map { index in
            var plus = x, minus = x
            plus[index] += h
            minus[index] -= h
            return (f(plus) - f(minus)) / (2 * h)
        }
    }
}

extension Reference.TokenBatch {
    /// The same token layout with other values (for perturbing a batch).
    func with(_ values: [Double]) -> Self { Self(values: values, batch: batch, count: count, width: width) }
}
