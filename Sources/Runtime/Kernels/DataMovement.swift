import Tensor

/// Kernels that only move elements, for any dtype by element size (1, 2, 4 or 8 bytes).
///
/// Transpose, slice, expand and tile are all one kernel: a strided view of the input (`Copy`) copied
/// into a contiguous output. Concat, gather and pad have their own.
public enum DataMovement {
    /// A strided view of an input, copied into a contiguous output. Axes are merged where the view
    /// allows, so a transpose that keeps the last axis copies whole rows and a slice of full rows is
    /// one block copy.
    public struct Copy: Hashable, Sendable, Codable {
        /// Bytes per element.
        public var elementSize: Int
        /// Output extents after merging (never empty).
        public var extents: [Int]
        /// Input element stride along each merged output axis: negative for reversed axes, 0 for
        /// repeated ones.
        public var strides: [Int]
        /// Input element offset of output element 0.
        public var offset: Int
        /// Output elements.
        public var count: Int

        /// The view of output extents `extents` reading the input at `offset + Σ index·stride`.
        public init(extents: [Int], strides: [Int], offset: Int = 0, elementSize: Int) {
            precondition([1, 2, 4, 8].contains(elementSize), "no data movement kernel for \(elementSize)-byte elements")
            let merged = mergeAxes(extents: extents, strides: [strides])
            self.extents = merged.extents
            self.strides = merged.strides[0]
            self.offset = offset
            self.elementSize = elementSize
            count = extents.reduce(1, *)
        }

        /// Output axis i is input axis `permutation[i]`.
        public static func transpose(_ shape: [Int], permutation: [Int], elementSize: Int) -> Copy {
            let strides = Shape(shape).strides
            return Copy(extents: permutation.map { shape[$0] }, strides: permutation.map { strides[$0] }, elementSize: elementSize)
        }

        /// Indices start + i·step on each axis for i below `extents` (steps may be negative).
        public static func slice(_ shape: [Int], starts: [Int], steps: [Int], extents: [Int], elementSize: Int) -> Copy {
            let strides = Shape(shape).strides
            return Copy(extents: extents, strides: zip(steps, strides).map(*),
                        offset: zip(starts, strides).map { extents.contains(0) ? 0 : $0 * $1 }.reduce(0, +),
                        elementSize: elementSize)
        }

        /// numpy broadcast of `shape` to `output`.
        public static func expand(_ shape: [Int], to output: [Int], elementSize: Int) -> Copy {
            let padded = Array(repeating: 1, count: output.count - shape.count) + shape
            let strides = Shape(padded).strides
            return Copy(extents: output, strides: padded.indices.map { padded[$0] == 1 ? 0 : strides[$0] },
                        elementSize: elementSize)
        }

        /// `shape` repeated `repeats[i]` times along each axis i: the broadcast of [1, d0, 1, d1, …]
        /// to [r0, d0, r1, d1, …].
        public static func tile(_ shape: [Int], repeats: [Int], elementSize: Int) -> Copy {
            let strides = Shape(shape).strides
            return Copy(extents: zip(repeats, shape).flatMap { [$0, $1] },
                        strides: strides.flatMap { [0, $0] }, elementSize: elementSize)
        }
    }

    /// Copies the view `geometry` of `x` into `y`. `y` must not overlap `x`.
    public static func copy(_ geometry: Copy, from x: UnsafeRawPointer, to y: UnsafeMutableRawPointer) {
        switch geometry.elementSize {
        case 1: copy(geometry, UInt8.self, x, y)
        case 2: copy(geometry, UInt16.self, x, y)
        case 4: copy(geometry, UInt32.self, x, y)
        default: copy(geometry, UInt64.self, x, y)
        }
    }

    static func copy<T>(_ g: Copy, _: T.Type, _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer) {
        let source = x.assumingMemoryBound(to: T.self) + g.offset, target = y.assumingMemoryBound(to: T.self)
        let rank = g.extents.count, inner = g.strides[rank - 1]
        if rank >= 2 && g.strides[rank - 2] == 1 && inner != 1 {
            transposeLastTwo(g, source, target)
            return
        }
        Parallel.forEach(g.count, grain: Elementwise.grain) { range in
            forEachRun(extents: g.extents, strides: g.strides.lazy.map { SIMD3($0, 0, 0) }, in: range) { out, offsets, n in
                let from = source + offsets[0], to = target + out
                switch inner {
                case 1: to.update(from: from, count: n)
                case 0: to.update(repeating: from[0], count: n)
                default: for i in 0..<n { to[i] = from[i * inner] }
                }
            }
        }
    }

