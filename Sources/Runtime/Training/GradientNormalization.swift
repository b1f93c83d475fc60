// Gradients of softmax, log-softmax and layer normalisation.
//
// Softmax rows are independent work items. Layer norm's scale and bias gradients sum over rows: rows
// are cut into blocks fixed by the geometry, each block's partial sums go to the workspace, and the
// blocks are added in order, so the sums do not depend on the thread count.
extension Normalization {
    /// dX of softmax from its output: Y·(dY − Σ dY·Y) along the layout's axis.
    public static func softmaxBackward(_ layout: AxisLayout, output y: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
                                       inputGradient dx: UnsafeMutablePointer<Float>) {
        alongAxis(layout, y, dy, dx, logarithm: false)
    }

    /// dX of log-softmax from its output: dY − exp(Y)·Σ dY along the layout's axis.
    public static func logSoftmaxBackward(_ layout: AxisLayout, output y: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
                                          inputGradient dx: UnsafeMutablePointer<Float>) {
        alongAxis(layout, y, dy, dx, logarithm: true)
    }

    static func alongAxis(_ layout: AxisLayout, _ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                          _ dx: UnsafeMutablePointer<Float>, logarithm: Bool) {
        let (outer, n, inner) = (layout.outer, layout.extent, layout.inner)
        guard n > 0 else { return }
        if inner == 1 {
            Parallel.forEach(outer, grain: max(1, Elementwise.grain / 4 / n)) { rows in
                for r in rows {
                    let (y, dy, dx) = (y + r * n, dy + r * n, dx + r * n)
                    if logarithm {
                        let total = Reductions.sum(dy, count: n)
                        for i in 0..<n { dx[i] = dy[i] - VectorMath.exp(y[i]) * total }
                    } else {
                        let total = dot(dy, y, count: n)
                        for i in 0..<n { dx[i] = y[i] * (dy[i] - total) }
                    }
                }
            }
            return
        }
        // The axis is strided: tiles of adjacent columns, their sums in a stack buffer, so every inner
        // loop runs along contiguous memory (as the forward kernel does).
        let tile = 64
        let tiles = (inner + tile - 1) / tile
        Parallel.forEach(outer * tiles, grain: max(1, Elementwise.grain / 4 / (n * min(inner, tile)))) { items in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: tile) { buffer in
                let total = buffer.baseAddress!
                for item in items {
                    let (o, t) = item.quotientAndRemainder(dividingBy: tiles)
                    let start = t * tile, width = min(tile, inner - start)
                    let base = o * n * inner + start
                    for j in 0..<width { total[j] = 0 }
                    for k in 0..<n {
                        let (y, dy) = (y + base + k * inner, dy + base + k * inner)
                        if logarithm {
                            for j in 0..<width { total[j] += dy[j] }
                        } else {
                            for j in 0..<width { total[j] += dy[j] * y[j] }
                        }
                    }
                    for k in 0..<n {
                        let (y, dy, dx) = (y + base + k * inner, dy + base + k * inner, dx + base + k * inner)
                        if logarithm {
                            for j in 0..<width { dx[j] = dy[j] - VectorMath.exp(y[j]) * total[j] }
                        } else {
                            for j in 0..<width { dx[j] = y[j] * (dy[j] - total[j]) }
                        }
                    }
                }
            }
        }
    }

    /// Σ a[i]·b[i] over `count` contiguous floats, with vector partial sums.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        let (ra, rb) = (UnsafeRawPointer(a), UnsafeRawPointer(b))
        var s = SIMD8<Float>(), t = SIMD8<Float>()
        var i = 0
        while i + 16 <= count {
            s += ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            t += ra.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
            i += 16
        }
        var total = (s + t).sum()
        while i < count {
            total += a[i] * b[i]
            i += 1
        }
        return total
    }

    /// Layer norm's gradient over `rows` rows of `columns` elements, with a scale of `scaleCount`
    /// elements repeating along each row (as in the forward `LayerNormGeometry`).
    public struct LayerNormGradientGeometry: Hashable, Sendable, Codable {
        public var rows: Int
        public var columns: Int
        /// Length of the scale (and of the scale and bias gradients).
        public var scaleCount: Int
        /// Rows per block of partial scale and bias sums.
        public var rowsPerBlock: Int

        public init(rows: Int, columns: Int, scaleCount: Int) {
            precondition(scaleCount > 0 && columns % scaleCount == 0, "scale of \(scaleCount) does not tile rows of \(columns)")
            self.rows = rows
            self.columns = columns
            self.scaleCount = scaleCount
            // At most 64 blocks (enough to share among threads, few partials to add up), and at least
            // 4096 elements per block.
            rowsPerBlock = max(1, (rows + 63) / 64, 4096 / max(columns, 1))
        }

        /// Blocks of rows with their own partial sums.
        public var blocks: Int { (rows + rowsPerBlock - 1) / rowsPerBlock }

        /// Scratch bytes: a partial scale gradient and bias gradient per block.
        public var workspaceBytes: Int { blocks * 2 * scaleCount * MemoryLayout<Float>.size }
    }

    /// Layer norm's backward pass from the forward input, scale and saved statistics:
    /// with x̂ = (x − mean)·inverse and g = dY·scale per row,
    /// dX = inverse·(g − mean(g) − x̂·mean(g·x̂)), dScale = Σ dY·x̂ and dBias = Σ dY over rows (and
    /// over the repeats of the scale along a row).
    public static func layerNormBackward(_ geometry: LayerNormGradientGeometry, input x: UnsafePointer<Float>,
                                         scale: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                         inverseStandardDeviation: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
                                         inputGradient dx: UnsafeMutablePointer<Float>, scaleGradient: UnsafeMutablePointer<Float>,
                                         biasGradient: UnsafeMutablePointer<Float>, workspace: UnsafeMutableRawPointer?) {
        let g = geometry
        let (n, period) = (g.columns, g.scaleCount)
        guard g.rows > 0 else {
            scaleGradient.update(repeating: 0, count: period)
            biasGradient.update(repeating: 0, count: period)
            return
        }
        let partials = workspace!.assumingMemoryBound(to: Float.self)
        Parallel.forEach(g.blocks) { blocks in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * max(n, 1)) { buffer in
                let normalized = buffer.baseAddress!, scaled = normalized + n
                for block in blocks {
                    let scaleSums = partials + block * 2 * period, biasSums = scaleSums + period
                    scaleSums.update(repeating: 0, count: 2 * period)
                    for r in (block * g.rowsPerBlock)..<min(g.rows, (block + 1) * g.rowsPerBlock) {
                        let (x, dy, dx) = (x + r * n, dy + r * n, dx + r * n)
                        let (average, inverse) = (mean[r], inverseStandardDeviation[r])
                        var base = 0
                        while base < n {
                            let (s, xb, dyb, nb, gb) = (scale, x + base, dy + base, normalized + base, scaled + base)
                            for j in 0..<period {
                                nb[j] = (xb[j] - average) * inverse
                                gb[j] = dyb[j] * s[j]
                                scaleSums[j] += dyb[j] * nb[j]
                                biasSums[j] += dyb[j]
                            }
                            base += period
                        }
                        let meanGradient = Reductions.sum(scaled, count: n) / Float(n)
                        let meanProjection = dot(scaled, normalized, count: n) / Float(n)
                        for j in 0..<n { dx[j] = inverse * (scaled[j] - meanGradient - normalized[j] * meanProjection) }
                    }
                }
            }
        }
        // Block partials added in block order.
        scaleGradient.update(from: partials, count: period)
        biasGradient.update(from: partials + period, count: period)
        for block in 1..<g.blocks {
            let scaleSums = partials + block * 2 * period, biasSums = scaleSums + period
            for j in 0..<period {
                scaleGradient[j] += scaleSums[j]
                biasGradient[j] += biasSums[j]
            }
        }
    }
}
