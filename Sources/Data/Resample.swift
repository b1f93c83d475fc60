/// The interpolation filters for resizing, with PIL's kernels and supports.
public enum ResampleFilter: Sendable, Hashable {
    /// Triangle kernel, support 1 (torchvision `InterpolationMode.BILINEAR`).
    case bilinear
    /// Keys cubic with a = −0.5, support 2 (torchvision `InterpolationMode.BICUBIC`, DeiT's choice).
    case bicubic

    var support: Double {
        switch self {
        case .bilinear: 1
        case .bicubic: 2
        }
    }

    func weight(_ distance: Double) -> Double {
        let x = abs(distance)
        switch self {
        case .bilinear:
            return x < 1 ? 1 - x : 0
        case .bicubic:
            let a = -0.5
            if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
            return 0
        }
    }
}

extension Image {
    /// The image resampled to `width × height`, pixel for pixel what PIL's `Image.resize` returns
    /// for an L/RGB image (torchvision's `Resize` on PIL images calls it):
    ///
    /// - antialiased: when shrinking, the kernel is stretched by the scale factor, so every source
    ///   pixel contributes (what torchvision calls `antialias=True`; its tensor path is within ±1);
    /// - pixel centres at `i + 0.5`, taps clipped to the image and the weights renormalised;
    /// - separable, horizontal pass first, each pass rounding to 8 bits with PIL's 22-bit fixed-point
    ///   weights.
    ///
    /// 2- and 4-channel images are resampled per channel without premultiplying alpha (PIL
    /// premultiplies), which only differs where alpha varies.
    public func resized(width newWidth: Int, height newHeight: Int, filter: ResampleFilter = .bilinear) -> Image {
        precondition(newWidth > 0 && newHeight > 0, "cannot resize to \(newWidth)×\(newHeight)")
        guard newWidth != width || newHeight != height else { return self }
        guard width > 0, height > 0 else { return Image(width: newWidth, height: newHeight, channels: channels) }
        let vertical = ResampleWeights(inputSize: height, outputSize: newHeight, filter: filter)
        var source = self
        if newWidth != width {
            // Only the rows the vertical pass will read need a horizontal pass.
            let firstRow = vertical.first[0]
            let endRow = vertical.first[newHeight - 1] + vertical.count[newHeight - 1]
            let horizontal = ResampleWeights(inputSize: width, outputSize: newWidth, filter: filter)
            source = horizontalPass(horizontal, rows: firstRow..<endRow)
            if newHeight == height { return source }
            return source.verticalPass(vertical, rowOffset: firstRow)
        }
        return source.verticalPass(vertical, rowOffset: 0)
    }

