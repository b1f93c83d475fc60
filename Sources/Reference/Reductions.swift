import GraphIR

// Reductions over axes and argmax along one axis.
extension Reference {
    /// Sum, mean, max or min over `axes`. Over no elements: sum 0, mean NaN, max −∞ (Int64.min),
    /// min +∞ (Int64.max), the identities ONNX specifies.
    static func reduce(_ kind: Reduction, _ input: Tensor, axes: [Int], shape: Shape) -> Tensor {
        // Each input element's position in the result with reduced axes kept as extent 1.
        var kept = input.shape
        for axis in axes { kept[axis] = 1 }
        let keptStrides = kept.strides
        let destinations = flatIndices(input.shape.dims.enumerated().map { axis, extent in
            axes.contains(axis) ? [Int](repeating: 0, count: extent) : (0..<extent).map { $0 * keptStrides[axis] }
        })

        if input.dtype == .int64 {
            let identity: Int64 = switch kind {
            case .sum, .mean: 0
            case .max: .min
            case .min: .max
            }
            var result = [Int64](repeating: identity, count: kept.elementCount)
            for (i, value) in input.int64s.enumerated() {
                let d = destinations[i]
                switch kind {
                case .sum, .mean: result[d] = result[d] &+ value
                case .max: result[d] = Swift.max(result[d], value)
                case .min: result[d] = Swift.min(result[d], value)
                }
            }
            return Tensor(result, shape: shape)
        }

        let identity: Double = switch kind {
        case .sum, .mean: 0
        case .max: -.infinity
        case .min: .infinity
        }
        var result = [Double](repeating: identity, count: kept.elementCount)
        for (i, value) in input.doubles.enumerated() {
            let d = destinations[i]
            switch kind {
            case .sum, .mean: result[d] += value
            case .max: result[d] = maximum(result[d], value)
            case .min: result[d] = minimum(result[d], value)
            }
        }
        if kind == .mean {
            let count = Double(axes.reduce(1) { $0 * input.shape[$1] })
            result = result.map { $0 / count }
        }
        return Tensor(doubles: result, dtype: input.dtype, shape: shape)
    }

    /// Index of the largest element along `axis`: the first of equal maxima, or the last with
    /// `selectLastIndex`.
    static func argMax(_ input: Tensor, axis: Int, selectLastIndex: Bool, shape: Shape) -> Tensor {
        if input.dtype == .int64 {
            return argMax(input.int64s, input.shape, axis: axis, selectLastIndex: selectLastIndex, shape: shape)
        }
        return argMax(input.doubles, input.shape, axis: axis, selectLastIndex: selectLastIndex, shape: shape)
    }

    static func argMax<T: Comparable>(_ x: [T], _ inputShape: Shape, axis: Int, selectLastIndex: Bool, shape: Shape) -> Tensor {
        let length = inputShape[axis], inner = extent(inputShape, (axis + 1)..<inputShape.rank)
        let outer = extent(inputShape, 0..<axis)
        var result: [Int64] = []
        result.reserveCapacity(outer * inner)
        for o in 0..<outer {
            for j in 0..<inner {
                var best = 0
                for k in 1..<length {
                    let candidate = x[(o * length + k) * inner + j], leader = x[(o * length + best) * inner + j]
                    if candidate > leader || (selectLastIndex && candidate == leader) { best = k }
                }
                result.append(Int64(best))
            }
        }
        return Tensor(result, shape: shape)
    }
}
