/// A tensor seen around one axis as [outer, extent, inner]: the axes before it flattened, the axis,
/// the axes after it flattened. Softmax, argmax, gather and concat work on this view.
public struct AxisLayout: Hashable, Sendable, Codable {
    /// Product of the extents before the axis.
    public var outer: Int
    /// The axis's extent.
    public var extent: Int
    /// Product of the extents after the axis (the element stride of the axis).
    public var inner: Int

    /// The view with the given extents.
    public init(outer: Int, extent: Int, inner: Int) {
        self.outer = outer
        self.extent = extent
        self.inner = inner
    }

    /// The view of a row-major tensor of `shape` around `axis`.
    public init(shape: [Int], axis: Int) {
        precondition(shape.indices.contains(axis), "axis \(axis) out of range for \(shape)")
        self.init(outer: shape[..<axis].reduce(1, *), extent: shape[axis], inner: shape[(axis + 1)...].reduce(1, *))
    }

    /// Elements in the tensor.
    public var count: Int { outer * extent * inner }
}

/// Drops axes of extent 1 and merges each axis into its inner neighbour where every operand's
/// stride makes the pair one contiguous (or one broadcast) axis.
func mergeAxes(extents: [Int], strides: [[Int]]) -> (extents: [Int], strides: [[Int]]) {
    var mergedExtents: [Int] = []
    var mergedStrides: [[Int]] = strides.map { _ in [] }
    for axis in extents.indices where extents[axis] != 1 {
        if let last = mergedExtents.indices.last,
           strides.indices.allSatisfy({ mergedStrides[$0][last] == strides[$0][axis] * extents[axis] }) {
            mergedExtents[last] *= extents[axis]
            for operand in strides.indices { mergedStrides[operand][last] = strides[operand][axis] }
        } else {
            mergedExtents.append(extents[axis])
            for operand in strides.indices { mergedStrides[operand].append(strides[operand][axis]) }
        }
    }
    if mergedExtents.isEmpty {
        mergedExtents = [extents.contains(0) ? 0 : 1]
        mergedStrides = strides.map { _ in [0] }
    }
    return (mergedExtents, mergedStrides)
}

/// Walks the output elements in `range` of a contiguous output with the given (merged) extents, in
/// runs along the last axis: calls `body` with the run's first output index, each operand's element
/// offset for it (up to three operands, whose strides along each axis are the lanes of `strides`)
/// and the run's length. Kernels choose the loop for a run from the operands' last-axis strides.
@inline(__always)
func forEachRun<Strides: RandomAccessCollection<SIMD3<Int>>>(
    extents: [Int], strides: Strides, in range: Range<Int>,
    _ body: (_ output: Int, _ offsets: SIMD3<Int>, _ length: Int) -> Void
) where Strides.Index == Int {
    guard !range.isEmpty else { return }
    let rank = extents.count, inner = extents[rank - 1]
    let step = strides[rank - 1]
    withUnsafeTemporaryAllocation(of: Int.self, capacity: rank) { index in
        // Coordinates and operand offsets of the first element.
        var offsets = SIMD3<Int>.zero
        var rest = range.lowerBound
        for axis in (0..<rank).reversed() {
            index[axis] = rest % extents[axis]
            rest /= extents[axis]
            offsets &+= strides[axis] &* index[axis]
        }
        var position = range.lowerBound
        while position < range.upperBound {
            let length = Swift.min(inner - index[rank - 1], range.upperBound - position)
            body(position, offsets, length)
            position += length
            // Back to the start of this run's row, then advance the outer coordinates.
            offsets &-= step &* index[rank - 1]
            index[rank - 1] = 0
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                offsets &+= strides[axis]
                if index[axis] < extents[axis] { break }
                offsets &-= strides[axis] &* extents[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}

/// Calls `body` with the pointer an elementwise loop should read: `y` itself when `x` is `y`.
///
/// In place, a loop `y[i] = f(x[i])` over two pointers fails the compiler's runtime overlap check
/// and runs scalar; reading through `y` shows it a single array, and the loop vectorises.
@inline(__always)
func withSource<T, R>(_ x: UnsafePointer<T>, writing y: UnsafeMutablePointer<T>, _ body: (UnsafePointer<T>) -> R) -> R {
    x == UnsafePointer(y) ? body(UnsafePointer(y)) : body(x)
}
