import CVectorMath
import Foundation

/// Batch normalisation (inference), layer normalisation, softmax and log-softmax.
public enum Normalization {
    /// Layer normalisation of `rows` rows of `columns` elements each.
    public struct LayerNormGeometry: Hashable, Sendable, Codable {
        /// Rows normalised independently (the product of the axes before the normalised ones).
        public var rows: Int
        /// Elements per row (the product of the normalised axes).
        public var columns: Int
        /// Added to the variance.
        public var epsilon: Float
        /// Length of the scale vector: `columns`, or a trailing block that repeats along the row
        /// (a scale of shape [768] over normalised axes [197, 768]).
        public var scaleCount: Int
        /// Length of the bias vector, likewise; 0 when there is no bias.
        public var biasCount: Int

        /// Rows of `columns` elements with a scale of `scaleCount` and a bias of `biasCount` (0: none).
        public init(rows: Int, columns: Int, epsilon: Float, scaleCount: Int, biasCount: Int) {
            precondition(scaleCount > 0 && columns % scaleCount == 0, "scale of \(scaleCount) does not tile rows of \(columns)")
            precondition(biasCount == 0 || columns % biasCount == 0, "bias of \(biasCount) does not tile rows of \(columns)")
            self.rows = rows
            self.columns = columns
            self.epsilon = epsilon
            self.scaleCount = scaleCount
            self.biasCount = biasCount
        }
    }

    /// y = (x − mean)/√(variance + ε)·scale + bias per channel of `layout` (channels are its middle
    /// axis: [N, C, H·W]). The per-channel factors are derived from the parameters on every call,
    /// since training updates them.
    public static func batchNorm(_ layout: AxisLayout, epsilon: Float, _ x: UnsafePointer<Float>,
                                 scale: UnsafePointer<Float>, bias: UnsafePointer<Float>, mean: UnsafePointer<Float>,
                                 variance: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        let (channels, size) = (layout.extent, layout.inner)
        Parallel.forEach(layout.outer * channels, grain: max(1, Elementwise.grain / max(size, 1))) { planes in
            for plane in planes {
                let c = plane % channels
                let factor = scale[c] / (variance[c] + epsilon).squareRoot()
                let shift = bias[c] - mean[c] * factor
                let target = y + plane * size
                withSource(x + plane * size, writing: target) { source in
                    for i in 0..<size { target[i] = source[i] * factor + shift }
                }
            }
        }
    }

    /// Normalises each row to zero mean and unit (biased) variance, then scales and shifts it.
    /// Writes each row's mean and 1/√(variance + ε) when `mean` / `inverseStandardDeviation` are given
    /// (training keeps them for the backward pass). `y` may be `x`.
    public static func layerNorm(_ geometry: LayerNormGeometry, _ x: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
                                 mean: UnsafeMutablePointer<Float>?, inverseStandardDeviation: UnsafeMutablePointer<Float>?) {
        let g = geometry
        let n = g.columns
        precondition(g.biasCount == 0 || bias != nil, "the layer norm adds a bias but none was given")
        Parallel.forEach(g.rows, grain: max(1, Elementwise.grain / 4 / max(n, 1))) { rows in
            for r in rows {
                let target = y + r * n
                let (average, inverse) = withSource(x + r * n, writing: target) { source in
                    normalize(source, into: target, g, scale: scale, bias: bias)
                }
                mean?[r] = average
                inverseStandardDeviation?[r] = inverse
            }
        }
    }

    /// One row of `layerNorm`; returns its mean and inverse standard deviation.
    @inline(__always)
    static func normalize(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, _ g: LayerNormGeometry,
                          scale: UnsafePointer<Float>, bias: UnsafePointer<Float>?) -> (Float, Float) {
        let n = g.columns
        let average = Reductions.sum(source, count: n) / Float(n)
        let deviation = squaredDeviation(source, count: n, from: average) / Float(n)
        let inverse = 1 / (deviation + g.epsilon).squareRoot()
        if g.biasCount == 0 || g.biasCount == g.scaleCount {
            // Scale and bias repeat in blocks of scaleCount: plain loops per block.
            var base = 0
            while base < n {
                let s = scale - base
                if let bias {
                    let b = bias - base
                    for j in base..<(base + g.scaleCount) { target[j] = (source[j] - average) * inverse * s[j] + b[j] }
                } else {
                    for j in base..<(base + g.scaleCount) { target[j] = (source[j] - average) * inverse * s[j] }
                }
                base += g.scaleCount
            }
        } else {
            for j in 0..<n {
                target[j] = (source[j] - average) * inverse * scale[j % g.scaleCount] + bias![j % g.biasCount]
            }
        }
        return (average, inverse)
    }

