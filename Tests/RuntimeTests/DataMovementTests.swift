import GraphIR
import Reference
import Runtime
import Tensor
import Testing

/// One tensor of each dtype (element sizes 4, 8 and 1) with distinct, recognisable elements.
private func samples(_ shape: Shape, seed: UInt64) -> [Tensor] {
    var noise = Noise(seed: seed)
    return [noise.tensor(shape), noise.integers(shape, in: -1_000_000...1_000_000), noise.bools(shape)]
}

/// Runs a copy kernel on `x` and checks it against the reference op, byte for byte.
private func expectCopy(_ geometry: DataMovement.Copy, _ op: Op, _ x: Tensor,
                        sourceLocation: SourceLocation = #_sourceLocation) throws {
    let expected = try reference(op, [x])
    let y = Tensor(zeros: x.dtype, expected.shape)
    DataMovement.copy(geometry, from: x.rawPointer, to: y.rawPointer)
    #expect(y.bitwiseEqual(expected), "\(op.kindName) of \(x.dtype.shortName)\(x.shape)", sourceLocation: sourceLocation)
}

@Suite struct DataMovementTests {
    /// (shape, permutation): a blocked 2-D transpose larger than a tile, batched 2-D transposes, the
    /// attention head split (rows of 64 kept whole), a full reversal and a rotation.
    static let transposes: [([Int], [Int])] = [
        ([37, 45], [1, 0]), ([3, 33, 70], [0, 2, 1]), ([2, 5, 3, 8], [0, 2, 1, 3]), ([2, 3, 4, 5], [3, 2, 1, 0]),
        ([4, 1, 6], [2, 0, 1]), ([7], [0]),
    ]

    @Test("transpose matches the reference for every element size", arguments: transposes)
    func transpose(shape: [Int], permutation: [Int]) throws {
        for x in samples(Shape(shape), seed: 51) {
            try expectCopy(.transpose(shape, permutation: permutation, elementSize: x.dtype.byteSize),
                           .transpose(permutation: permutation), x)
        }
    }

    /// Windows with positive and negative steps, partial and empty extents.
    static let slices: [([Int], Slice)] = [
        ([6, 9], Slice(starts: [1, 0], ends: [5, 9], steps: [1, 1])),
        ([6, 9], Slice(starts: [5, 8], ends: [-1, -1], steps: [-1, -2])),
        ([4, 5, 6], Slice(starts: [0, 4, 1], ends: [4, 0, 6], steps: [2, -3, 2])),
        ([3, 4], Slice(starts: [0, 2], ends: [3, 2], steps: [1, 1])),
    ]

    @Test("slice with negative steps and empty windows matches the reference", arguments: slices)
    func slice(shape: [Int], window: Slice) throws {
        for x in samples(Shape(shape), seed: 52) {
            try expectCopy(.slice(shape, starts: window.starts, steps: window.steps, extents: window.extents,
                                  elementSize: x.dtype.byteSize), .slice(window), x)
        }
    }

    @Test("expand broadcasts scalars, rows and columns", arguments: [([], [2, 3]), ([3], [4, 3]), ([4, 1], [2, 4, 5]), ([1, 1], [1, 1])])
    func expand(shape: [Int], target: [Int]) throws {
        for x in samples(Shape(shape), seed: 53) {
            try expectCopy(.expand(shape, to: target, elementSize: x.dtype.byteSize), .expand(Shape(target)), x)
        }
    }

    @Test("tile repeats along every axis", arguments: [([2, 3], [2, 3]), ([4], [3]), ([2, 1, 3], [1, 4, 2]), ([3], [0])])
    func tile(shape: [Int], repeats: [Int]) throws {
        for x in samples(Shape(shape), seed: 54) {
            try expectCopy(.tile(shape, repeats: repeats, elementSize: x.dtype.byteSize), .tile(repeats: repeats), x)
        }
    }

