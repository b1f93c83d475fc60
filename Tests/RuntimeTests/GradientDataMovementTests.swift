import GraphIR
import Reference
@testable import Runtime
import Tensor
import Testing

@Suite struct GradientDataMovementTests {
    @Test("scatter-add accumulates repeated and negative indices, along a middle axis and the first")
    func scatterAdd() throws {
        var noise = Noise(seed: 81)
        // Axis 1 of [2, 5, 3]: index 1 three times (once as −4), 4 twice (once as −1), 0 and 2 never.
        let indices = Tensor([1, 4, -4, 3, -1, 1] as [Int64], shape: [2, 3])
        let dy = noise.tensor([2, 2, 3, 3])
        let op = Op.scatterAdd(axis: 1, dataShape: [2, 5, 3])
        let geometry = DataMovement.Gather(shape: [2, 5, 3], axis: 1, indexCount: 6, elementSize: 4)
        let dData = try runGradient(.scatterAdd(geometry), op, [dy, indices])[0]
        expectClose(dData, try reference(op, [dy, indices]), tolerance: 1e-6)
        #expect(dData.floats[0..<3].allSatisfy { $0 == 0 } && dData.floats[6..<9].allSatisfy { $0 == 0 }, "untouched rows are zero")

        // Axis 0 with rows longer than one strip of columns.
        let wide = noise.tensor([4, 1100]), rows = Tensor([2, 0, 2, -3] as [Int64], shape: [4])
        let wideOp = Op.scatterAdd(axis: 0, dataShape: [3, 1100])
        let wideGeometry = DataMovement.Gather(shape: [3, 1100], axis: 0, indexCount: 4, elementSize: 4)
        expectClose(try runGradient(.scatterAdd(wideGeometry), wideOp, [wide, rows])[0], try reference(wideOp, [wide, rows]), tolerance: 1e-6)
    }

    @Test("scatter-add rejects an out-of-range index as invalid input, like gather")
    func scatterAddOutOfRange() throws {
        let geometry = DataMovement.Gather(shape: [3, 2], axis: 0, indexCount: 2, elementSize: 4)
        let dy = Tensor(zeros: .float32, [2, 2])
        for bad in [3, -4] as [Int64] {
            let indices = Tensor([0, bad], shape: [2])
            #expect(throws: InvalidInput.self) {
                try runGradient(.scatterAdd(geometry), .scatterAdd(axis: 0, dataShape: [3, 2]), [dy, indices])
            }
        }
    }

    /// (input shape, slice)
    static let sliceCases: [([Int], Slice)] = [
        ([5, 7], Slice(starts: [1, 0], ends: [4, 7], steps: [1, 2])),
        ([4, 6, 3], Slice(starts: [3, 5, 0], ends: [-1, 0, 3], steps: [-1, -2, 1])),   // negative steps reaching index 0
        ([6, 8], Slice(starts: [0, 7], ends: [6, -1], steps: [2, -3])),
        ([3, 4], Slice(starts: [0, 0], ends: [3, 4], steps: [1, 1])),                   // the whole tensor
        ([3, 4], Slice(starts: [2, 1], ends: [2, 3], steps: [1, 1])),                   // empty
    ]

    @Test("slice backward puts dY exactly where the slice read it and zero elsewhere, for f32 and i64", arguments: sliceCases)
    func sliceBackward(shape: [Int], slice: Slice) throws {
        var noise = Noise(seed: 82)
        let op = Op.sliceBackward(slice, inputShape: Shape(shape))
        for dtype in [DType.float32, .int64] {
            let extents = slice.extents
            let dy = dtype == .float32 ? noise.tensor(Shape(extents)) : noise.integers(Shape(extents), in: -9...9)
            let geometry = DataMovement.Copy.slice(shape, starts: slice.starts, steps: slice.steps, extents: extents,
                                                   elementSize: dtype.byteSize)
            let dx = try runGradient(.sliceBackward(geometry, inputCount: Shape(shape).elementCount), op, [dy])[0]
            #expect(dx.bitwiseEqual(try reference(op, [dy])), "\(dtype)")
        }
    }

    /// (input shape, ratio, per sample)
    static let dropoutCases: [([Int], Float, Bool)] = [([3, 257], 0.1, false), ([4, 5, 6], 0.5, false), ([6, 3, 4], 0.25, true),
                                                        ([2, 3], 0, false)]

    @Test("dropout's mask and output are bit-identical to the reference's hash for the same seed and step",
          arguments: dropoutCases)
    func dropout(shape: [Int], ratio: Float, perSample: Bool) throws {
        var noise = Noise(seed: 83)
        let x = noise.tensor(Shape(shape), in: -3...3)
        let count = x.elementCount
        let geometry = Dropout.Geometry(count: count, maskCount: perSample ? shape[0] : count, ratio: ratio, seed: 1234)
        let op = Op.dropout(ratio: ratio, seed: 1234, perSample: perSample)
        for step in [0, 1, 7_000_000_001] as [Int64] {
            let inputs = [x, Tensor(scalar: step)]
            let actual = try runGradient(.dropout(geometry), op, inputs)
            let expected = try Reference.evaluate(op, inputs)
            #expect(actual[0].bitwiseEqual(expected[0]), "Y at step \(step)")
            #expect(actual[1].bitwiseEqual(expected[1]), "mask at step \(step)")
        }
        let first = try runGradient(.dropout(geometry), op, [x, Tensor(scalar: Int64(3))])[1]
        let second = try runGradient(.dropout(geometry), op, [x, Tensor(scalar: Int64(4))])[1]
        #expect(ratio == 0 ? first.bitwiseEqual(second) : !first.bitwiseEqual(second), "each step draws a new mask")
    }

    @Test("dropout drops close to the requested fraction and scales the rest by 1/(1 − ratio)")
    func dropoutRate() throws {
        let x = Tensor([Float](repeating: 1, count: 40_000), shape: [40_000])
        let geometry = Dropout.Geometry(count: 40_000, maskCount: 40_000, ratio: 0.3, seed: 9)
        let y = try runGradient(.dropout(geometry), .dropout(ratio: 0.3, seed: 9, perSample: false), [x, Tensor(scalar: Int64(0))])[0]
        let dropped = y.floats.filter { $0 == 0 }.count
        // Binomial(40000, 0.3): standard deviation 92, so ±460 is five of them.
        #expect(abs(dropped - 12_000) < 460)
        let kept = Float(1 / (1 - Double(Float(0.3))))
        #expect(y.floats.allSatisfy { $0 == 0 || $0 == kept })
    }
}
