import Tensor

/// Sum, mean, max and min over a set of axes, and argmax along one axis.
///
/// Reduced axes that are contiguous (after dropping extent-1 axes and merging neighbours) reduce as
/// [outer, reduced, inner]: along rows when inner is 1, or by accumulating whole inner rows
/// otherwise. Other axis sets take a general strided path. Over no elements: sum 0, mean NaN, max −∞
/// (Int64.min), min +∞ (Int64.max), as ONNX specifies.
public enum Reductions {
    /// A resolved reduction.
    public struct Geometry: Hashable, Sendable, Codable {
        /// When the reduced axes are contiguous: the [outer, reduced, inner] view of the input.
        public var contiguous: AxisLayout?
        /// Merged input extents, for the general path.
        public var extents: [Int]
        /// Whether each merged axis is reduced.
        public var reduced: [Bool]
        /// Input elements folded into each output element.
        public var reducedCount: Int
        /// Output elements.
        public var outputCount: Int

        /// Reduces a tensor of `shape` over `axes` (non-negative, distinct).
        public init(shape: [Int], axes: [Int]) {
            var extents: [Int] = [], reduced: [Bool] = []
            for (axis, extent) in shape.enumerated() where extent != 1 {
                let isReduced = axes.contains(axis)
                if reduced.last == isReduced {
                    extents[extents.count - 1] *= extent
                } else {
                    extents.append(extent)
                    reduced.append(isReduced)
                }
            }
            self.extents = extents
            self.reduced = reduced
            reducedCount = zip(extents, reduced).filter { $0.1 }.map { $0.0 }.reduce(1, *)
            outputCount = zip(extents, reduced).filter { !$0.1 }.map { $0.0 }.reduce(1, *)
            if let first = reduced.firstIndex(of: true) {
                if reduced.lastIndex(of: true) == first {
                    contiguous = AxisLayout(outer: extents[..<first].reduce(1, *), extent: extents[first],
                                            inner: extents[(first + 1)...].reduce(1, *))
                } else {
                    contiguous = nil
                }
            } else {
                // Nothing left to reduce: every reduced axis had extent 1.
                contiguous = AxisLayout(outer: outputCount, extent: 1, inner: 1)
            }
        }
    }

    /// Reduces float32 `x` into `y` (`geometry.outputCount` elements). Sums accumulate in float32
    /// with several partial sums per row.
    public static func reduce(_ kind: Reduction, _ geometry: Geometry, _ x: UnsafePointer<Float>,
                              _ y: UnsafeMutablePointer<Float>) {
        let identity: Float = kind == .max ? -.infinity : kind == .min ? .infinity : 0
        if let layout = geometry.contiguous {
            let work = Blocks(layout)
            Parallel.forEach(work.count, grain: work.grain) { items in
                for item in items {
                    if layout.inner == 1 {
                        let row = x + item * layout.extent
                        switch kind {
                        case .sum, .mean: y[item] = sum(row, count: layout.extent)
                        case .max: y[item] = maximum(row, count: layout.extent)
                        case .min: y[item] = minimum(row, count: layout.extent)
                        }
                    } else {
                        let (source, target, width) = work.block(item, x, y)
                        switch kind {
                        case .sum, .mean: fold(source, into: target, width, layout, identity) { $0 + $1 }
                        case .max: fold(source, into: target, width, layout, identity) { $1 > $0 || $1 != $1 ? $1 : $0 }
                        case .min: fold(source, into: target, width, layout, identity) { $1 < $0 || $1 != $1 ? $1 : $0 }
                        }
                    }
                }
            }
        } else {
            switch kind {
            case .sum, .mean: general(geometry, x, y, identity: identity) { $0 + $1 }
            case .max: general(geometry, x, y, identity: identity) { $1 > $0 || $1 != $1 ? $1 : $0 }
            case .min: general(geometry, x, y, identity: identity) { $1 < $0 || $1 != $1 ? $1 : $0 }
            }
        }
        if kind == .mean {
            Elementwise.map(y, y, geometry.outputCount, Scalar.Scale(factor: 1 / Float(geometry.reducedCount)))
        }
    }

