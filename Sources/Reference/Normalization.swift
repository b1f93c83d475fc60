import Foundation
import GraphIR

// Batch and layer normalisation, softmax and log-softmax, all in Double.
extension Reference {
    /// Inference-mode batch normalisation over axis 1: `(x − mean)/√(var + ε)·scale + bias`.
    /// Inputs: X, scale, bias, mean, variance.
    static func batchNorm(_ inputs: [Tensor], epsilon: Float) -> Tensor {
        let input = inputs[0]
        let x = input.doubles
        let (scale, bias, mean, variance) = (inputs[1].doubles, inputs[2].doubles, inputs[3].doubles, inputs[4].doubles)
        let channels = input.shape[1], size = extent(input.shape, 2..<input.shape.rank)
        let result = x.indices.map { i -> Double in
            let c = (i / size) % channels
            return (x[i] - mean[c]) / (variance[c] + Double(epsilon)).squareRoot() * scale[c] + bias[c]
        }
        return Tensor(doubles: result, dtype: .float32, shape: input.shape)
    }

    /// Layer normalisation over the axes from `axis` on, with scale and bias broadcast to those axes.
    /// Returns Y, the mean and the inverse standard deviation `1/√(var + ε)` (biased variance), the
    /// statistics shaped like X with the normalised axes set to 1.
    static func layerNorm(_ input: Tensor, scale: Tensor, bias: Tensor?, axis: Int, epsilon: Float, statisticsShape: Shape) -> [Tensor] {
        let normalized = Shape(Array(input.shape.dims[axis...]))
        let size = normalized.elementCount
        let x = input.doubles
        let bias = bias ?? Tensor(scalar: Float(0))
        let s = scale.doubles, scaleIndices = broadcastIndices(from: scale.shape, to: normalized)
        let b = bias.doubles, biasIndices = broadcastIndices(from: bias.shape, to: normalized)
        var y: [Double] = [], means: [Double] = [], inverseDeviations: [Double] = []
        y.reserveCapacity(x.count)
        for row in 0..<statisticsShape.elementCount {
            let values = x[(row * size)..<((row + 1) * size)]
            let mean = values.reduce(0, +) / Double(size)
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(size)
            let inverseDeviation = 1 / (variance + Double(epsilon)).squareRoot()
            for (j, value) in values.enumerated() {
                y.append((value - mean) * inverseDeviation * s[scaleIndices[j]] + b[biasIndices[j]])
            }
            means.append(mean)
            inverseDeviations.append(inverseDeviation)
        }
        return [Tensor(doubles: y, dtype: .float32, shape: input.shape),
                Tensor(doubles: means, dtype: .float32, shape: statisticsShape),
                Tensor(doubles: inverseDeviations, dtype: .float32, shape: statisticsShape)]
    }

    /// Softmax (or log-softmax) along one axis, shifted by the maximum so large inputs do not overflow.
    static func softmax(_ input: Tensor, axis: Int, logarithm: Bool) -> Tensor {
        let length = input.shape[axis], inner = extent(input.shape, (axis + 1)..<input.shape.rank)
        let outer = extent(input.shape, 0..<axis)
        let x = input.doubles
        var result = [Double](repeating: 0, count: x.count)
        for o in 0..<outer {
            for j in 0..<inner {
                let positions = (0..<length).map { (o * length + $0) * inner + j }
                let largest = positions.reduce(-Double.infinity) { maximum($0, x[$1]) }
                let total = positions.reduce(0) { $0 + Foundation.exp(x[$1] - largest) }
                for p in positions {
                    result[p] = logarithm ? x[p] - largest - Foundation.log(total) : Foundation.exp(x[p] - largest) / total
                }
            }
        }
        return Tensor(doubles: result, dtype: .float32, shape: input.shape)
    }
}