    /// The view's last two axes swap: copy in square tiles so both the reads (along the input's
    /// rows) and the writes (along the output's rows) stay within a few cache lines.
    static func transposeLastTwo<T>(_ g: Copy, _ source: UnsafePointer<T>, _ target: UnsafeMutablePointer<T>) {
        let rank = g.extents.count
        let rows = g.extents[rank - 2], columns = g.extents[rank - 1], columnStride = g.strides[rank - 1]
        let batch = g.count / max(rows * columns, 1)
        let tile = 32
        let rowTiles = (rows + tile - 1) / tile
        Parallel.forEach(batch * rowTiles, grain: max(1, Elementwise.grain / (tile * max(columns, 1)))) { items in
            for item in items {
                let (b, rowTile) = item.quotientAndRemainder(dividingBy: rowTiles)
                var inputOffset = 0, rest = b
                for axis in (0..<(rank - 2)).reversed() {
                    inputOffset += rest % g.extents[axis] * g.strides[axis]
                    rest /= g.extents[axis]
                }
                let from = source + inputOffset, to = target + b * rows * columns
                let r0 = rowTile * tile, r1 = min(rows, r0 + tile)
                var c0 = 0
                while c0 < columns {
                    let c1 = min(columns, c0 + tile)
                    for r in r0..<r1 {
                        let line = to + r * columns
                        for c in c0..<c1 { line[c] = from[r + c * columnStride] }
                    }
                    c0 = c1
                }
            }
        }
    }

    /// Inputs joined along an axis: for each outer index, each input's block in turn.
    public struct Concat: Hashable, Sendable, Codable {
        /// Product of the extents before the axis.
        public var outer: Int
        /// Bytes of each input per outer index (its axis extent × the inner extents × element size).
        public var blockBytes: [Int]

        /// Inputs of `shapes` (equal except along `axis`) joined along `axis`.
        public init(shapes: [[Int]], axis: Int, elementSize: Int) {
            precondition(!shapes.isEmpty && shapes.allSatisfy { $0.count == shapes[0].count && $0.indices.contains(axis) },
                         "cannot concatenate \(shapes) on axis \(axis)")
            outer = shapes[0][..<axis].reduce(1, *)
            blockBytes = shapes.map { $0[axis...].reduce(1, *) * elementSize }
        }
    }

    /// Writes the concatenation of `inputs` (one pointer per input, in order) into `y`.
    public static func concat(_ geometry: Concat, _ inputs: [UnsafeRawPointer], into y: UnsafeMutableRawPointer) {
        precondition(inputs.count == geometry.blockBytes.count, "concat of \(geometry.blockBytes.count) inputs got \(inputs.count)")
        let rowBytes = geometry.blockBytes.reduce(0, +)
        let parts = inputs.count
        inputs.withUnsafeBufferPointer { inputs in
            geometry.blockBytes.withUnsafeBufferPointer { blocks in
                Parallel.forEach(geometry.outer * parts, grain: max(1, 4 * Elementwise.grain / max(rowBytes / parts, 1))) { items in
                    for item in items {
                        let (o, part) = item.quotientAndRemainder(dividingBy: parts)
                        var start = 0
                        for p in 0..<part { start += blocks[p] }
                        (y + o * rowBytes + start).copyMemory(from: inputs[part] + o * blocks[part], byteCount: blocks[part])
                    }
                }
            }
        }
    }

    /// Entries of data chosen along an axis by int64 indices.
    public struct Gather: Hashable, Sendable, Codable {
        /// The data around the gathered axis.
        public var layout: AxisLayout
        /// The gathered axis (for error messages).
        public var axis: Int
        /// Number of indices.
        public var indexCount: Int
        /// Bytes per element.
        public var elementSize: Int

        /// Gathers along `axis` of data of `shape` with `indexCount` indices.
        public init(shape: [Int], axis: Int, indexCount: Int, elementSize: Int) {
            layout = AxisLayout(shape: shape, axis: axis)
            self.axis = axis
            self.indexCount = indexCount
            self.elementSize = elementSize
        }
    }

    /// y[o, i, j] = data[o, indices[i], j]; a negative index counts from the end. Throws, before
    /// writing anything, when an index is out of range (indices are data, so no geometry can rule
    /// that out).
    public static func gather(_ geometry: Gather, data: UnsafeRawPointer, indices: UnsafePointer<Int64>,
                              into y: UnsafeMutableRawPointer) throws {
        let (outer, extent, inner) = (geometry.layout.outer, geometry.layout.extent, geometry.layout.inner)
        for i in 0..<geometry.indexCount where indices[i] < -Int64(extent) || indices[i] >= Int64(extent) {
            throw InvalidInput(nil, "index \(indices[i]) is out of range for axis \(geometry.axis) of extent \(extent)")
        }
        let blockBytes = inner * geometry.elementSize
        let count = geometry.indexCount
        Parallel.forEach(outer * count, grain: max(1, 4 * Elementwise.grain / max(blockBytes, 1))) { items in
            for item in items {
                let (o, i) = item.quotientAndRemainder(dividingBy: count)
                let index = indices[i] < 0 ? Int(indices[i]) + extent : Int(indices[i])
                (y + item * blockBytes).copyMemory(from: data + (o * extent + index) * blockBytes, byteCount: blockBytes)
            }
        }
    }

