import Foundation
import GraphIR
import Reference
import Testing

@Suite("Reference: gradient ops at their special points, training batch norm, dropout")
struct ReferenceGradientTests {
    /// unaryBackward of `function` at the points `x` with dY = 1.
    func slopes(_ function: UnaryFunction, at x: [Float], dY: Float = 1) throws -> [Float] {
        let shape = Shape([x.count])
        return try Reference.evaluate(.unaryBackward(function), [Tensor(x, shape: shape), Tensor(Array(repeating: dY, count: x.count), shape: shape)])[0].floats
    }

    @Test("derivatives at the kinks follow PyTorch: relu′(0) = abs′(0) = 0, leakyRelu′(0) = alpha")
    func kinks() throws {
        #expect(try slopes(.relu, at: [-1, 0, 1]) == [0, 0, 1])
        #expect(try slopes(.abs, at: [-1, 0, 1]) == [-1, 0, 1])
        #expect(try slopes(.leakyRelu(alpha: 0.25), at: [-1, 0, 1]) == [0.25, 0.25, 1])
    }

    @Test("clip passes the gradient on its closed interval; hardSigmoid only strictly inside its ramp")
    func clipAndHardSigmoid() throws {
        #expect(try slopes(.clip(min: -1, max: 1), at: [-1.5, -1, 0, 1, 1.5]) == [0, 1, 1, 1, 0])
        #expect(try slopes(.hardSigmoid(alpha: 0.25, beta: 0.5), at: [-3, -2, 0, 2, 3]) == [0, 0, 0.25, 0, 0])
    }

    @Test("hardSwish′ is 0 below −3, x/3 + 1/2 on [−3, 3] and 1 above")
    func hardSwish() throws {
        #expect(try slopes(.hardSwish, at: [-4, -3, 0, 3, 4]) == [0, -0.5, 0.5, 1.5, 1])
    }

    @Test("a blocked element is exactly 0 even when dY is not finite")
    func blockedGradientIsZero() throws {
        #expect(try slopes(.relu, at: [-1], dY: .nan) == [0])
        #expect(try slopes(.clip(min: 0, max: 1), at: [2], dY: .infinity) == [0])
    }

    /// f′(1) for the smooth functions, from their closed forms.
    static let slopesAtOne: [(UnaryFunction, Double)] = [
        (.gelu, 0.5 * (1 + 0.6826894921370859) + exp(-0.5) / (2 * Double.pi).squareRoot()), (.geluTanh, 1.0829640838457826),
        (.sigmoid, 0.19661193324148185), (.tanh, 0.41997434161402614), (.erf, 2 / Double.pi.squareRoot() * exp(-1)),
        (.sqrt, 0.5), (.log, 1), (.reciprocal, -1), (.exp, exp(1)),
    ]

    @Test("the smooth derivatives at 1 (within 1e-6)", arguments: slopesAtOne)
    func smooth(_ function: UnaryFunction, _ expected: Double) throws {
        let slope = try slopes(function, at: [1])[0]
        #expect(abs(Double(slope) - expected) <= 1e-6 * max(1, abs(expected)), "\(function.name)′(1) = \(slope), expected \(expected)")
    }

    @Test("maxPoolBackward gives a tied window's gradient to its first maximum")
    func maxPoolTies() throws {
        let x = Tensor([1, 2, 2], shape: [1, 1, 1, 3]), dY = Tensor([10, 20], shape: [1, 1, 1, 2])
        let dX = try Reference.evaluate(.maxPoolBackward(Pooling(kernel: [1, 2])), [x, dY])[0]
        #expect(dX.floats == [0, 30, 0])
    }