    private func horizontalPass(_ weights: ResampleWeights, rows: Range<Int>) -> Image {
        let outWidth = weights.outputSize
        var out = [UInt8](repeating: 0, count: outWidth * rows.count * channels)
        let channels = channels
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                weights.coefficients.withUnsafeBufferPointer { k in
                    for (outRow, row) in rows.enumerated() {
                        let line = source.baseAddress! + row * width * channels
                        var outPixel = target.baseAddress! + outRow * outWidth * channels
                        for x in 0..<outWidth {
                            let taps = k.baseAddress! + x * weights.stride
                            let first = line + weights.first[x] * channels
                            let count = weights.count[x]
                            // Four accumulators cover every channel count; unused ones stay idle.
                            var s0 = ResampleWeights.rounding, s1 = s0, s2 = s0, s3 = s0
                            switch channels {
                            case 1:
                                for t in 0..<count { s0 &+= Int32(first[t]) &* taps[t] }
                            case 3:
                                for t in 0..<count {
                                    let p = first + 3 * t, w = taps[t]
                                    s0 &+= Int32(p[0]) &* w; s1 &+= Int32(p[1]) &* w; s2 &+= Int32(p[2]) &* w
                                }
                            default:
                                for t in 0..<count {
                                    let p = first + channels * t, w = taps[t]
                                    s0 &+= Int32(p[0]) &* w; s1 &+= Int32(p[1]) &* w
                                    if channels > 2 { s2 &+= Int32(p[2]) &* w }
                                    if channels > 3 { s3 &+= Int32(p[3]) &* w }
                                }
                            }
                            outPixel[0] = ResampleWeights.clip(s0)
                            if channels > 1 { outPixel[1] = ResampleWeights.clip(s1) }
                            if channels > 2 { outPixel[2] = ResampleWeights.clip(s2) }
                            if channels > 3 { outPixel[3] = ResampleWeights.clip(s3) }
                            outPixel += channels
                        }
                    }
                }
            }
        }
        return Image(width: outWidth, height: rows.count, channels: channels, pixels: out)
    }

    private func verticalPass(_ weights: ResampleWeights, rowOffset: Int) -> Image {
        let outHeight = weights.outputSize
        let rowSamples = width * channels
        var out = [UInt8](repeating: 0, count: rowSamples * outHeight)
        var sums = [Int32](repeating: 0, count: rowSamples)
        pixels.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                sums.withUnsafeMutableBufferPointer { sum in
                    weights.coefficients.withUnsafeBufferPointer { k in
                        for y in 0..<outHeight {
                            let first = weights.first[y] - rowOffset, taps = k.baseAddress! + y * weights.stride
                            sum.update(repeating: ResampleWeights.rounding)
                            // Row by row, so the inner loop runs over contiguous samples.
                            for t in 0..<weights.count[y] {
                                let line = source.baseAddress! + (first + t) * rowSamples, w = taps[t]
                                for i in 0..<rowSamples { sum[i] &+= Int32(line[i]) &* w }
                            }
                            let outLine = target.baseAddress! + y * rowSamples
                            for i in 0..<rowSamples { outLine[i] = ResampleWeights.clip(sum[i]) }
                        }
                    }
                }
            }
        }
        return Image(width: width, height: outHeight, channels: channels, pixels: out)
    }
}

/// One axis' resampling taps, computed as PIL's `precompute_coeffs` and `normalize_coeffs_8bpc`
/// compute them: for output pixel `i`, `count[i]` weights starting at input pixel `first[i]`.
struct ResampleWeights {
    static let precisionBits = 22
    static let rounding: Int32 = 1 << (precisionBits - 1)

    let outputSize: Int
    let stride: Int
    var first: [Int]
    var count: [Int]
    var coefficients: [Int32]

    init(inputSize: Int, outputSize: Int, filter: ResampleFilter) {
        let scale = Double(inputSize) / Double(outputSize)
        let filterScale = max(scale, 1)
        let support = filter.support * filterScale
        self.outputSize = outputSize
        stride = Int(support.rounded(.up)) * 2 + 1
        first = [Int](repeating: 0, count: outputSize)
        count = [Int](repeating: 0, count: outputSize)
        coefficients = [Int32](repeating: 0, count: outputSize * stride)
        let inverseScale = 1 / filterScale
        var weights = [Double](repeating: 0, count: stride)
        for i in 0..<outputSize {
            let center = (Double(i) + 0.5) * scale
            let lo = max(Int(center - support + 0.5), 0)
            let hi = min(Int(center + support + 0.5), inputSize)
            let n = hi - lo
            var total = 0.0
            for t in 0..<n {
                weights[t] = filter.weight((Double(t + lo) - center + 0.5) * inverseScale)
                total += weights[t]
            }
            for t in 0..<n {
                let w = total != 0 ? weights[t] / total : weights[t]
                let fixed = w * Double(1 << Self.precisionBits)
                coefficients[i * stride + t] = Int32(w < 0 ? fixed - 0.5 : fixed + 0.5)
            }
            first[i] = lo
            count[i] = n
        }
    }

    /// The 8-bit value of a fixed-point sum (arithmetic shift, then clamp, like PIL's `clip8`). Sums
    /// fit in 32 bits: PIL leaves two bits of headroom for the kernels' negative lobes.
    static func clip(_ sum: Int32) -> UInt8 {
        UInt8(clamping: sum >> Int32(precisionBits))
    }
}
