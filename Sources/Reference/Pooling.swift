import GraphIR

// Max and average pooling, windowed and global. Padding is never a value: max ignores it, and
// average counts it only when asked to (ONNX count_include_pad), and then only the declared padding,
// never the overrun of a ceil-mode window past it (ONNX's reference, onnxruntime and PyTorch agree).
extension Reference {
    /// What one output index along one axis pools over.
    struct PoolWindow {
        /// Input positions the window covers inside the input.
        var positions: [Int]
        /// How many positions it covers inside the input plus its declared padding.
        var paddedCount: Int
    }

    /// The window of every output index along one axis.
    static func poolWindows(outputs: Int, input: Int, axis: Int, _ pool: Pooling) -> [PoolWindow] {
        let (padBegin, padEnd) = (pool.pads[axis], pool.pads[axis + 2])
        return (0..<outputs).map { index in
            let start = index * pool.strides[axis] - padBegin
            let covered = (0..<pool.kernel[axis]).map { start + $0 * pool.dilations[axis] }
            return PoolWindow(positions: covered.filter { $0 >= 0 && $0 < input },
                              paddedCount: covered.filter { $0 < input + padEnd }.count)
        }
    }

    /// 2-D max or average pooling, NCHW. A max window lying entirely in padding yields −∞ (the max
    /// of nothing); an average over no input positions yields NaN unless padding is counted.
    static func pool(_ input: Tensor, _ pool: Pooling, average: Bool, shape: Shape) -> Tensor {
        let (height, width) = (input.shape[2], input.shape[3])
        let rows = poolWindows(outputs: shape[2], input: height, axis: 0, pool)
        let columns = poolWindows(outputs: shape[3], input: width, axis: 1, pool)
        let x = input.doubles
        var result: [Double] = []
        result.reserveCapacity(shape.elementCount)
        for plane in 0..<(input.shape[0] * input.shape[1]) {
            let base = plane * height * width
            for row in rows {
                for column in columns {
                    if average {
                        var sum = 0.0
                        for r in row.positions { for c in column.positions { sum += x[base + r * width + c] } }
                        let count = pool.countIncludePad ? row.paddedCount * column.paddedCount : row.positions.count * column.positions.count
                        result.append(sum / Double(count))
                    } else {
                        var largest = -Double.infinity
                        for r in row.positions { for c in column.positions { largest = maximum(largest, x[base + r * width + c]) } }
                        result.append(largest)
                    }
                }
            }
        }
        return Tensor(doubles: result, dtype: .float32, shape: shape)
    }

    /// Mean or max over every axis after the first two.
    static func globalPool(_ input: Tensor, average: Bool, shape: Shape) -> Tensor {
        let size = extent(input.shape, 2..<input.shape.rank)
        let x = input.doubles
        let result = (0..<shape.elementCount).map { plane -> Double in
            let values = x[(plane * size)..<((plane + 1) * size)]
            return average ? values.reduce(0, +) / Double(size) : values.reduce(-Double.infinity, maximum)
        }
        return Tensor(doubles: result, dtype: .float32, shape: shape)
    }
}
