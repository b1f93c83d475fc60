import Foundation
import GraphIR

// Gradients of the forward ops, and the two training-mode forward ops (batch statistics, dropout).
// Like the forward references, each output element is accumulated in Double and rounded once.
extension Reference {
    /// Evaluates the gradient ops and training-mode forward ops.
    static func gradient(_ op: GradientOp, _ inputs: [Tensor], types: [TensorType]) throws -> [Tensor] {
        let shape = types[0].shape
        switch op {
        case .convBackwardData(let geometry, _):
            return [convBackwardData(inputs[0], weight: inputs[1], geometry, shape: shape)]
        case .convBackwardWeight(let geometry, _):
            return [convBackwardWeight(inputs[0], inputs[1], geometry, shape: shape)]
        case .maxPoolBackward(let pool):
            return [maxPoolBackward(inputs[0], inputs[1], pool)]
        case .averagePoolBackward(let pool, _):
            return [averagePoolBackward(inputs[0], pool, shape: shape)]
        case .unaryBackward(let function):
            let x = inputs[0].doubles, dy = inputs[1].doubles
            return [Tensor(doubles: x.indices.map { backward(function, x[$0], dy[$0]) }, dtype: .float32, shape: shape)]
        case .softmaxBackward(let axis):
            return [softmaxBackward(inputs[0], inputs[1], axis: axis, logarithm: false)]
        case .logSoftmaxBackward(let axis):
            return [softmaxBackward(inputs[0], inputs[1], axis: axis, logarithm: true)]
        case .layerNormBackward(let axis):
            return layerNormBackward(inputs, axis: axis)
        case .batchNormTraining(let epsilon, let momentum):
            return try batchNormTraining(inputs, epsilon: epsilon, momentum: momentum)
        case .batchNormBackward:
            return batchNormBackward(inputs)
        case .scatterAdd(let axis, _):
            return [try scatterAdd(inputs[0], indices: inputs[1], axis: axis, shape: shape)]
        case .sliceBackward(let window, _):
            return [sliceBackward(inputs[0], window, shape: shape)]
        case .dropout(let ratio, let seed, let perSample):
            return dropout(inputs[0], step: inputs[1].int64s[0], ratio: ratio, seed: seed, perSample: perSample, maskShape: types[1].shape)
        }
    }

    // MARK: Convolution

