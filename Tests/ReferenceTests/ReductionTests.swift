import GraphIR
import Reference
import Testing

@Suite("Reference: reductions and argMax")
struct ReductionTests {
    /// [2,2,2] holding 0…7.
    static let cube = counting([2, 2, 2], from: 0)

    @Test("reduce sum over axes 0 and 2 keeps them as extent 1 with keepDims")
    func sumKeepingDims() throws {
        // For the middle index 0: 0+1+4+5; for 1: 2+3+6+7.
        expectValues(try evaluate(.reduce(.sum, axes: [0, 2], keepDims: true), Self.cube), [10, 18], shape: [1, 2, 1])
    }

    @Test("reduce without keepDims drops the reduced axes")
    func sumDroppingDims() throws {
        expectValues(try evaluate(.reduce(.sum, axes: [0, 2], keepDims: false), Self.cube), [10, 18], shape: [2])
        expectValues(try evaluate(.reduce(.sum, axes: [0, 1, 2], keepDims: false), Self.cube), [28], shape: [])
    }

    @Test("reduce mean, max and min over the last axis")
    func meanMaxMin() throws {
        let x = Tensor([1, -4, 2, 7, 7, 0], shape: [2, 3])
        expectValues(try evaluate(.reduce(.mean, axes: [1], keepDims: false), x), [-1.0 / 3, 14.0 / 3], shape: [2])
        expectValues(try evaluate(.reduce(.max, axes: [1], keepDims: false), x), [2, 7], shape: [2])
        expectValues(try evaluate(.reduce(.min, axes: [1], keepDims: false), x), [-4, 0], shape: [2])
    }

    @Test("int64 reductions compute in Int64")
    func integerReductions() throws {
        let x = Tensor([1 << 60, 1, -5, 3] as [Int64], shape: [2, 2])
        #expect(try evaluate(.reduce(.sum, axes: [1], keepDims: false), x).int64s == [1 << 60 + 1, -2])
        #expect(try evaluate(.reduce(.max, axes: [0], keepDims: true), x).int64s == [1 << 60, 3])
        #expect(try evaluate(.reduce(.min, axes: [0, 1], keepDims: false), x).int64s == [-5])
    }

    @Test("reducing an empty axis gives the identity: sum 0, max −∞, min +∞, mean NaN")
    func emptyReduction() throws {
        let x = Tensor(zeros: .float32, [2, 0])
        expectValues(try evaluate(.reduce(.sum, axes: [1], keepDims: false), x), [0, 0], shape: [2])
        expectValues(try evaluate(.reduce(.max, axes: [1], keepDims: false), x), [-.infinity, -.infinity], shape: [2])
        expectValues(try evaluate(.reduce(.min, axes: [1], keepDims: false), x), [.infinity, .infinity], shape: [2])
        expectValues(try evaluate(.reduce(.mean, axes: [1], keepDims: false), x), [.nan, .nan], shape: [2])
    }

    @Test("reduce max propagates NaN")
    func maxPropagatesNaN() throws {
        expectValues(try evaluate(.reduce(.max, axes: [0], keepDims: false), Tensor([1, .nan, 3], shape: [3])), [.nan], shape: [])
    }

    @Test("argMax picks the first of equal maxima, or the last with selectLastIndex")
    func argMaxTies() throws {
        let x = Tensor([1, 3, 3, 2, 2, 1], shape: [2, 3])
        let first = try evaluate(.argMax(axis: 1, keepDims: true, selectLastIndex: false), x)
        #expect(first.dtype == .int64 && first.shape == [2, 1] && first.int64s == [1, 0])
        let last = try evaluate(.argMax(axis: 1, keepDims: false, selectLastIndex: true), x)
        #expect(last.shape == [2] && last.int64s == [2, 1])
    }

    @Test("argMax along axis 0 compares down the columns, for int64 too")
    func argMaxFirstAxis() throws {
        let x = Tensor([1, 9, 5, 7] as [Int64], shape: [2, 2])
        #expect(try evaluate(.argMax(axis: 0, keepDims: false, selectLastIndex: false), x).int64s == [1, 0])
    }
}
