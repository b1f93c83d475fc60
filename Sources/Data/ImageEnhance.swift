/// PIL's `ImageOps` point operations and `ImageEnhance` blends on 1- or 3-channel images, reproduced
/// to the pixel so RandAugment here draws from the same distribution of images as timm's.
extension Image {
    /// Each channel stretched so its darkest level becomes 0 and its brightest 255
    /// (`ImageOps.autocontrast` with no cutoff): level ↦ trunc(level · 255/(hi − lo) − lo · 255/(hi − lo)).
    public func autoContrasted() -> Image {
        mappingLevels(histograms().map { histogram in
            guard let lo = histogram.firstIndex(where: { $0 > 0 }), let hi = histogram.lastIndex(where: { $0 > 0 }), hi > lo else {
                return Image.identityLevels
            }
            let scale = 255.0 / Double(hi - lo)
            let offset = -Double(lo) * scale
            return (0...255).map { UInt8(clamping: Int(Double($0) * scale + offset)) }
        })
    }

    /// Each channel's histogram equalised (`ImageOps.equalize`).
    public func equalized() -> Image {
        mappingLevels(histograms().map { histogram in
            let used = histogram.filter { $0 > 0 }
            guard used.count > 1 else { return Image.identityLevels }
            let step = (used.reduce(0, +) - used.last!) / 255
            guard step > 0 else { return Image.identityLevels }
            var n = step / 2
            return (0...255).map { level in
                defer { n += histogram[level] }
                return UInt8(clamping: n / step)
            }
        })
    }

    /// Every level v replaced by 255 − v (`ImageOps.invert`).
    public func inverted() -> Image {
        mappingLevels((0...255).map { 255 - UInt8($0) })
    }

    /// Only the `bits` most significant bits of each level kept (`ImageOps.posterize`); 0 bits gives
    /// black, as Pillow before 11 did (newer Pillow refuses 0, which timm's increasing posterize
    /// asks for at magnitude 10).
    public func posterized(bits: Int) -> Image {
        precondition((0...8).contains(bits), "posterize keeps 0…8 bits, not \(bits)")
        let mask = UInt8(truncatingIfNeeded: ~((1 << (8 - bits)) - 1))
        return mappingLevels((0...255).map { UInt8($0) & mask })
    }

    /// Levels at or above `threshold` inverted (`ImageOps.solarize`).
    public func solarized(threshold: Int) -> Image {
        mappingLevels((0...255).map { $0 < threshold ? UInt8($0) : UInt8(255 - $0) })
    }

    /// `addition` added (saturating) to levels below `threshold` (timm's `solarize_add`).
    public func solarizedAdding(_ addition: Int, threshold: Int = 128) -> Image {
        mappingLevels((0...255).map { $0 < threshold ? UInt8(min(255, $0 + addition)) : UInt8($0) })
    }

    /// Saturation scaled: a blend from the grey image (factor 0) through the original (1) and beyond
    /// (`ImageEnhance.Color`).
    public func colorAdjusted(_ factor: Double) -> Image {
        Image.blend(grayscale().converted(toChannels: channels), self, factor)
    }

    /// Contrast scaled about the mean grey level (`ImageEnhance.Contrast`): a blend from a flat
    /// image at int(mean luma + 0.5).
    public func contrastAdjusted(_ factor: Double) -> Image {
        let histogram = grayscale().histograms()[0]
        let total = histogram.reduce(0, +)
        let sum = histogram.indices.reduce(0.0) { $0 + Double($1) * Double(histogram[$1]) }
        let mean = UInt8(clamping: Int((total > 0 ? sum / Double(total) : 0) + 0.5))
        return Image.blend(Image(width: width, height: height, channels: channels, value: mean), self, factor)
    }

    /// Brightness scaled: a blend from black (`ImageEnhance.Brightness`).
    public func brightnessAdjusted(_ factor: Double) -> Image {
        Image.blend(Image(width: width, height: height, channels: channels), self, factor)
    }

    /// Sharpness scaled: a blend from PIL's SMOOTH-filtered image (factor 0 blurs, 2 sharpens;
    /// `ImageEnhance.Sharpness`).
    public func sharpnessAdjusted(_ factor: Double) -> Image {
        Image.blend(smoothed(), self, factor)
    }

    /// PIL's `ImageFilter.SMOOTH`: the 3×3 kernel [1 1 1; 1 5 1; 1 1 1]/13 with rounding, border
    /// pixels copied unchanged.
    func smoothed() -> Image {
        guard width >= 3, height >= 3 else { return self }
        var out = self
        out.pixels.withUnsafeMutableBufferPointer { target in
            pixels.withUnsafeBufferPointer { source in
                let row = width * channels
                for y in 1..<(height - 1) {
                    for x in 1..<(width - 1) {
                        for c in 0..<channels {
                            let center = y * row + x * channels + c
                            var sum = 4 * Int(source[center])
                            for dy in -1...1 {
                                for dx in -1...1 { sum += Int(source[center + dy * row + dx * channels]) }
                            }
                            // trunc(sum/13 + 0.5), computed exactly: sum/13 is never within float error of .5.
                            target[center] = UInt8((2 * sum + 13) / 26)
                        }
                    }
                }
            }
        }
        return out
    }

    /// PIL's `Image.blend(a, b, factor)`: a + factor·(b − a) in float32, clamped and truncated.
    static func blend(_ a: Image, _ b: Image, _ factor: Double) -> Image {
        precondition(a.width == b.width && a.height == b.height && a.channels == b.channels, "blend of differently shaped images")
        let alpha = Float(factor)
        if alpha == 0 { return a }
        if alpha == 1 { return b }
        var out = b
        out.pixels.withUnsafeMutableBufferPointer { target in
            a.pixels.withUnsafeBufferPointer { first in
                b.pixels.withUnsafeBufferPointer { second in
                    for i in 0..<target.count {
                        let value = Float(first[i]) + alpha * Float(Int(second[i]) - Int(first[i]))
                        target[i] = value <= 0 ? 0 : value >= 255 ? 255 : UInt8(value)
                    }
                }
            }
        }
        return out
    }

    static let identityLevels: [UInt8] = (0...255).map { UInt8($0) }

    /// 256-bin histograms, one per channel.
    func histograms() -> [[Int]] {
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 256), count: channels)
        pixels.withUnsafeBufferPointer { source in
            for i in 0..<source.count { counts[i % channels][Int(source[i])] += 1 }
        }
        return counts
    }

    /// Every level mapped through `table` (the same table for each channel).
    func mappingLevels(_ table: [UInt8]) -> Image {
        mappingLevels([[UInt8]](repeating: table, count: channels))
    }

    /// Each channel's levels mapped through its own table.
    func mappingLevels(_ tables: [[UInt8]]) -> Image {
        var out = self
        let flat = tables.flatMap { $0 }
        out.pixels.withUnsafeMutableBufferPointer { target in
            flat.withUnsafeBufferPointer { lut in
                for i in 0..<target.count { target[i] = lut[(i % channels) * 256 + Int(target[i])] }
            }
        }
        return out
    }
}