    @Test("scatterAdd adds every pick of a repeated or negative index back at its row")
    func scatterAdd() throws {
        let dY = Tensor([1, 2, 4], shape: [3]), indices = Tensor([Int64(0), -1, 0], shape: [3])
        let dData = try Reference.evaluate(.scatterAdd(axis: 0, dataShape: [3]), [dY, indices])[0]
        #expect(dData.floats == [5, 0, 2])
        #expect(throws: InvalidInput(nil, "index 3 is out of range for axis 0 of extent 3")) {
            try Reference.evaluate(.scatterAdd(axis: 0, dataShape: [3]), [dY, Tensor([Int64(0), 3, 0], shape: [3])])
        }
    }

    @Test("training batch norm normalises by batch statistics and moves the running ones (unbiased variance) by the momentum (within 1e-6)")
    func batchNormTraining() throws {
        // Channel 0 holds 1, 3, 5, 7: mean 4, biased variance 5, unbiased 20/3.
        // Channel 1 holds 0, 0, 2, 2: mean 1, biased variance 1, unbiased 4/3.
        let x = Tensor([1, 3, 0, 0, 5, 7, 2, 2], shape: [2, 2, 1, 2])
        let outputs = try Reference.evaluate(.batchNormTraining(epsilon: 0, momentum: 0.1),
                                             [x, Tensor([1, 2], shape: [2]), Tensor([0, 1], shape: [2]),
                                              Tensor([0, 10], shape: [2]), Tensor([1, 1], shape: [2])])
        let r = 1 / 5.0.squareRoot()
        let expected: [[Double]] = [[-3 * r, -r, -1, -1, r, 3 * r, 3, 3], [4, 1], [r, 1], [0.4, 9.1], [0.9 + 2.0 / 3, 0.9 + 0.4 / 3]]
        for (output, values) in zip(outputs, expected) {
            #expect(zip(output.doubles, values).allSatisfy { abs($0 - $1) <= 1e-6 }, "\(output.doubles) vs \(values)")
        }
    }

    @Test("training batch norm refuses a channel with one value (no variance to estimate)")
    func batchNormSingleValue() {
        let one = Tensor([1], shape: [1])
        #expect(throws: InvalidInput.self) {
            try Reference.evaluate(.batchNormTraining(epsilon: 0, momentum: 0.1), [Tensor([5], shape: [1, 1, 1, 1]), one, one, one, one])
        }
    }

    /// Runs dropout on `x` and returns Y and the mask.
    func dropout(_ x: Tensor, ratio: Float = 0.3, seed: Int = 42, step: Int64, perSample: Bool = false) throws -> (y: Tensor, mask: Tensor) {
        let outputs = try Reference.evaluate(.dropout(ratio: ratio, seed: seed, perSample: perSample), [x, Tensor(scalar: step)])
        return (outputs[0], outputs[1])
    }

    @Test("the dropout mask is the documented hash: splitMix64(seed ⊕ step·C₁ ⊕ index·C₂) < ratio·2⁶⁴")
    func dropoutHash() throws {
        func mix(_ state: UInt64) -> UInt64 {
            var z = state &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let (seed, step, ratio): (Int, Int64, Float) = (-7, 123_456, 0.3)
        let mask = try dropout(Tensor(zeros: .float32, [64]), ratio: ratio, seed: seed, step: step).mask.floats
        let expected = (0..<64).map { index -> Float in
            let key = UInt64(bitPattern: Int64(seed)) ^ (UInt64(bitPattern: step) &* 0xD1B5_4A32_D192_ED03) ^ (UInt64(index) &* 0xAEF1_7502_108E_F2D9)
            return mix(key) < UInt64(Double(ratio) * 0x1p64) ? 0 : Float(1 / (1 - Double(ratio)))
        }
        #expect(mask == expected)
    }

    @Test("dropout depends only on seed, step and element: same step, same mask; another step or seed, another mask")
    func dropoutDeterminism() throws {
        var random = TestRandom(seed: 1)
        let x = random.tensor([8, 16])
        let first = try dropout(x, step: 5), again = try dropout(x, step: 5)
        #expect(first.y.bitwiseEqual(again.y) && first.mask.bitwiseEqual(again.mask))
        #expect(first.mask.floats != (try dropout(x, step: 6)).mask.floats)
        #expect(first.mask.floats != (try dropout(x, seed: 43, step: 5)).mask.floats)
        #expect(first.y.floats == zip(x.floats, first.mask.floats).map { $0 * $1 })
    }

    @Test("dropout drops a ratio of elements (within 4σ) and scales the rest by 1/(1 − ratio)", arguments: [Float(0.1), 0.5, 0.9])
    func dropoutStatistics(ratio: Float) throws {
        let count = 20_000
        let mask = try dropout(Tensor(zeros: .float32, [count]), ratio: ratio, step: 0).mask.floats
        let dropped = Double(mask.filter { $0 == 0 }.count) / Double(count)
        let sigma = (Double(ratio) * (1 - Double(ratio)) / Double(count)).squareRoot()
        #expect(abs(dropped - Double(ratio)) <= 4 * sigma, "dropped \(dropped)")
        #expect(Set(mask) == [0, Float(1 / (1 - Double(ratio)))])
    }

    @Test("per-sample dropout (drop path) zeroes whole samples with a [B, 1, 1] mask")
    func dropPath() throws {
        let x = Tensor(Array(repeating: 1, count: 64 * 6), shape: [64, 2, 3])
        let (y, mask) = try dropout(x, ratio: 0.5, step: 2, perSample: true)
        #expect(mask.shape == [64, 1, 1])
        let samples = y.floats.chunked(6)
        #expect(zip(samples, mask.floats).allSatisfy { sample, scale in sample.allSatisfy { $0 == scale } })
        #expect(Set(mask.floats) == [0, 2])
    }

    @Test("dropout with ratio 0 keeps everything unscaled")
    func dropoutRatioZero() throws {
        let x = Tensor([1, -2, 3], shape: [3])
        let (y, mask) = try dropout(x, ratio: 0, step: 9)
        #expect(mask.floats == [1, 1, 1] && y.floats == x.floats)
    }
}

extension Array {
    /// Consecutive pieces of `size` elements.
    func chunked(_ size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
