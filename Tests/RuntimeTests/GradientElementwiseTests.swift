import GraphIR
import Reference
@testable import Runtime
import Tensor
import Testing

/// A unary function and the inputs its derivative is checked on.
struct UnaryGradientCase: Sendable, CustomTestStringConvertible {
    var function: UnaryFunction
    var range: ClosedRange<Float>
    /// Inputs at kinks and boundaries, checked as exactly as the smooth parts.
    var special: [Float] = []

    var testDescription: String { "\(function)" }
}

@Suite struct GradientElementwiseTests {
    static let cases: [UnaryGradientCase] = [
        UnaryGradientCase(function: .neg, range: -4...4),
        UnaryGradientCase(function: .abs, range: -4...4, special: [0, -0]),
        UnaryGradientCase(function: .exp, range: -10...10),
        UnaryGradientCase(function: .log, range: 0.05...20),
        UnaryGradientCase(function: .sqrt, range: 0.05...20),
        UnaryGradientCase(function: .reciprocal, range: 0.2...5, special: [-0.5, -3]),
        UnaryGradientCase(function: .sigmoid, range: -20...20, special: [0, -90, 90]),
        UnaryGradientCase(function: .tanh, range: -6...6, special: [0, 0.625, -0.625, 12]),
        UnaryGradientCase(function: .erf, range: -4...4, special: [0, 0.875, -0.875]),
        UnaryGradientCase(function: .relu, range: -4...4, special: [0, -0]),
        UnaryGradientCase(function: .leakyRelu(alpha: 0.1), range: -4...4, special: [0]),
        UnaryGradientCase(function: .gelu, range: -8...8, special: [0, -1.237, 1.237, -5.6]),
        UnaryGradientCase(function: .geluTanh, range: -8...8, special: [0, -3, 3]),
        UnaryGradientCase(function: .hardSigmoid(alpha: 0.2, beta: 0.5), range: -4...4, special: [-2.5, 2.5, 0]),
        UnaryGradientCase(function: .hardSwish, range: -5...5, special: [-3, 3, 0, -3.0001, 3.0001]),
        UnaryGradientCase(function: .clip(min: -1, max: 2), range: -4...4, special: [-1, 2, -1.0001, 2.0001]),
    ]

    @Test("dY·f′(X) matches the reference for every unary function, kinks included, within 1e-6 of the largest gradient",
          arguments: cases)
    func matchesReference(c: UnaryGradientCase) throws {
        var noise = Noise(seed: 61)
        let values = c.special + (0..<997).map { _ in noise.float(in: c.range) }
        let x = Tensor(values, shape: [values.count])
        let dy = noise.tensor(x.shape, in: 0.5...2)
        let op = Op.unaryBackward(c.function)
        let dx = try runGradient(.unaryBackward(c.function, count: values.count), op, [x, dy])[0]
        let expected = try reference(op, [x, dy])
        expectClose(dx, expected, tolerance: 1e-6)
        // Element by element: within 2e-5 of its own size, give or take 1e-7 of the largest gradient
        // (where the gradient all but vanishes, as in the tails of gelu, sigmoid and tanh).
        let scale = expected.doubles.map(abs).max() ?? 1
        let outside = zip(dx.floats, expected.doubles).enumerated().filter { _, pair in
            abs(Double(pair.0) - pair.1) > 2e-5 * abs(pair.1) + 1e-7 * scale
        }
        #expect(outside.isEmpty, "\(outside.count) elements, first at x = \(outside.first.map { values[$0.offset] } ?? 0)")
    }

    @Test("a blocked element's gradient is exactly 0, even when dY is not finite")
    func blockedGradientIsZero() throws {
        let x = Tensor([-1, -5, -4, 5] as [Float], shape: [4])
        let dy = Tensor([.infinity, .nan, .infinity, .infinity] as [Float], shape: [4])
        for function in [UnaryFunction.relu, .hardSwish, .clip(min: -3.5, max: 4.5)] {
            let op = Op.unaryBackward(function)
            let dx = try runGradient(.unaryBackward(function, count: 4), op, [x, dy])[0]
            #expect(dx.bitwiseEqual(try reference(op, [x, dy])), "\(function): \(dx.floats)")
        }
    }
}
