// Training-mode batch normalisation and its gradient, over [N, C, spatial] seen as the layout
// [outer N, extent C, inner H·W].
//
// Every statistic is a sum over one channel's N planes: a channel is one work item, each plane's sum
// is taken with float vector lanes and the planes are added in order in Double, so the results do
// not depend on the thread count and stay accurate for large batches.
extension Normalization {
    /// Normalises each channel with its batch mean and biased variance, writes Y, the batch mean and
    /// inverse standard deviation 1/√(var + ε), and updates the running statistics as PyTorch does:
    /// running ← (1 − momentum)·running + momentum·batch, with the unbiased variance (N·H·W/(N·H·W − 1)
    /// times the biased one), so each channel needs at least two elements.
    /// `updatedMean`/`updatedVariance` may be `runningMean`/`runningVariance` (they are updated in place).
    public static func batchNormTraining(_ layout: AxisLayout, epsilon: Float, momentum: Float, input x: UnsafePointer<Float>,
                                         scale: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                                         runningMean: UnsafePointer<Float>, runningVariance: UnsafePointer<Float>,
                                         output y: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                                         inverseStandardDeviation: UnsafeMutablePointer<Float>,
                                         updatedMean: UnsafeMutablePointer<Float>, updatedVariance: UnsafeMutablePointer<Float>) {
        let (images, channels, size) = (layout.outer, layout.extent, layout.inner)
        let count = images * size
        precondition(count > 1 || channels == 0, "training batch norm needs two or more elements per channel")
        Parallel.forEach(channels, grain: max(1, Elementwise.grain / 4 / max(count, 1))) { range in
            for c in range {
                var total = 0.0
                for image in 0..<images { total += Double(Reductions.sum(x + (image * channels + c) * size, count: size)) }
                let average = total / Double(count)
                let center = Float(average)
                var squares = 0.0
                for image in 0..<images {
                    squares += Double(squaredDeviation(x + (image * channels + c) * size, count: size, from: center))
                }
                // The deviations were taken from the rounded mean; correct for the rounding.
                let offset = average - Double(center)
                let variance = max(0, squares / Double(count) - offset * offset)
                let inverse = 1 / (variance + Double(epsilon)).squareRoot()
                // Centre first: x·factor + shift would cancel for inputs far from zero.
                let (factor, shift) = (Float(Double(scale[c]) * inverse), bias[c])
                for image in 0..<images {
                    let (source, target) = (x + (image * channels + c) * size, y + (image * channels + c) * size)
                    for i in 0..<size { target[i] = (source[i] - center) * factor + shift }
                }
                mean[c] = center
                inverseStandardDeviation[c] = Float(inverse)
                let unbiased = variance * Double(count) / Double(count - 1)
                let keep = 1 - Double(momentum)
                updatedMean[c] = Float(keep * Double(runningMean[c]) + Double(momentum) * average)
                updatedVariance[c] = Float(keep * Double(runningVariance[c]) + Double(momentum) * unbiased)
            }
        }
    }

    /// The gradient of `batchNormTraining` through the batch statistics: with x̂ = (x − mean)·inverse
    /// per channel, dBias = Σ dY, dScale = Σ dY·x̂ and dX = scale·inverse·(dY − dBias/m − x̂·dScale/m)
    /// over the m = N·H·W elements of the channel.
    public static func batchNormBackward(_ layout: AxisLayout, input x: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                                         mean: UnsafePointer<Float>, inverseStandardDeviation: UnsafePointer<Float>,
                                         outputGradient dy: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
                                         scaleGradient: UnsafeMutablePointer<Float>, biasGradient: UnsafeMutablePointer<Float>) {
        let (images, channels, size) = (layout.outer, layout.extent, layout.inner)
        let count = images * size
        Parallel.forEach(channels, grain: max(1, Elementwise.grain / 4 / max(count, 1))) { range in
            for c in range {
                let (center, inverse) = (mean[c], inverseStandardDeviation[c])
                var gradientSum = 0.0, projection = 0.0
                for image in 0..<images {
                    let offset = (image * channels + c) * size
                    gradientSum += Double(Reductions.sum(dy + offset, count: size))
                    projection += Double(centeredDot(dy + offset, x + offset, count: size, center: center))
                }
                projection *= Double(inverse)
                scaleGradient[c] = Float(projection)
                biasGradient[c] = Float(gradientSum)
                guard count > 0 else { continue }
                let factor = Float(Double(scale[c]) * Double(inverse))
                let meanGradient = Float(gradientSum / Double(count))
                let meanProjection = Float(projection / Double(count))
                for image in 0..<images {
                    let offset = (image * channels + c) * size
                    let (x, dy, dx) = (x + offset, dy + offset, dx + offset)
                    for i in 0..<size {
                        dx[i] = factor * (dy[i] - meanGradient - (x[i] - center) * inverse * meanProjection)
                    }
                }
            }
        }
    }

    /// Σ a[i]·(b[i] − center) over `count` contiguous floats, with vector partial sums.
    @inline(__always)
    static func centeredDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int, center: Float) -> Float {
        let (ra, rb) = (UnsafeRawPointer(a), UnsafeRawPointer(b))
        let c = SIMD8<Float>(repeating: center)
        var s = SIMD8<Float>(), t = SIMD8<Float>()
        var i = 0
        while i + 16 <= count {
            s += ra.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) * (rb.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self) - c)
            t += ra.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
                * (rb.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self) - c)
            i += 16
        }
        var total = (s + t).sum()
        while i < count {
            total += a[i] * (b[i] - center)
            i += 1
        }
        return total
    }
}