    /// Calls `visit(x, w, y)` with the flat indices of every input, weight and output element that
    /// `conv` multiplies together (positions in the zero padding are skipped): the forward sum and
    /// both gradients are accumulations over these triples.
    static func convolutionTaps(input: Shape, weight: Shape, output: Shape, _ geometry: Convolution,
                                _ visit: (_ x: Int, _ w: Int, _ y: Int) -> Void) {
        let (channels, height, width) = (input[1], input[2], input[3])
        let (outChannels, groupChannels, kernelH, kernelW) = (weight[0], weight[1], weight[2], weight[3])
        let (outH, outW) = (output[2], output[3])
        let outPerGroup = outChannels / geometry.groups
        for n in 0..<input[0] {
            for m in 0..<outChannels {
                let firstChannel = (m / outPerGroup) * groupChannels
                for oh in 0..<outH {
                    for ow in 0..<outW {
                        let y = ((n * outChannels + m) * outH + oh) * outW + ow
                        for c in 0..<groupChannels {
                            let xPlane = (n * channels + firstChannel + c) * height * width
                            let wPlane = (m * groupChannels + c) * kernelH * kernelW
                            for kh in 0..<kernelH {
                                let ih = oh * geometry.strides[0] - geometry.pads[0] + kh * geometry.dilations[0]
                                guard ih >= 0 && ih < height else { continue }
                                for kw in 0..<kernelW {
                                    let iw = ow * geometry.strides[1] - geometry.pads[1] + kw * geometry.dilations[1]
                                    guard iw >= 0 && iw < width else { continue }
                                    visit(xPlane + ih * width + iw, wPlane + kh * kernelW + kw, y)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// dX of `conv`: every output gradient flows back through the weight that produced it.
    static func convBackwardData(_ gradient: Tensor, weight: Tensor, _ geometry: Convolution, shape: Shape) -> Tensor {
        let dy = gradient.doubles, w = weight.doubles
        var dx = [Double](repeating: 0, count: shape.elementCount)
        convolutionTaps(input: shape, weight: weight.shape, output: gradient.shape, geometry) { x, k, y in dx[x] += dy[y] * w[k] }
        return Tensor(doubles: dx, dtype: .float32, shape: shape)
    }

    /// dW of `conv`: every weight sums input × output gradient over the positions it touched.
    static func convBackwardWeight(_ input: Tensor, _ gradient: Tensor, _ geometry: Convolution, shape: Shape) -> Tensor {
        let x = input.doubles, dy = gradient.doubles
        var dw = [Double](repeating: 0, count: shape.elementCount)
        convolutionTaps(input: input.shape, weight: shape, output: gradient.shape, geometry) { i, k, y in dw[k] += x[i] * dy[y] }
        return Tensor(doubles: dw, dtype: .float32, shape: shape)
    }

    // MARK: Pooling

    /// dX of `maxPool`: each window's gradient goes to its first maximum in row-major window order,
    /// where a NaN counts as the maximum (the first NaN wins), as it does in the forward max.
    static func maxPoolBackward(_ input: Tensor, _ gradient: Tensor, _ pool: Pooling) -> Tensor {
        let (height, width) = (input.shape[2], input.shape[3])
        let rows = poolWindows(outputs: gradient.shape[2], input: height, axis: 0, pool)
        let columns = poolWindows(outputs: gradient.shape[3], input: width, axis: 1, pool)
        let x = input.doubles, dy = gradient.doubles
        var dx = [Double](repeating: 0, count: x.count)
        var y = 0
        for plane in 0..<(input.shape[0] * input.shape[1]) {
            let base = plane * height * width
            for row in rows {
                for column in columns {
                    var winner: Int?
                    search: for r in row.positions {
                        for c in column.positions {
                            let index = base + r * width + c
                            if x[index].isNaN { winner = index; break search }
                            if winner.map({ x[index] > x[$0] }) ?? true { winner = index }
                        }
                    }
                    if let winner { dx[winner] += dy[y] }
                    y += 1
                }
            }
        }
        return Tensor(doubles: dx, dtype: .float32, shape: input.shape)
    }

    /// dX of `averagePool`: each window spreads its gradient evenly over the positions it averaged,
    /// divided by the same count as the forward pass.
    static func averagePoolBackward(_ gradient: Tensor, _ pool: Pooling, shape: Shape) -> Tensor {
        let (height, width) = (shape[2], shape[3])
        let rows = poolWindows(outputs: gradient.shape[2], input: height, axis: 0, pool)
        let columns = poolWindows(outputs: gradient.shape[3], input: width, axis: 1, pool)
        let dy = gradient.doubles
        var dx = [Double](repeating: 0, count: shape.elementCount)
        var y = 0
        for plane in 0..<(shape[0] * shape[1]) {
            let base = plane * height * width
            for row in rows {
                for column in columns {
                    let count = pool.countIncludePad ? row.paddedCount * column.paddedCount : row.positions.count * column.positions.count
                    for r in row.positions { for c in column.positions { dx[base + r * width + c] += dy[y] / Double(count) } }
                    y += 1
                }
            }
        }
        return Tensor(doubles: dx, dtype: .float32, shape: shape)
    }

    // MARK: Elementwise

    /// `dy · f′(x)` for one element, with PyTorch's choices at the kinks: relu′(0) = abs′(0) = 0,
    /// leakyRelu′(0) = alpha; clip passes dy where min ≤ x ≤ max; hardSigmoid passes alpha·dy strictly
    /// inside its ramp; hardSwish′ is 0 below −3, x/3 + 1/2 on [−3, 3] and 1 above. A blocked element
    /// is exactly 0 even when dy is not finite, as in PyTorch's masked backward kernels.
    static func backward(_ function: UnaryFunction, _ x: Double, _ dy: Double) -> Double {
        switch function {
        case .neg: return -dy
        case .abs: return x > 0 ? dy : x < 0 ? -dy : 0
        case .exp: return dy * Foundation.exp(x)
        case .log: return dy / x
        case .sqrt: return dy / (2 * x.squareRoot())
        case .reciprocal: return -dy / (x * x)
        case .sigmoid:
            let s = 1 / (1 + Foundation.exp(-x))
            return dy * s * (1 - s)
        case .tanh:
            let t = Foundation.tanh(x)
            return dy * (1 - t * t)
        case .erf: return dy * 2 / Double.pi.squareRoot() * Foundation.exp(-x * x)
        case .relu: return x > 0 ? dy : 0
        case .leakyRelu(let alpha): return x > 0 ? dy : dy * Double(alpha)
        case .gelu:
            let cdf = 0.5 * (1 + Foundation.erf(x / 2.0.squareRoot()))
            let density = Foundation.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
            return dy * (cdf + x * density)
        case .geluTanh:
            let k = (2 / Double.pi).squareRoot()
            let t = Foundation.tanh(k * (x + 0.044715 * x * x * x))
            return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x))
        case .hardSigmoid(let alpha, let beta):
            let ramp = Double(alpha) * x + Double(beta)
            return ramp > 0 && ramp < 1 ? dy * Double(alpha) : 0
        case .hardSwish: return x < -3 ? 0 : x <= 3 ? dy * (x / 3 + 0.5) : dy
        case .clip(let low, let high): return x >= Double(low) && x <= Double(high) ? dy : 0
        }
    }

    // MARK: Normalisation

    /// The flat indices of every lane along `axis`: the groups softmax normalises over.
    static func lanes(_ shape: Shape, axis: Int) -> [[Int]] {
        let length = shape[axis], inner = extent(shape, (axis + 1)..<shape.rank), outer = extent(shape, 0..<axis)
        return (0..<outer).flatMap { o in (0..<inner).map { j in (0..<length).map { (o * length + $0) * inner + j } } }
    }

    /// dX of softmax from its output, `Y·(dY − Σ dY·Y)`, or of log-softmax, `dY − exp(Y)·Σ dY`.
    static func softmaxBackward(_ output: Tensor, _ gradient: Tensor, axis: Int, logarithm: Bool) -> Tensor {
        let y = output.doubles, dy = gradient.doubles
        var dx = [Double](repeating: 0, count: y.count)
        for lane in lanes(output.shape, axis: axis) {
            if logarithm {
                let total = lane.reduce(0) { $0 + dy[$1] }
                for p in lane { dx[p] = dy[p] - Foundation.exp(y[p]) * total }
            } else {
                let total = lane.reduce(0) { $0 + dy[$1] * y[$1] }
                for p in lane { dx[p] = y[p] * (dy[p] - total) }
            }
        }
        return Tensor(doubles: dx, dtype: .float32, shape: output.shape)
    }

    /// dX, dScale, dBias of `layerNorm` from X, scale, mean, inverse std and dY. With x̂ = (x − μ)·r
    /// and g = dY·scale over one row: dX = r·(g − mean(g) − x̂·mean(g·x̂)); dScale and dBias sum
    /// dY·x̂ and dY over the rows and over the axes the scale broadcasts along.
    static func layerNormBackward(_ inputs: [Tensor], axis: Int) -> [Tensor] {
        let (input, scale) = (inputs[0], inputs[1])
        let normalized = Shape(Array(input.shape.dims[axis...]))
        let size = normalized.elementCount
        let x = input.doubles, s = scale.doubles, means = inputs[2].doubles, inverses = inputs[3].doubles, dy = inputs[4].doubles
        let scaleIndices = broadcastIndices(from: scale.shape, to: normalized)
        var dx = [Double](repeating: 0, count: x.count)
        var dScale = [Double](repeating: 0, count: scale.elementCount), dBias = dScale
        for row in 0..<means.count {
            let range = (row * size)..<((row + 1) * size)
            let r = inverses[row]
            let normal = range.map { (x[$0] - means[row]) * r }
            let g = range.enumerated().map { j, i in dy[i] * s[scaleIndices[j]] }
            let meanG = g.reduce(0, +) / Double(size)
            let meanGX = zip(g, normal).reduce(0) { $0 + $1.0 * $1.1 } / Double(size)
            for (j, i) in range.enumerated() {
                dx[i] = r * (g[j] - meanG - normal[j] * meanGX)
                dScale[scaleIndices[j]] += dy[i] * normal[j]
                dBias[scaleIndices[j]] += dy[i]
            }
        }
        return [Tensor(doubles: dx, dtype: .float32, shape: input.shape),
                Tensor(doubles: dScale, dtype: .float32, shape: scale.shape),
                Tensor(doubles: dBias, dtype: .float32, shape: scale.shape)]
    }

    /// For each channel (axis 1), the flat indices of its elements across the batch and spatial axes.
    static func channelElements(_ shape: Shape) -> [[Int]] {
        let channels = shape[1], size = extent(shape, 2..<shape.rank)
        var result = [[Int]](repeating: [], count: channels)
        for i in 0..<shape.elementCount { result[(i / size) % channels].append(i) }
        return result
    }

    /// Training-mode batch normalisation: statistics of the batch over every axis but 1, the biased
    /// variance for normalising, and the running statistics moved towards the batch's as PyTorch
    /// does: running = (1 − momentum)·running + momentum·batch, with the unbiased variance.
    static func batchNormTraining(_ inputs: [Tensor], epsilon: Float, momentum: Float) throws -> [Tensor] {
        let input = inputs[0]
        let x = input.doubles
        let (scale, bias, runningMean, runningVariance) = (inputs[1].doubles, inputs[2].doubles, inputs[3].doubles, inputs[4].doubles)
        let groups = channelElements(input.shape)
        let count = groups.first?.count ?? 0
        guard count > 1 else {
            throw InvalidInput(nil, "training batch norm needs more than one value per channel, got input \(input.shape)")
        }
        let m = Double(momentum)
        var y = [Double](repeating: 0, count: x.count)
        var means: [Double] = [], inverses: [Double] = [], newMeans: [Double] = [], newVariances: [Double] = []
        for (c, elements) in groups.enumerated() {
            let mean = elements.reduce(0) { $0 + x[$1] } / Double(count)
            let squares = elements.reduce(0) { $0 + (x[$1] - mean) * (x[$1] - mean) }
            let inverse = 1 / (squares / Double(count) + Double(epsilon)).squareRoot()
            for i in elements { y[i] = (x[i] - mean) * inverse * scale[c] + bias[c] }
            means.append(mean)
            inverses.append(inverse)
            newMeans.append((1 - m) * runningMean[c] + m * mean)
            newVariances.append((1 - m) * runningVariance[c] + m * squares / Double(count - 1))
        }
        let channel = inputs[1].shape
        return [Tensor(doubles: y, dtype: .float32, shape: input.shape),
                Tensor(doubles: means, dtype: .float32, shape: channel), Tensor(doubles: inverses, dtype: .float32, shape: channel),
                Tensor(doubles: newMeans, dtype: .float32, shape: channel), Tensor(doubles: newVariances, dtype: .float32, shape: channel)]
    }

    /// dX, dScale, dBias of `batchNormTraining` from X, scale, batch mean, batch inverse std and dY:
    /// with x̂ = (x − μ)·r over one channel's n elements, dBias = Σ dY, dScale = Σ dY·x̂ and
    /// dX = scale·r·(dY − dBias/n − x̂·dScale/n).
    static func batchNormBackward(_ inputs: [Tensor]) -> [Tensor] {
        let input = inputs[0]
        let x = input.doubles, scale = inputs[1].doubles, means = inputs[2].doubles, inverses = inputs[3].doubles, dy = inputs[4].doubles
        var dx = [Double](repeating: 0, count: x.count)
        var dScale: [Double] = [], dBias: [Double] = []
        for (c, elements) in channelElements(input.shape).enumerated() {
            let r = inverses[c], n = Double(elements.count)
            let sumDY = elements.reduce(0) { $0 + dy[$1] }
            let sumDYX = elements.reduce(0) { $0 + dy[$1] * (x[$1] - means[c]) * r }
            for i in elements { dx[i] = scale[c] * r * (dy[i] - sumDY / n - (x[i] - means[c]) * r * sumDYX / n) }
            dScale.append(sumDYX)
            dBias.append(sumDY)
        }
        let channel = inputs[1].shape
        return [Tensor(doubles: dx, dtype: .float32, shape: input.shape),
                Tensor(doubles: dScale, dtype: .float32, shape: channel), Tensor(doubles: dBias, dtype: .float32, shape: channel)]
    }

    // MARK: Data movement

    /// dData of `gather`: each gathered row's gradient added back at the row it came from, so an
    /// index taken twice receives both gradients; negative indices count from the end.
    static func scatterAdd(_ gradient: Tensor, indices: Tensor, axis: Int, shape: Shape) throws -> Tensor {
        let length = shape[axis]
        let chosen = try indices.int64s.map { raw -> Int in
            let index = raw < 0 ? Int(raw) + length : Int(raw)
            guard index >= 0 && index < length else { throw InvalidInput(nil, "index \(raw) is out of range for axis \(axis) of extent \(length)") }
            return index
        }
        let outer = extent(shape, 0..<axis), inner = extent(shape, (axis + 1)..<shape.rank)
        let dy = gradient.doubles
        var result = [Double](repeating: 0, count: shape.elementCount)
        var position = 0
        for o in 0..<outer {
            for index in chosen {
                let base = (o * length + index) * inner
                for i in 0..<inner { result[base + i] += dy[position + i] }
                position += inner
            }
        }
        return Tensor(doubles: result, dtype: gradient.dtype, shape: shape)
    }

    /// dX of `slice`: dY written back at the positions the slice read, zero elsewhere.
    static func sliceBackward(_ gradient: Tensor, _ window: Slice, shape: Shape) -> Tensor {
        let strides = shape.strides
        let tables = window.extents.enumerated().map { axis, extent in
            (0..<extent).map { (window.starts[axis] + $0 * window.steps[axis]) * strides[axis] }
        }
        let result = Tensor(zeros: gradient.dtype, shape)
        for (i, index) in flatIndices(tables).enumerated() { copyElements(1, from: gradient, at: i, to: result, at: index) }
        return result
    }

    // MARK: Dropout

    /// Dropout: mask element i is 0 when `DropoutHash` drops it, else the float32
    /// `Float(1 / (1 − Double(ratio)))`; Y = X·mask as one float32 product (so a dropped negative
    /// element is −0 and NaN stays NaN). With `perSample` the mask is [B, 1, …] and its index is
    /// the sample.
    static func dropout(_ input: Tensor, step: Int64, ratio: Float, seed: Int, perSample: Bool, maskShape: Shape) -> [Tensor] {
        let scale = Float(1 / (1 - Double(ratio)))
        let key = DropoutHash.key(seed: seed, step: step), threshold = DropoutHash.threshold(ratio: ratio)
        let mask = (0..<maskShape.elementCount).map { DropoutHash.drops(key: key, index: $0, threshold: threshold) ? 0 : scale }
        let elementsPerMask = max(input.elementCount / max(maskShape.elementCount, 1), 1)
        let y = input.floats.enumerated().map { i, x in x * mask[i / elementsPerMask] }
        return [Tensor(y, shape: input.shape), Tensor(mask, shape: maskShape)]
    }
}