    @Test("concat joins inputs along the first, a middle and the last axis", arguments: [0, 1, 2])
    func concat(axis: Int) throws {
        var shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
        for (i, extent) in [1, 5, 2].enumerated() { shapes[i][axis] = extent }
        for dtype in [DType.float32, .int64, .bool] {
            let inputs = shapes.enumerated().map { samples(Shape($1), seed: 55 + UInt64($0)).first { $0.dtype == dtype }! }
            let expected = try reference(.concat(axis: axis), inputs)
            let y = Tensor(zeros: dtype, expected.shape)
            withExtendedLifetime(inputs) {
                DataMovement.concat(DataMovement.Concat(shapes: shapes, axis: axis, elementSize: dtype.byteSize),
                                    inputs.map { UnsafeRawPointer($0.rawPointer) }, into: y.rawPointer)
            }
            #expect(y.bitwiseEqual(expected), "\(dtype.shortName) on axis \(axis)")
        }
    }

    @Test("gather picks entries with negative indices counting from the end", arguments: [0, 1, 2])
    func gather(axis: Int) throws {
        let shape = [4, 5, 3]
        let indices = Tensor([Int64(0), -1, 2, -3, 2, 1], shape: [2, 3])
        for x in samples(Shape(shape), seed: 58) {
            let expected = try Reference.evaluate(.gather(axis: axis), [x, indices])[0]
            let y = Tensor(zeros: x.dtype, expected.shape)
            try DataMovement.gather(DataMovement.Gather(shape: shape, axis: axis, indexCount: 6, elementSize: x.dtype.byteSize),
                                    data: x.rawPointer, indices: indices.i64, into: y.rawPointer)
            #expect(y.bitwiseEqual(expected), "\(x.dtype.shortName) on axis \(axis)")
        }
    }

    @Test("an out-of-range gather index throws instead of reading outside the data", arguments: [Int64(3), -4, .max, .min])
    func gatherOutOfRange(index: Int64) {
        let x = Tensor([1, 2, 3], shape: [3]), indices = Tensor([Int64(0), index], shape: [2])
        let y = Tensor(zeros: .float32, [2])
        #expect(throws: InvalidInput.self) {
            try DataMovement.gather(DataMovement.Gather(shape: [3], axis: 0, indexCount: 2, elementSize: 4),
                                    data: x.rawPointer, indices: indices.i64, into: y.rawPointer)
        }
    }

    /// (shape, pads, mode): constant with crops, reflect wider than the extent, edge, and a rank-1 pad.
    static let pads: [([Int], [Int], PadMode)] = [
        ([3, 4], [1, 2, 2, -1], .constant), ([3, 4], [2, 5, 4, 1], .reflect), ([2, 3, 4], [0, 1, 2, 1, 0, 3], .edge),
        ([5], [-2, 3], .reflect), ([1, 3], [1, 1, 1, 1], .reflect), ([2, 3], [0, -3, 0, 0], .constant),
    ]

    @Test("pad in constant, reflect and edge modes, with crops, matches the reference", arguments: pads)
    func pad(shape: [Int], pads: [Int], mode: PadMode) throws {
        for x in samples(Shape(shape), seed: 59) {
            let op = Op.pad(pads: pads, mode: mode, value: 7.5)
            let expected = try reference(op, [x])
            let y = Tensor(zeros: x.dtype, expected.shape)
            DataMovement.pad(try DataMovement.Pad(shape: shape, pads: pads, mode: mode, value: 7.5, dtype: x.dtype),
                             from: x.rawPointer, to: y.rawPointer)
            #expect(y.bitwiseEqual(expected), "\(x.dtype.shortName) \(mode)")
        }
    }

    @Test("reflecting an empty axis is reported, not computed")
    func padEmptyAxis() {
        #expect(throws: InvalidInput.self) {
            try DataMovement.Pad(shape: [0, 3], pads: [1, 0, 1, 0], mode: .reflect, value: 0, dtype: .float32)
        }
    }
}