    /// Reduces int64 `x` into `y` with wrapping sums; `kind` is sum, max or min.
    public static func reduce(_ kind: Reduction, _ geometry: Geometry, _ x: UnsafePointer<Int64>,
                              _ y: UnsafeMutablePointer<Int64>) {
        precondition(kind != .mean, "mean is not defined on int64")
        let identity: Int64 = kind == .max ? .min : kind == .min ? .max : 0
        if let layout = geometry.contiguous {
            let work = Blocks(layout)
            Parallel.forEach(work.count, grain: work.grain) { items in
                for item in items {
                    if layout.inner == 1 {
                        let row = x + item * layout.extent
                        var value = identity
                        switch kind {
                        case .max: for i in 0..<layout.extent { value = Swift.max(value, row[i]) }
                        case .min: for i in 0..<layout.extent { value = Swift.min(value, row[i]) }
                        default: for i in 0..<layout.extent { value = value &+ row[i] }
                        }
                        y[item] = value
                    } else {
                        let (source, target, width) = work.block(item, x, y)
                        switch kind {
                        case .max: fold(source, into: target, width, layout, identity) { Swift.max($0, $1) }
                        case .min: fold(source, into: target, width, layout, identity) { Swift.min($0, $1) }
                        default: fold(source, into: target, width, layout, identity) { $0 &+ $1 }
                        }
                    }
                }
            }
        } else {
            switch kind {
            case .max: general(geometry, x, y, identity: identity) { Swift.max($0, $1) }
            case .min: general(geometry, x, y, identity: identity) { Swift.min($0, $1) }
            default: general(geometry, x, y, identity: identity) { $0 &+ $1 }
            }
        }
    }

    /// How a contiguous reduction is split into work items: one per output row when the reduced
    /// axis is innermost; otherwise one per (outer index, block of inner columns), with the columns
    /// split when there are too few outer indices to keep every thread busy.
    struct Blocks {
        let layout: AxisLayout
        let columnBlocks: Int
        let count: Int
        let grain: Int

        init(_ layout: AxisLayout) {
            self.layout = layout
            let (outer, reduced, inner) = (layout.outer, layout.extent, layout.inner)
            if inner == 1 {
                columnBlocks = 1
                count = outer
                grain = max(1, Elementwise.grain / max(reduced, 1))
            } else {
                columnBlocks = outer >= Parallel.threadCount ? 1 : max(1, min(Parallel.threadCount, inner / 1024))
                count = outer * columnBlocks
                grain = max(1, Elementwise.grain / max(reduced * inner / columnBlocks, 1))
            }
        }

        /// The input column block, the output columns it folds into, and their width.
        @inline(__always)
        func block<T>(_ item: Int, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>)
            -> (UnsafePointer<T>, UnsafeMutablePointer<T>, Int) {
            let (o, b) = item.quotientAndRemainder(dividingBy: columnBlocks)
            let start = layout.inner * b / columnBlocks, end = layout.inner * (b + 1) / columnBlocks
            return (x + o * layout.extent * layout.inner + start, y + o * layout.inner + start, end - start)
        }
    }

    /// Folds the `layout.extent` rows of `width` columns starting at `source` (rows `layout.inner`
    /// apart) into `target`, one whole row at a time so the loop vectorises across columns.
    @inline(__always)
    static func fold<T>(_ source: UnsafePointer<T>, into target: UnsafeMutablePointer<T>, _ width: Int,
                        _ layout: AxisLayout, _ identity: T, _ combine: (T, T) -> T) {
        for j in 0..<width { target[j] = identity }
        var row = source
        for _ in 0..<layout.extent {
            for j in 0..<width { target[j] = combine(target[j], row[j]) }
            row += layout.inner
        }
    }

