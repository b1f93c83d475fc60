import GraphIR

// Index arithmetic shared by the ops that move elements without computing on them. Each such op
// states, for every output element, the flat index of the input element it copies; one routine then
// copies the bytes, so the same code serves every dtype.
extension Reference {
    /// The flat index of every position of a grid, in row-major order: position (i₀, i₁, …) maps to
    /// `tables[0][i₀] + tables[1][i₁] + …`, and the tables' lengths are the grid's extents.
    ///
    /// With `tables[a][i] = i · stride` this enumerates a strided view; a zero stride broadcasts, a
    /// permuted stride transposes, an affine table slices.
    static func flatIndices(_ tables: [[Int]]) -> [Int] {
        var indices = [0]
        for table in tables {
            var next: [Int] = []
            next.reserveCapacity(indices.count * table.count)
            for base in indices {
                for offset in table { next.append(base + offset) }
            }
            indices = next
        }
        return indices
    }

    /// For every element of `source` broadcast to `target` (numpy rules), the flat index of the
    /// `source` element it repeats.
    static func broadcastIndices(from source: Shape, to target: Shape) -> [Int] {
        let strides = source.strides
        let leading = target.rank - source.rank
        let tables = target.dims.enumerated().map { axis, extent -> [Int] in
            let sourceAxis = axis - leading
            guard sourceAxis >= 0, source[sourceAxis] != 1 else { return [Int](repeating: 0, count: extent) }
            return (0..<extent).map { $0 * strides[sourceAxis] }
        }
        return flatIndices(tables)
    }

    /// Copies `count` consecutive elements of `source` starting at element `from` into `destination`
    /// starting at element `to` (same dtype, any dtype).
    static func copyElements(_ count: Int, from source: Tensor, at from: Int, to destination: Tensor, at to: Int) {
        precondition(source.dtype == destination.dtype && count >= 0
                     && from >= 0 && from + count <= source.elementCount && to >= 0 && to + count <= destination.elementCount,
                     "element copy out of bounds")
        let size = source.dtype.byteSize
        (destination.rawPointer + to * size).copyMemory(from: source.rawPointer + from * size, byteCount: count * size)
    }

    /// A tensor of `shape` whose element i is element `indices[i]` of `x`.
    static func take(_ x: Tensor, _ indices: [Int], shape: Shape) -> Tensor {
        precondition(indices.count == shape.elementCount, "\(indices.count) indices for \(shape)")
        let result = Tensor(zeros: x.dtype, shape)
        for (i, index) in indices.enumerated() { copyElements(1, from: x, at: index, to: result, at: i) }
        return result
    }

    /// The product of the extents of `axes` of `shape` (1 for no axes).
    static func extent(_ shape: Shape, _ axes: Range<Int>) -> Int {
        shape.dims[axes].reduce(1, *)
    }
}