    /// Padding (or, with negative amounts, cropping) of each axis.
    public struct Pad: Hashable, Sendable, Codable {
        /// Bytes per element.
        public var elementSize: Int
        /// Output extents.
        public var extents: [Int]
        /// Input element strides per axis.
        public var inputStrides: [Int]
        /// For each axis and output index, the input index it copies, or -1 for the constant.
        public var sources: [[Int]]
        /// The constant's bit pattern in the element type.
        public var fill: UInt64

        /// - Parameters:
        ///   - pads: all begins, then all ends (negative values crop).
        ///   - value: the constant for `.constant` mode, converted to `dtype`.
        /// - Throws: `InvalidInput` when reflect or edge padding would need elements of an empty axis.
        public init(shape: [Int], pads: [Int], mode: PadMode, value: Float, dtype: DType) throws {
            let rank = shape.count
            precondition(pads.count == 2 * rank, "pads \(pads) do not match \(shape)")
            elementSize = dtype.byteSize
            extents = (0..<rank).map { shape[$0] + pads[$0] + pads[$0 + rank] }
            inputStrides = Shape(shape).strides
            var sources: [[Int]] = []
            for axis in 0..<rank {
                let length = shape[axis]
                if mode != .constant && length == 0 && extents[axis] > 0 {
                    throw InvalidInput(nil, "cannot \(mode.rawValue)-pad the empty axis \(axis)")
                }
                sources.append((0..<extents[axis]).map { position in
                    let index = position - pads[axis]
                    switch mode {
                    case .constant: return index >= 0 && index < length ? index : -1
                    case .edge: return min(max(index, 0), length - 1)
                    case .reflect:
                        guard length > 1 else { return 0 }
                        let period = 2 * (length - 1)
                        let folded = (index % period + period) % period
                        return folded < length ? folded : period - folded
                    }
                })
            }
            self.sources = sources
            fill = switch dtype {
            case .float32: UInt64(value.bitPattern)
            case .int64: UInt64(bitPattern: Elementwise.saturatingInt64(value))
            case .bool: value != 0 ? 1 : 0
            case .bfloat16: UInt64(value.bitPattern >> 16)
            }
        }
    }

    /// Writes the padded (or cropped) input into `y`. `y` must not overlap `x`.
    public static func pad(_ geometry: Pad, from x: UnsafeRawPointer, to y: UnsafeMutableRawPointer) {
        switch geometry.elementSize {
        case 1: pad(geometry, UInt8(truncatingIfNeeded: geometry.fill), x, y)
        case 2: pad(geometry, UInt16(truncatingIfNeeded: geometry.fill), x, y)
        case 4: pad(geometry, UInt32(truncatingIfNeeded: geometry.fill), x, y)
        default: pad(geometry, geometry.fill, x, y)
        }
    }

    static func pad<T>(_ g: Pad, _ fill: T, _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer) {
        let source = x.assumingMemoryBound(to: T.self), target = y.assumingMemoryBound(to: T.self)
        let rank = g.extents.count
        guard rank > 0 else {
            target[0] = source[0]
            return
        }
        let width = g.extents[rank - 1]
        let rowCount = g.extents[..<(rank - 1)].reduce(1, *)
        guard width > 0 else { return }
        let columns = g.sources[rank - 1]
        // The stretch of each row copied straight from the input row; the rest maps one by one.
        let copyStart = columns.firstIndex { $0 >= 0 } ?? width
        var copyEnd = copyStart
        while copyEnd < width && columns[copyEnd] == columns[copyStart] + (copyEnd - copyStart) { copyEnd += 1 }
        Parallel.forEach(rowCount, grain: max(1, Elementwise.grain / width)) { rows in
            for row in rows {
                let out = target + row * width
                // The input row this output row copies, if any.
                var inputOffset = 0, rest = row, inside = true
                for axis in (0..<(rank - 1)).reversed() {
                    let index = g.sources[axis][rest % g.extents[axis]]
                    rest /= g.extents[axis]
                    if index < 0 { inside = false; break }
                    inputOffset += index * g.inputStrides[axis]
                }
                guard inside else {
                    out.update(repeating: fill, count: width)
                    continue
                }
                let line = source + inputOffset
                for j in 0..<copyStart { out[j] = columns[j] < 0 ? fill : line[columns[j]] }
                if copyEnd > copyStart { (out + copyStart).update(from: line + columns[copyStart], count: copyEnd - copyStart) }
                for j in copyEnd..<width { out[j] = columns[j] < 0 ? fill : line[columns[j]] }
            }
        }
    }
}
