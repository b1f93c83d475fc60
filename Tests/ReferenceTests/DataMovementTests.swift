import GraphIR
import Reference
import Testing

@Suite("Reference: data movement")
struct DataMovementTests {
    @Test("reshape keeps the row-major order and returns its own copy")
    func reshape() throws {
        let x = counting([2, 3])
        let y = try evaluate(.reshape([3, 2]), x)
        expectValues(y, [1, 2, 3, 4, 5, 6], shape: [3, 2])
        #expect(y.storage !== x.storage)
    }

    @Test("identity copies its input")
    func identity() throws {
        let x = Tensor([true, false], shape: [2])
        let y = try evaluate(.identity, x)
        #expect(y.bools == [true, false] && y.storage !== x.storage)
    }

    @Test("transpose: output axis i is input axis permutation[i]")
    func transpose() throws {
        expectValues(try evaluate(.transpose(permutation: [1, 0]), counting([2, 3])), [1, 4, 2, 5, 3, 6], shape: [3, 2])
        // x[a][b][c] = 4a + 2b + c; y[c][a][b] = x[a][b][c].
        expectValues(try evaluate(.transpose(permutation: [2, 0, 1]), counting([2, 2, 2], from: 0)), [0, 2, 4, 6, 1, 3, 5, 7], shape: [2, 2, 2])
    }

    @Test("transpose moves bool and int64 elements too")
    func transposeOtherDtypes() throws {
        #expect(try evaluate(.transpose(permutation: [1, 0]), Tensor([true, true, false, false], shape: [2, 2])).bools == [true, false, true, false])
        #expect(try evaluate(.transpose(permutation: [1, 0]), Tensor([1, 2, 3, 4] as [Int64], shape: [2, 2])).int64s == [1, 3, 2, 4])
    }

    @Test("slice takes start, start+step, … on each axis")
    func slice() throws {
        let window = Slice(starts: [1, 0], ends: [2, 4], steps: [1, 2])
        expectValues(try evaluate(.slice(window), counting([2, 4])), [5, 7], shape: [1, 2])
    }

    @Test("a negative-step slice runs backwards, with end -1 reaching index 0")
    func negativeStepSlice() throws {
        let y = try evaluate(.slice(Slice(starts: [4], ends: [-1], steps: [-2])), Tensor([0, 1, 2, 3, 4] as [Int64], shape: [5]))
        #expect(y.shape == [3] && y.int64s == [4, 2, 0])
    }

    @Test("an empty slice gives an empty tensor")
    func emptySlice() throws {
        expectValues(try evaluate(.slice(Slice(starts: [2], ends: [2], steps: [1])), counting([3])), [], shape: [0])
    }

    @Test("concat joins inputs along an inner axis, keeping each row together")
    func concat() throws {
        let a = Tensor([1, 2, 3, 4] as [Int64], shape: [2, 2]), b = Tensor([9, 8] as [Int64], shape: [2, 1])
        let y = try Reference.evaluate(.concat(axis: 1), [a, b, Tensor(zeros: .int64, [2, 0])])[0]
        #expect(y.shape == [2, 3] && y.int64s == [1, 2, 9, 3, 4, 8])
    }

    @Test("gather with a negative index counts from the end")
    func gatherNegativeIndex() throws {
        let y = try evaluate(.gather(axis: 0), Tensor([10, 20, 30] as [Int64], shape: [3]), Tensor([-1, 0] as [Int64], shape: [2]))
        #expect(y.int64s == [30, 10])
    }

    @Test("gather output shape is data[..<axis] + indices + data[axis+1...]")
    func gatherShape() throws {
        let y = try evaluate(.gather(axis: 1), counting([2, 3]), Tensor([2, 0] as [Int64], shape: [2, 1]))
        expectValues(y, [3, 1, 6, 4], shape: [2, 2, 1])
    }

    @Test("gather with a rank-0 index removes the axis (Shape → Gather → scalar)")
    func gatherScalarIndex() throws {
        let y = try evaluate(.gather(axis: 0), Tensor([1, 3, 224, 224] as [Int64], shape: [4]), Tensor(scalar: Int64(1)))
        #expect(y.shape == [] && y.int64s == [3])
    }

