/// 2-D max and average pooling over NCHW planes, windowed and global.
///
/// Padding is never a value: max ignores it, and average counts it only when asked to
/// (count_include_pad), and then only the declared padding, never the overrun of a ceil-mode window
/// past it, which is what ONNX's reference, onnxruntime and PyTorch do.
public enum Pool2D {
    /// A resolved pooling window over `planes` planes of height × width.
    public struct Geometry: Hashable, Sendable, Codable {
        /// N·C.
        public var planes: Int
        /// Extents of each input and output plane.
        public var inputHeight: Int
        public var inputWidth: Int
        public var outputHeight: Int
        public var outputWidth: Int
        /// Per output row, the input rows its window covers: start, step and count inside the input,
        /// and the number of window rows inside input plus padding (for count_include_pad).
        public var rows: [Window]
        /// Per output column, likewise.
        public var columns: [Window]
        /// Window width and its dilation, for combining whole windows along a row at once.
        public var kernelWidth: Int
        public var dilationWidth: Int
        /// Average pooling divides by the window's positions inside input plus declared padding.
        public var countIncludePad: Bool

        /// The window positions along one axis for one output index.
        public struct Window: Hashable, Sendable, Codable {
            /// First input index covered.
            public var start: Int
            /// Distance between covered indices (the dilation).
            public var step: Int
            /// Covered indices inside the input.
            public var count: Int
            /// Covered indices inside the input and its declared padding.
            public var paddedCount: Int
        }

        /// - Parameters:
        ///   - input: [N, C, H, W]
        ///   - output: [outH, outW], as shape inference computed them (ceil mode decides these).
        ///   - pads: [top, left, bottom, right]
        public init(input: [Int], output: [Int], kernel: [Int], strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0],
                    dilations: [Int] = [1, 1], countIncludePad: Bool = false) {
            precondition(input.count == 4 && output.count == 2 && kernel.count == 2 && strides.count == 2
                         && pads.count == 4 && dilations.count == 2, "pooling geometry must be 2-D")
            planes = input[0] * input[1]
            inputHeight = input[2]
            inputWidth = input[3]
            outputHeight = output[0]
            outputWidth = output[1]
            kernelWidth = kernel[1]
            dilationWidth = dilations[1]
            self.countIncludePad = countIncludePad
            func windows(axis: Int) -> [Window] {
                let size = input[2 + axis], dilation = dilations[axis]
                return (0..<output[axis]).map { index in
                    let origin = index * strides[axis] - pads[axis]
                    let covered = (0..<kernel[axis]).map { origin + $0 * dilation }
                    let inside = covered.filter { $0 >= 0 && $0 < size }
                    return Window(start: inside.first ?? 0, step: dilation, count: inside.count,
                                  paddedCount: covered.filter { $0 < size + pads[axis + 2] }.count)
                }
            }
            rows = windows(axis: 0)
            columns = windows(axis: 1)
        }
    }

    /// Max over each window; a window entirely in padding gives −∞, and NaN inside a window wins.
    public static func max(_ geometry: Geometry, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        pool(geometry, x, y, average: false)
    }

    /// Mean over each window; a window with no input positions (and padding not counted) gives NaN.
    public static func average(_ geometry: Geometry, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        pool(geometry, x, y, average: true)
    }

    /// Separable pooling: for each output row, the window's input rows are first combined column by
    /// column into one line, then every full-width window along that line (two vectorised passes);
    /// each output picks its window, and only windows clipped by the padding combine tap by tap.
    /// Max and sum are both separable.
    static func pool(_ g: Geometry, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, average: Bool) {
        Parallel.forEach(g.planes, grain: Swift.max(1, 4096 / Swift.max(g.outputHeight * g.outputWidth, 1))) { planes in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: Swift.max(2 * g.inputWidth, 1)) { buffer in
                let line = buffer.baseAddress!, windows = line + g.inputWidth
                g.rows.withUnsafeBufferPointer { rows in
                    g.columns.withUnsafeBufferPointer { columns in
                        for plane in planes {
                            let input = x + plane * g.inputHeight * g.inputWidth
                            var output = y + plane * g.outputHeight * g.outputWidth
                            for row in rows {
                                if average {
                                    poolRow(g, input, row, columns, line, windows, output, initial: 0, combine: { $0 + $1 }) { sum, column in
                                        sum / Float(g.countIncludePad ? row.paddedCount * column.paddedCount : row.count * column.count)
                                    }
                                } else {
                                    poolRow(g, input, row, columns, line, windows, output, initial: -.infinity,
                                            combine: { $1 > $0 || $1 != $1 ? $1 : $0 }) { value, _ in value }
                                }
                                output += g.outputWidth
                            }
                        }
                    }
                }
            }
        }
    }

    /// One output row: combines the window's input rows into `line`, the full-width windows along
    /// it into `windows`, then picks (or, at clipped borders, combines) each output's window.
    @inline(__always)
    static func poolRow(_ g: Geometry, _ input: UnsafePointer<Float>, _ row: Geometry.Window,
                        _ columns: UnsafeBufferPointer<Geometry.Window>, _ line: UnsafeMutablePointer<Float>,
                        _ windows: UnsafeMutablePointer<Float>, _ output: UnsafeMutablePointer<Float>, initial: Float,
                        combine: (Float, Float) -> Float, finish: (Float, Geometry.Window) -> Float) {
        let width = g.inputWidth
        if row.count == 0 {
            for j in 0..<width { line[j] = initial }
        } else {
            var source = input + row.start * width
            line.update(from: source, count: width)
            for _ in 1..<row.count {
                source += row.step * width
                for j in 0..<width { line[j] = combine(line[j], source[j]) }
            }
        }
        // windows[j] combines line[j], line[j + d], …: the window starting at input column j.
        let full = width - (g.kernelWidth - 1) * g.dilationWidth
        if full > 0 {
            for j in 0..<full { windows[j] = line[j] }
            for tap in 1..<Swift.max(g.kernelWidth, 1) {
                let shifted = line + tap * g.dilationWidth
                for j in 0..<full { windows[j] = combine(windows[j], shifted[j]) }
            }
        }
        for (ow, column) in columns.enumerated() {
            if column.count == g.kernelWidth {
                output[ow] = finish(windows[column.start], column)
            } else {
                var value = initial
                let taps = line + column.start
                for c in 0..<column.count { value = combine(value, taps[c * column.step]) }
                output[ow] = finish(value, column)
            }
        }
    }

    /// Mean of each plane of `planes` planes of `size` elements (global average pooling).
    public static func globalAverage(planes: Int, size: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        Parallel.forEach(planes, grain: Swift.max(1, Elementwise.grain / Swift.max(size, 1))) { range in
            for plane in range { y[plane] = Reductions.sum(x + plane * size, count: size) / Float(size) }
        }
    }

    /// Maximum of each plane (global max pooling); NaN wins.
    public static func globalMax(planes: Int, size: Int, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        Parallel.forEach(planes, grain: Swift.max(1, Elementwise.grain / Swift.max(size, 1))) { range in
            for plane in range { y[plane] = Reductions.maximum(x + plane * size, count: size) }
        }
    }
}
