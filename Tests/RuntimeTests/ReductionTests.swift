import GraphIR
import Runtime
import Tensor
import Testing

@Suite struct ReductionTests {
    /// (shape, axes): trailing (rows), leading (columns), middle, non-contiguous, all, extent-1 only,
    /// and an empty reduced axis.
    static let cases: [([Int], [Int])] = [
        ([4, 37], [1]), ([37, 3000], [0]), ([3, 6, 5], [1]), ([3, 4, 5, 2], [0, 2]), ([2, 3, 4], [0, 1, 2]),
        ([3, 1, 4], [1]), ([2, 3, 5], [1, 2]), ([3, 0, 2], [1]),
    ]

    @Test("float32 sum, mean, max and min match the reference over any axis set", arguments: cases)
    func floats(shape: [Int], axes: [Int]) throws {
        var noise = Noise(seed: 41)
        let x = noise.tensor(Shape(shape), in: -2...3)
        let geometry = Reductions.Geometry(shape: shape, axes: axes)
        for kind in Reduction.allCases {
            let op = Op.reduce(kind, axes: axes, keepDims: true)
            let y = Tensor(zeros: .float32, try outputShape(op, [x]))
            #expect(geometry.outputCount == y.elementCount)
            Reductions.reduce(kind, geometry, x.f32, y.f32)
            let exact = kind == .max || kind == .min
            expectClose(y, try reference(op, [x]), tolerance: exact ? 0 : 1e-6, "\(kind) \(shape) over \(axes)")
        }
    }

    @Test("int64 sum, max and min are exact", arguments: cases)
    func integers(shape: [Int], axes: [Int]) throws {
        var noise = Noise(seed: 42)
        let x = noise.integers(Shape(shape), in: -1000...1000)
        let geometry = Reductions.Geometry(shape: shape, axes: axes)
        for kind in [Reduction.sum, .max, .min] {
            let op = Op.reduce(kind, axes: axes, keepDims: false)
            let y = Tensor(zeros: .int64, try outputShape(op, [x]))
            Reductions.reduce(kind, geometry, x.i64, y.i64)
            #expect(y.int64s == (try reference(op, [x])).int64s, "\(kind) \(shape) over \(axes)")
        }
    }

    @Test("a NaN anywhere in a max or min makes the result NaN")
    func nanWins() {
        let x = Tensor([1, 2, .nan, 4, 5, 6, 7, 8, 9, 10], shape: [1, 10])
        let y = Tensor(zeros: .float32, [1])
        Reductions.reduce(.max, Reductions.Geometry(shape: [1, 10], axes: [1]), x.f32, y.f32)
        #expect(y.floats[0].isNaN)
    }

    @Test("argmax takes the first of equal maxima, or the last when asked, along any axis",
          arguments: [([5, 7], 1), ([4, 6, 3], 1), ([9, 2], 0)])
    func argMax(shape: [Int], axis: Int) throws {
        var noise = Noise(seed: 43)
        // Few distinct values, so ties are common.
        let xi = noise.integers(Shape(shape), in: 0...3)
        let xf = Tensor(xi.int64s.map(Float.init), shape: xi.shape)
        for selectLast in [false, true] {
            let op = Op.argMax(axis: axis, keepDims: true, selectLastIndex: selectLast)
            let y = Tensor(zeros: .int64, try outputShape(op, [xf]))
            Reductions.argMax(AxisLayout(shape: shape, axis: axis), selectLastIndex: selectLast, xf.f32, y.i64)
            #expect(y.int64s == (try reference(op, [xf])).int64s, "f32, last: \(selectLast)")
            Reductions.argMax(AxisLayout(shape: shape, axis: axis), selectLastIndex: selectLast, xi.i64, y.i64)
            #expect(y.int64s == (try reference(op, [xi])).int64s, "i64, last: \(selectLast)")
        }
    }
}
