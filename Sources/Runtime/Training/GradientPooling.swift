// Gradients of windowed max and average pooling, over the forward kernels' geometry. Each plane is one
// work item written by one thread in a fixed order, so the results do not depend on the thread count.
extension Pool2D {
    /// dX of max pooling: each window's output gradient goes to the window's first maximum in scan
    /// order (rows, then columns), ties as in PyTorch; the first NaN, if any, is the maximum (as in
    /// the forward max). A window of only −∞ sends its gradient to its first position; a window
    /// entirely in the padding sends none.
    public static func maxBackward(_ g: Geometry, input x: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
                                   inputGradient dx: UnsafeMutablePointer<Float>) {
        let (inputPlane, outputPlane) = (g.inputHeight * g.inputWidth, g.outputHeight * g.outputWidth)
        precondition(inputPlane <= Int(Int32.max), "pooling planes of \(inputPlane) elements are too large")
        let interior = interiorColumns(g)
        g.rows.withUnsafeBufferPointer { rows in
            g.columns.withUnsafeBufferPointer { columns in
                Parallel.forEach(g.planes, grain: Swift.max(1, 2048 / Swift.max(outputPlane, 1))) { planes in
                    // Per output column of the current row: its window's maximum so far, and where it is.
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: Swift.max(g.outputWidth, 1)) { largest in
                        withUnsafeTemporaryAllocation(of: Int32.self, capacity: Swift.max(g.outputWidth, 1)) { winner in
                            for plane in planes {
                                let input = x + plane * inputPlane, target = dx + plane * inputPlane
                                var gradient = dy + plane * outputPlane
                                target.update(repeating: 0, count: inputPlane)
                                for row in rows {
                                    if row.count > 0 {
                                        findMaxima(g, input, row, columns, interior, largest.baseAddress!, winner.baseAddress!)
                                        for (ow, column) in columns.enumerated() where column.count > 0 {
                                            target[Int(winner[ow])] += gradient[ow]
                                        }
                                    }
                                    gradient += g.outputWidth
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The first maximum of every window of one output row (at least one window row inside the
    /// input), as plane indices in `winner`. Window rows are taken in order and within each the taps
    /// in order, which is scan order; the interior columns take each tap in one strided loop over
    /// all of them.
    @inline(__always)
    static func findMaxima(_ g: Geometry, _ input: UnsafePointer<Float>, _ row: Geometry.Window,
                           _ columns: UnsafeBufferPointer<Geometry.Window>, _ interior: (columns: Range<Int>, stride: Int),
                           _ largest: UnsafeMutablePointer<Float>, _ winner: UnsafeMutablePointer<Int32>) {
        for (ow, column) in columns.enumerated() {
            largest[ow] = -.infinity
            winner[ow] = Int32(row.start * g.inputWidth + column.start)
        }
        let (inside, stride) = interior
        for r in 0..<row.count {
            let offset = (row.start + r * row.step) * g.inputWidth
            let line = input + offset
            if let leftmost = inside.first {
                for tap in 0..<g.kernelWidth {
                    // Input position of column `leftmost`'s tap; column ow's is `stride` further per column.
                    let first = columns[leftmost].start + tap * g.dilationWidth
                    var ow = leftmost
                    if stride == 1 {
                        ow = challengeVectors(line + first - leftmost, offset + first - leftmost, from: ow, to: inside.upperBound,
                                              stride: 1, largest, winner) { UnsafeRawPointer($0).loadUnaligned(as: SIMD8<Float>.self) }
                    } else if stride == 2 {
                        // A vector step at ow reads 16 floats from position(ow), which must stay in the row.
                        let room = g.inputWidth - 16 - first
                        let end = room < 0 ? leftmost : min(inside.upperBound, leftmost + room / 2 + 8)
                        ow = challengeVectors(line + first - 2 * leftmost, offset + first - 2 * leftmost, from: ow, to: end,
                                              stride: 2, largest, winner) { UnsafeRawPointer($0).loadUnaligned(as: SIMD16<Float>.self).evenHalf }
                    }
                    while ow < inside.upperBound {
                        let position = first + (ow - leftmost) * stride
                        challenge(line[position], Int32(offset + position), largest + ow, winner + ow)
                        ow += 1
                    }
                }
            }
            for ow in 0..<g.outputWidth where !inside.contains(ow) {
                let column = columns[ow]
                for c in 0..<column.count {
                    let position = column.start + c * column.step
                    challenge(line[position], Int32(offset + position), largest + ow, winner + ow)
                }
            }
        }
    }

    /// Takes `value` at `index` as the window's new maximum if it beats the current one: a larger
    /// number, or the first NaN. Selects rather than branches, since which tap wins is unpredictable.
    @inline(__always)
    static func challenge(_ value: Float, _ index: Int32, _ largest: UnsafeMutablePointer<Float>,
                          _ winner: UnsafeMutablePointer<Int32>) {
        let current = largest.pointee
        let wins = value > current || (value != value && current == current)
        largest.pointee = wins ? value : current
        winner.pointee = wins ? index : winner.pointee
    }

    /// `challenge` for eight output columns at a time, ow in [from, to), where column ow's tap is at
    /// `line[ow·stride]` (plane index `offset + ow·stride`) and `load` reads the taps of columns
    /// ow…ow+7. Returns the first column it did not do.
    @inline(__always)
    static func challengeVectors(_ line: UnsafePointer<Float>, _ offset: Int, from: Int, to: Int, stride: Int,
                                 _ largest: UnsafeMutablePointer<Float>, _ winner: UnsafeMutablePointer<Int32>,
                                 _ load: (UnsafePointer<Float>) -> SIMD8<Float>) -> Int {
        let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7) &* Int32(stride)
        var ow = from
        while ow + 8 <= to {
            let value = load(line + ow * stride)
            let current = UnsafeRawPointer(largest + ow).loadUnaligned(as: SIMD8<Float>.self)
            let index = SIMD8<Int32>(repeating: Int32(offset + ow * stride)) &+ lanes
            let wins = (value .> current) .| ((value .!= value) .& (current .== current))
            UnsafeMutableRawPointer(largest + ow).storeBytes(of: current.replacing(with: value, where: wins), as: SIMD8<Float>.self)
            let held = UnsafeRawPointer(winner + ow).loadUnaligned(as: SIMD8<Int32>.self)
            UnsafeMutableRawPointer(winner + ow).storeBytes(of: held.replacing(with: index, where: wins), as: SIMD8<Int32>.self)
            ow += 8
        }
        return ow
    }

    /// The output columns whose windows lie wholly inside the input (a contiguous run) and the
    /// distance between their window starts, so those columns can take each tap in one strided loop.
    static func interiorColumns(_ g: Geometry) -> (columns: Range<Int>, stride: Int) {
        guard let first = g.columns.firstIndex(where: { $0.count == g.kernelWidth }) else { return (0..<0, 1) }
        var end = first + 1
        while end < g.columns.count && g.columns[end].count == g.kernelWidth { end += 1 }
        let stride = end - first > 1 ? g.columns[first + 1].start - g.columns[first].start : 1
        return (first..<end, stride)
    }

    /// dX of average pooling: each output gradient, divided by its window's divisor (the forward's:
    /// positions inside the input, or inside input and declared padding with count_include_pad), is
    /// added to every input position of the window. Separable like the forward: a row's windows
    /// first spread along one input-width line, which is then added to each input row of the window.
    public static func averageBackward(_ g: Geometry, outputGradient dy: UnsafePointer<Float>,
                                       inputGradient dx: UnsafeMutablePointer<Float>) {
        let (inputPlane, outputPlane) = (g.inputHeight * g.inputWidth, g.outputHeight * g.outputWidth)
        g.rows.withUnsafeBufferPointer { rows in
            g.columns.withUnsafeBufferPointer { columns in
                Parallel.forEach(g.planes, grain: Swift.max(1, 4096 / Swift.max(outputPlane, 1))) { planes in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: Swift.max(g.inputWidth, 1)) { buffer in
                        let line = buffer.baseAddress!
                        for plane in planes {
                            let target = dx + plane * inputPlane
                            var gradient = dy + plane * outputPlane
                            target.update(repeating: 0, count: inputPlane)
                            for row in rows {
                                defer { gradient += g.outputWidth }
                                guard row.count > 0 else { continue }
                                line.update(repeating: 0, count: g.inputWidth)
                                for (ow, column) in columns.enumerated() where column.count > 0 {
                                    let divisor = g.countIncludePad ? row.paddedCount * column.paddedCount : row.count * column.count
                                    let share = gradient[ow] / Float(divisor)
                                    for c in 0..<column.count { line[column.start + c * column.step] += share }
                                }
                                for r in 0..<row.count {
                                    let destination = target + (row.start + r * row.step) * g.inputWidth
                                    for j in 0..<g.inputWidth { destination[j] += line[j] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