    @Test("gather rejects an out-of-range index with a message naming it")
    func gatherOutOfRange() {
        #expect(throws: InvalidInput(nil, "index 3 is out of range for axis 0 of extent 3")) {
            try evaluate(.gather(axis: 0), counting([3]), Tensor([3] as [Int64], shape: [1]))
        }
        #expect(throws: InvalidInput(nil, "index -4 is out of range for axis 0 of extent 3")) {
            try evaluate(.gather(axis: 0), counting([3]), Tensor([-4] as [Int64], shape: [1]))
        }
    }

    @Test("expand broadcasts [3,1] to [2,3,2]")
    func expand() throws {
        let y = try evaluate(.expand([2, 3, 2]), Tensor([1, 2, 3], shape: [3, 1]))
        expectValues(y, [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3], shape: [2, 3, 2])
    }

    @Test("expand of a rank-0 tensor fills the shape")
    func expandScalar() throws {
        #expect(try evaluate(.expand([2, 2]), Tensor([true], shape: [])).bools == [true, true, true, true])
    }

    @Test("pad constant fills with the value; reflect mirrors without the edge; edge repeats it")
    func padModes() throws {
        let x = Tensor([1, 2, 3], shape: [3])
        expectValues(try evaluate(.pad(pads: [2, 2], mode: .constant, value: 9), x), [9, 9, 1, 2, 3, 9, 9], shape: [7])
        expectValues(try evaluate(.pad(pads: [2, 2], mode: .reflect, value: 0), x), [3, 2, 1, 2, 3, 2, 1], shape: [7])
        expectValues(try evaluate(.pad(pads: [2, 2], mode: .edge, value: 0), x), [1, 1, 1, 2, 3, 3, 3], shape: [7])
    }

    @Test("reflect pad on a 2-D image mirrors rows and columns")
    func reflectPad2D() throws {
        // [[1,2],[3,4]] padded by one row on top and one column on the right.
        let y = try evaluate(.pad(pads: [1, 0, 0, 1], mode: .reflect, value: 0), counting([2, 2]))
        expectValues(y, [3, 4, 3, 1, 2, 1, 3, 4, 3], shape: [3, 3])
    }

    @Test("reflect padding wider than the axis keeps reflecting, as numpy does")
    func wideReflectPad() throws {
        expectValues(try evaluate(.pad(pads: [3, 0], mode: .reflect, value: 0), Tensor([1, 2], shape: [2])), [2, 1, 2, 1, 2], shape: [5])
    }

    @Test("negative pads crop")
    func negativePads() throws {
        expectValues(try evaluate(.pad(pads: [-1, 1], mode: .constant, value: 0), Tensor([1, 2, 3], shape: [3])), [2, 3, 0], shape: [3])
    }

    @Test("pad works on int64 and bool with the value converted to the dtype")
    func padOtherDtypes() throws {
        #expect(try evaluate(.pad(pads: [1, 0], mode: .constant, value: 7), Tensor([5] as [Int64], shape: [1])).int64s == [7, 5])
        #expect(try evaluate(.pad(pads: [0, 1], mode: .constant, value: 1), Tensor([false], shape: [1])).bools == [false, true])
    }

    @Test("edge padding of an empty axis is an error")
    func edgePadEmptyAxis() {
        #expect(throws: InvalidInput.self) {
            try evaluate(.pad(pads: [1, 0], mode: .edge, value: 0), Tensor(zeros: .float32, [0]))
        }
    }

    @Test("tile repeats the whole input along each axis")
    func tile() throws {
        let y = try evaluate(.tile(repeats: [2, 2]), Tensor([1, 2], shape: [1, 2]))
        expectValues(y, [1, 2, 1, 2, 1, 2, 1, 2], shape: [2, 4])
        expectValues(try evaluate(.tile(repeats: [0, 1]), Tensor([1, 2], shape: [1, 2])), [], shape: [0, 2])
    }
}