    /// Σ (x[i] − center)² over `count` contiguous floats, with vector partial sums.
    @inline(__always)
    static func squaredDeviation(_ x: UnsafePointer<Float>, count: Int, from center: Float) -> Float {
        let raw = UnsafeRawPointer(x)
        let c = SIMD8<Float>(repeating: center)
        var a = SIMD8<Float>(), b = SIMD8<Float>()
        var i = 0
        while i + 16 <= count {
            let u = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - c
            let v = raw.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self) - c
            a += u * u
            b += v * v
            i += 16
        }
        var total = (a + b).sum()
        while i < count {
            let d = x[i] - center
            total += d * d
            i += 1
        }
        return total
    }

    /// Softmax along the middle axis of `layout`, shifted by the maximum so large inputs do not
    /// overflow. `y` may be `x`.
    public static func softmax(_ layout: AxisLayout, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        softmax(layout, x, y, logarithm: false)
    }

    /// Log-softmax along the middle axis of `layout`: x − max − log Σ exp(x − max). `y` may be `x`.
    public static func logSoftmax(_ layout: AxisLayout, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        softmax(layout, x, y, logarithm: true)
    }

    static func softmax(_ layout: AxisLayout, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, logarithm: Bool) {
        let (outer, n, inner) = (layout.outer, layout.extent, layout.inner)
        guard n > 0 else { return }
        if inner == 1 {
            Parallel.forEach(outer, grain: max(1, Elementwise.grain / 8 / n)) { rows in
                for r in rows {
                    let target = y + r * n
                    withSource(x + r * n, writing: target) { source in
                        softmaxRow(source, into: target, count: n, logarithm: logarithm)
                    }
                }
            }
            return
        }
        // The axis is strided: work on tiles of adjacent columns, whose maxima and sums are kept in
        // a small stack buffer, so every inner loop runs along contiguous memory.
        let tile = 64
        let tiles = (inner + tile - 1) / tile
        Parallel.forEach(outer * tiles, grain: max(1, Elementwise.grain / 8 / (n * min(inner, tile)))) { items in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * tile) { buffer in
                let largest = buffer.baseAddress!, total = largest + tile
                for item in items {
                    let (o, t) = item.quotientAndRemainder(dividingBy: tiles)
                    let start = t * tile, width = min(tile, inner - start)
                    let source = x + o * n * inner + start, target = y + o * n * inner + start
                    for j in 0..<width {
                        largest[j] = -.infinity
                        total[j] = 0
                    }
                    for k in 0..<n {
                        let row = source + k * inner
                        for j in 0..<width { largest[j] = row[j] > largest[j] || row[j] != row[j] ? row[j] : largest[j] }
                    }
                    for k in 0..<n {
                        let row = source + k * inner, out = target + k * inner
                        if logarithm {
                            for j in 0..<width { total[j] += VectorMath.exp(row[j] - largest[j]) }
                        } else {
                            withSource(row, writing: out) { row in
                                for j in 0..<width {
                                    out[j] = VectorMath.exp(row[j] - largest[j])
                                    total[j] += out[j]
                                }
                            }
                        }
                    }
                    if logarithm {
                        for j in 0..<width { largest[j] += Foundation.log(total[j]) }
                        for k in 0..<n {
                            let out = target + k * inner
                            withSource(source + k * inner, writing: out) { row in
                                for j in 0..<width { out[j] = row[j] - largest[j] }
                            }
                        }
                    } else {
                        for j in 0..<width { total[j] = 1 / total[j] }
                        for k in 0..<n {
                            let out = target + k * inner
                            for j in 0..<width { out[j] *= total[j] }
                        }
                    }
                }
            }
        }
    }

    /// Softmax or log-softmax of one contiguous row.
    @inline(__always)
    static func softmaxRow(_ source: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>, count n: Int,
                           logarithm: Bool) {
        if !logarithm && VectorMath.hasAVX2 { return serkd_softmax_row_avx2(source, target, n) }
        let largest = Reductions.maximum(source, count: n)
        if logarithm {
            // Shift first (in place if y is x), then sum the exponentials a block at a time so the
            // exp loop vectorises.
            for i in 0..<n { target[i] = source[i] - largest }
            let total = withUnsafeTemporaryAllocation(of: Float.self, capacity: 256) { buffer in
                let block = buffer.baseAddress!
                var total: Float = 0, start = 0
                while start < n {
                    let width = min(256, n - start)
                    total += VectorMath.exponentials(of: target + start, into: block, count: width, shift: 0)
                    start += width
                }
                return total
            }
            let shift = Foundation.log(total)
            for i in 0..<n { target[i] -= shift }
        } else {
            let scale = 1 / VectorMath.exponentials(of: source, into: target, count: n, shift: largest)
            for i in 0..<n { target[i] *= scale }
        }
    }
}
