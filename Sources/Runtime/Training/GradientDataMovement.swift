import Tensor

// Gradients of gather and slice: the output gradient put back where the forward took it from.
extension DataMovement {
    /// dData of gather (float32): zeros shaped like the data, then dData[o, indices[i], j] += dY[o, i, j]
    /// for every index in order, so repeated indices accumulate in index order whatever the thread
    /// count (threads split the outer and inner extents, never the indices). A negative index counts
    /// from the end. Throws, before writing anything, when an index is out of range.
    public static func scatterAdd(_ geometry: Gather, outputGradient dy: UnsafePointer<Float>, indices: UnsafePointer<Int64>,
                                  into dData: UnsafeMutablePointer<Float>) throws {
        let (outer, extent, inner) = (geometry.layout.outer, geometry.layout.extent, geometry.layout.inner)
        for i in 0..<geometry.indexCount where indices[i] < -Int64(extent) || indices[i] >= Int64(extent) {
            throw InvalidInput(nil, "index \(indices[i]) is out of range for axis \(geometry.axis) of extent \(extent)")
        }
        let count = geometry.indexCount
        // Column strips of at most 1024 elements give threads work when outer is small.
        let strip = 1024
        let strips = (inner + strip - 1) / strip
        Parallel.forEach(outer * strips, grain: max(1, Elementwise.grain / max(min(inner, strip) * max(count, extent), 1))) { items in
            for item in items {
                let (o, s) = item.quotientAndRemainder(dividingBy: strips)
                let start = s * strip, width = min(strip, inner - start)
                let target = dData + o * extent * inner + start
                for e in 0..<extent { (target + e * inner).update(repeating: 0, count: width) }
                let source = dy + o * count * inner + start
                for i in 0..<count {
                    let index = indices[i] < 0 ? Int(indices[i]) + extent : Int(indices[i])
                    let (row, gradient) = (target + index * inner, source + i * inner)
                    for j in 0..<width { row[j] += gradient[j] }
                }
            }
        }
    }

    /// dX of slice: zeros of `inputCount` elements, then dY placed at the elements the slice
    /// `geometry` (the forward slice's copy view: output element k reads input element
    /// offset + Σ index·stride) read. Any element size.
    public static func sliceBackward(_ geometry: Copy, inputCount: Int, outputGradient dy: UnsafeRawPointer,
                                     into dx: UnsafeMutableRawPointer) {
        switch geometry.elementSize {
        case 1: place(geometry, UInt8.self, inputCount, dy, dx)
        case 2: place(geometry, UInt16.self, inputCount, dy, dx)
        case 4: place(geometry, UInt32.self, inputCount, dy, dx)
        default: place(geometry, UInt64.self, inputCount, dy, dx)
        }
    }

    static func place<T: FixedWidthInteger>(_ g: Copy, _: T.Type, _ inputCount: Int, _ dy: UnsafeRawPointer,
                                            _ dx: UnsafeMutableRawPointer) {
        let source = dy.assumingMemoryBound(to: T.self), target = dx.assumingMemoryBound(to: T.self)
        Parallel.forEach(inputCount, grain: Elementwise.grain) { range in
            (target + range.lowerBound).update(repeating: 0, count: range.count)
        }
        guard g.count > 0 else { return }
        let inner = g.strides[g.strides.count - 1]
        let destination = target + g.offset
        Parallel.forEach(g.count, grain: Elementwise.grain) { range in
            forEachRun(extents: g.extents, strides: g.strides.lazy.map { SIMD3($0, 0, 0) }, in: range) { out, offsets, n in
                let (from, to) = (source + out, destination + offsets[0])
                if inner == 1 {
                    to.update(from: from, count: n)
                } else {
                    for i in 0..<n { to[i * inner] = from[i] }
                }
            }
        }
    }
}
