import Foundation
import GraphIR
import Reference
import Testing

@Suite("Reference: normalisation and softmax")
struct NormalizationTests {
    @Test("batchNorm computes (x − mean)/√(var + ε)·scale + bias per channel (axis 1)")
    func batchNorm() throws {
        let x = Tensor([1, 2, 3, 4], shape: [1, 2, 1, 2])
        let scale = Tensor([2, 1], shape: [2]), bias = Tensor([0, 1], shape: [2])
        let mean = Tensor([1, 3], shape: [2]), variance = Tensor([3.5, 0.5], shape: [2])
        let y = try Reference.evaluate(.batchNorm(epsilon: 0.5), [x, scale, bias, mean, variance])[0]
        expectValues(y, [0, 1, 1, 2], shape: [1, 2, 1, 2])
    }

    @Test("layerNorm returns mean and inverse standard deviation")
    func layerNormStatistics() throws {
        // Rows [1, 3] and [0, 4]: both have mean 2; variances 1 and 4 (biased).
        let x = Tensor([1, 3, 0, 4], shape: [2, 2])
        let outputs = try Reference.evaluate(.layerNorm(axis: 1, epsilon: 0), [x, Tensor([2, 3], shape: [2]), Tensor([1, 0], shape: [2])])
        #expect(outputs.count == 3)
        expectValues(outputs[0], [-1, 3, -1, 3], shape: [2, 2])
        expectValues(outputs[1], [2, 2], shape: [2, 1])
        expectValues(outputs[2], [1, 0.5], shape: [2, 1])
    }

    @Test("layerNorm over several axes broadcasts a lower-rank scale to the normalised shape (within 1e-7)")
    func layerNormOverTrailingAxes() throws {
        // Normalising [[1, 3], [5, 7]]: mean 4, variance 5; scale [1, 2] repeats along the rows; no bias.
        let outputs = try Reference.evaluate(.layerNorm(axis: 1, epsilon: 0), [Tensor([1, 3, 5, 7], shape: [1, 2, 2]), Tensor([1, 2], shape: [2])])
        let r = 1 / 5.0.squareRoot()
        expectValues(outputs[0], [-3 * r, -2 * r, r, 6 * r], shape: [1, 2, 2], tolerance: 1e-7)
        expectValues(outputs[1], [4], shape: [1, 1, 1])
        expectValues(outputs[2], [r], shape: [1, 1, 1])
    }

    @Test("layerNorm adds ε to the variance")
    func layerNormEpsilon() throws {
        let outputs = try Reference.evaluate(.layerNorm(axis: 0, epsilon: 0.25), [Tensor([2, 2], shape: [2]), Tensor(scalar: Float(1))])
        expectValues(outputs[0], [0, 0], shape: [2])
        expectValues(outputs[2], [2], shape: [1])
    }

    @Test("softmax along the last axis normalises exponentials (within 1e-7)")
    func softmax() throws {
        let y = try evaluate(.softmax(axis: 1), Tensor([1, 2, 3, 0, 0, 0], shape: [2, 3]))
        expectValues(y, [0.09003057317038046, 0.24472847105479764, 0.6652409557748219, 1.0 / 3, 1.0 / 3, 1.0 / 3],
                     shape: [2, 3], tolerance: 1e-7)
    }

    @Test("softmax along a middle axis pairs elements a stride apart")
    func softmaxMiddleAxis() throws {
        // Along axis 1 of [1, 2, 2]: pairs (x₀, x₂) and (x₁, x₃); equal pairs split evenly.
        let y = try evaluate(.softmax(axis: 1), Tensor([5, -1, 5, 7], shape: [1, 2, 2]))
        expectValues(y, [0.5, 1 / (1 + exp(8.0)), 0.5, 1 / (1 + exp(-8.0))], shape: [1, 2, 2], tolerance: 1e-7)
    }

    @Test("softmax subtracts the maximum first, so huge logits do not overflow")
    func softmaxIsStable() throws {
        expectValues(try evaluate(.softmax(axis: 0), Tensor([1000, 1000], shape: [2])), [0.5, 0.5], shape: [2])
        expectValues(try evaluate(.logSoftmax(axis: 0), Tensor([1000, 1000], shape: [2])), [-log(2.0), -log(2.0)], shape: [2], tolerance: 1e-7)
    }

    @Test("logSoftmax is x − max − log Σ exp(x − max) (within 1e-7)")
    func logSoftmax() throws {
        let y = try evaluate(.logSoftmax(axis: 0), Tensor([1, 2, 3], shape: [3]))
        let total = log(exp(-2.0) + exp(-1.0) + 1)
        expectValues(y, [-2 - total, -1 - total, -total], shape: [3], tolerance: 1e-7)
    }
}
