import Foundation
import GraphIR
import Reference
import Runtime
import Tensor
import Testing

@Suite struct NormalizationTests {
    @Test("batch norm applies the per-channel affine map of the reference")
    func batchNorm() throws {
        var noise = Noise(seed: 31)
        let x = noise.tensor([2, 3, 5, 7], in: -3...3)
        let scale = noise.tensor([3]), bias = noise.tensor([3]), mean = noise.tensor([3])
        let variance = noise.tensor([3], in: 0.1...2)
        let y = Tensor(zeros: .float32, x.shape)
        Normalization.batchNorm(AxisLayout(shape: x.shape.dims, axis: 1), epsilon: 1e-5, x.f32, scale: scale.f32,
                                bias: bias.f32, mean: mean.f32, variance: variance.f32, y.f32)
        expectClose(y, try reference(.batchNorm(epsilon: 1e-5), [x, scale, bias, mean, variance]), tolerance: 1e-6)
    }

    /// (input shape, axis, scale shape, has bias)
    static let layerNormCases: [([Int], Int, [Int], Bool)] = [
        ([2, 9, 768], 2, [768], true),   // ViT-B rows
        ([3, 13], 1, [13], false),       // odd width, no bias
        ([2, 3, 7], 1, [7], true),       // scale repeating over two normalised axes
        ([4, 5], 1, [1], true),          // scalar scale
    ]

    @Test("layer norm matches the reference in Y, mean and inverse deviation, even far from zero mean",
          arguments: layerNormCases)
    func layerNorm(shape: [Int], axis: Int, scaleShape: [Int], hasBias: Bool) throws {
        var noise = Noise(seed: 32)
        // A large offset with a small spread is where a one-pass variance would lose digits.
        let x = Tensor(noise.tensor(Shape(shape), in: -0.5...0.5).floats.map { 50 + $0 }, shape: Shape(shape))
        let scale = noise.tensor(Shape(scaleShape), in: 0.5...1.5)
        let bias = hasBias ? noise.tensor(Shape(scaleShape)) : nil
        let rows = shape[..<axis].reduce(1, *), columns = shape[axis...].reduce(1, *)
        let geometry = Normalization.LayerNormGeometry(rows: rows, columns: columns, epsilon: 1e-6,
                                                       scaleCount: scale.elementCount, biasCount: bias?.elementCount ?? 0)
        let statistics = Shape(Array(shape[..<axis]) + Array(repeating: 1, count: shape.count - axis))
        let y = Tensor(zeros: .float32, x.shape), mean = Tensor(zeros: .float32, statistics)
        let inverse = Tensor(zeros: .float32, statistics)
        Normalization.layerNorm(geometry, x.f32, scale: scale.f32, bias: bias?.f32, y.f32, mean: mean.f32,
                                inverseStandardDeviation: inverse.f32)
        let expected = try Reference.evaluate(.layerNorm(axis: axis, epsilon: 1e-6), [x, scale] + (bias.map { [$0] } ?? []))
        expectClose(y, expected[0], tolerance: 2e-5, "Y")
        expectClose(mean, expected[1], tolerance: 1e-6, "mean")
        #expect(zip(inverse.floats, expected[2].floats).allSatisfy { abs($0 - $1) <= 1e-4 * $1 }, "inverse deviation")
        // In place, without statistics.
        Normalization.layerNorm(geometry, x.f32, scale: scale.f32, bias: bias?.f32, x.f32, mean: nil,
                                inverseStandardDeviation: nil)
        expectClose(x, y, tolerance: 0, "in place")
    }

    /// (shape, axis): the axis last (contiguous rows), in the middle with a short and a long inner
    /// stride (more than one tile of columns), and first.
    static let softmaxCases: [([Int], Int)] = [([3, 197], 1), ([2, 7, 5], 1), ([2, 9, 131], 1), ([6, 4], 0), ([5, 1], 1)]

    @Test("softmax and log-softmax match the reference along any axis, also in place", arguments: softmaxCases)
    func softmax(shape: [Int], axis: Int) throws {
        var noise = Noise(seed: 33)
        let x = noise.tensor(Shape(shape), in: -8...8)
        let layout = AxisLayout(shape: shape, axis: axis)
        let probabilities = Tensor(zeros: .float32, x.shape), logarithms = Tensor(zeros: .float32, x.shape)
        Normalization.softmax(layout, x.f32, probabilities.f32)
        expectClose(probabilities, try reference(.softmax(axis: axis), [x]), tolerance: 1e-6, "softmax")
        Normalization.logSoftmax(layout, x.f32, logarithms.f32)
        expectClose(logarithms, try reference(.logSoftmax(axis: axis), [x]), tolerance: 1e-6, "log-softmax")
        let copy = x.copy()
        Normalization.softmax(layout, copy.f32, copy.f32)
        expectClose(copy, probabilities, tolerance: 0, "softmax in place")
        Normalization.logSoftmax(layout, x.f32, x.f32)
        expectClose(x, logarithms, tolerance: 0, "log-softmax in place")
    }

    @Test("softmax rows of every length from 1 to 40 match the reference (the vector kernel's tails), and a NaN makes its row NaN")
    func softmaxRowLengths() throws {
        var noise = Noise(seed: 41)
        for n in 1...40 {
            let x = noise.tensor([2, n], in: -8...8)
            let y = Tensor(zeros: .float32, x.shape)
            Normalization.softmax(AxisLayout(shape: [2, n], axis: 1), x.f32, y.f32)
            expectClose(y, try reference(.softmax(axis: 1), [x]), tolerance: 1e-6, "length \(n)")
            x.f32[n / 2] = .nan
            Normalization.softmax(AxisLayout(shape: [2, n], axis: 1), x.f32, y.f32)
            let values = y.floats
            #expect(values[0..<n].allSatisfy { $0.isNaN }, "length \(n)")
            #expect(!values[n...].contains { $0.isNaN }, "length \(n)")
        }
    }

    @Test("softmax of huge logits does not overflow, and a -inf logit gets probability 0")
    func extremeLogits() {
        let x = Tensor([1000, 999, -.infinity, 998], shape: [1, 4])
        let y = Tensor(zeros: .float32, x.shape)
        Normalization.softmax(AxisLayout(shape: [1, 4], axis: 1), x.f32, y.f32)
        let e1 = Foundation.exp(Float(-1)), e2 = Foundation.exp(Float(-2))
        let total = 1 + e1 + e2
        #expect(zip(y.floats, [1 / total, e1 / total, 0, e2 / total]).allSatisfy { abs($0 - $1) <= 1e-6 })
    }
}