    /// Any axis set: walk the input in order, folding each element into its output position.
    @inline(__always)
    static func general<T>(_ g: Geometry, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, identity: T,
                           combine: (T, T) -> T) {
        y.update(repeating: identity, count: g.outputCount)
        let rank = g.extents.count
        // Output strides of the kept axes (0 for reduced ones).
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * rank) { scratch in
            let strides = scratch.baseAddress!, index = strides + rank
            var stride = 1
            for axis in (0..<rank).reversed() {
                strides[axis] = g.reduced[axis] ? 0 : stride
                if !g.reduced[axis] { stride *= g.extents[axis] }
                index[axis] = 0
            }
            let inner = g.extents[rank - 1], innerStride = strides[rank - 1]
            let total = g.outputCount * g.reducedCount
            var position = 0, out = 0
            while position < total {
                for j in 0..<inner { y[out + j * innerStride] = combine(y[out + j * innerStride], x[position + j]) }
                position += inner
                var axis = rank - 2
                while axis >= 0 {
                    index[axis] += 1
                    out += strides[axis]
                    if index[axis] < g.extents[axis] { break }
                    out -= strides[axis] * g.extents[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }

    /// Index of the largest element along the middle axis of `layout` for each (outer, inner)
    /// position: the first of equal maxima, or the last with `selectLastIndex`. NaN never wins.
    public static func argMax(_ layout: AxisLayout, selectLastIndex: Bool, _ x: UnsafePointer<Float>,
                              _ y: UnsafeMutablePointer<Int64>) {
        argMaxAny(layout, selectLastIndex: selectLastIndex, x, y)
    }

    /// argMax over int64 elements.
    public static func argMax(_ layout: AxisLayout, selectLastIndex: Bool, _ x: UnsafePointer<Int64>,
                              _ y: UnsafeMutablePointer<Int64>) {
        argMaxAny(layout, selectLastIndex: selectLastIndex, x, y)
    }

    static func argMaxAny<T: Comparable>(_ layout: AxisLayout, selectLastIndex: Bool, _ x: UnsafePointer<T>,
                                         _ y: UnsafeMutablePointer<Int64>) {
        let (outer, extent, inner) = (layout.outer, layout.extent, layout.inner)
        precondition(extent > 0, "argmax over an empty axis")
        Parallel.forEach(outer * inner, grain: max(1, Elementwise.grain / extent)) { range in
            for position in range {
                let (o, j) = position.quotientAndRemainder(dividingBy: inner)
                let column = x + o * extent * inner + j
                var best = 0, leader = column[0]
                for k in 1..<max(extent, 1) {
                    let candidate = column[k * inner]
                    if candidate > leader || (selectLastIndex && candidate == leader) {
                        best = k
                        leader = candidate
                    }
                }
                y[position] = Int64(best)
            }
        }
    }

    /// Sum of `count` contiguous floats, with 16 partial sums so the loop vectorises.
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        let raw = UnsafeRawPointer(x)
        var a = SIMD8<Float>(), b = SIMD8<Float>()
        var i = 0
        while i + 16 <= count {
            a += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            b += raw.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
            i += 16
        }
        var total = (a + b).sum()
        while i < count {
            total += x[i]
            i += 1
        }
        return total
    }

    /// Largest of `count` contiguous floats (−∞ for none); NaN wins.
    @inline(__always)
    static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float { extreme(x, count: count, largest: true) }

    /// Smallest of `count` contiguous floats (+∞ for none); NaN wins.
    @inline(__always)
    static func minimum(_ x: UnsafePointer<Float>, count: Int) -> Float { extreme(x, count: count, largest: false) }

    @inline(__always)
    static func extreme(_ x: UnsafePointer<Float>, count: Int, largest: Bool) -> Float {
        let raw = UnsafeRawPointer(x)
        var best = SIMD8<Float>(repeating: largest ? -.infinity : .infinity)
        var i = 0
        while i + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            best.replace(with: v, where: (largest ? v .> best : v .< best) .| (v .!= v))
            i += 8
        }
        func better(_ a: Float, _ b: Float) -> Float {
            (largest ? b > a : b < a) || b != b ? b : a
        }
        var result = best[0]
        for lane in 1..<8 { result = result != result ? result : better(result, best[lane]) }
        while i < count {
            result = result != result ? result : better(result, x[i])
            i += 1
        }
        return result
    }
}
