extension Image {
    /// The image as 3-channel RGB, as PIL's `convert("RGB")` makes it: grey is replicated and alpha is
    /// dropped (not composited over a background).
    public func rgb() -> Image {
        switch channels {
        case 3:
            return self
        case 4:
            return selectingChannels([0, 1, 2])
        default:
            return selectingChannels([0, 0, 0])
        }
    }

    /// The image as 1-channel grey, as PIL's `convert("L")` makes it: ITU-R 601-2 luma in 16-bit fixed
    /// point, L = (19595·R + 38470·G + 7471·B + 2^15) >> 16, alpha dropped.
    public func grayscale() -> Image {
        switch channels {
        case 1:
            return self
        case 2:
            return selectingChannels([0])
        default:
            var out = [UInt8](repeating: 0, count: width * height)
            pixels.withUnsafeBufferPointer { source in
                for i in 0..<(width * height) {
                    let p = i * channels
                    out[i] = Image.luma(source[p], source[p + 1], source[p + 2])
                }
            }
            return Image(width: width, height: height, channels: 1, pixels: out)
        }
    }

    /// PIL's fixed-point ITU-R 601-2 luma of one RGB pixel.
    static func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let weighted: Int = 19595 * Int(r) + 38470 * Int(g) + 7471 * Int(b)
        return UInt8((weighted + 0x8000) >> 16)
    }

    /// The image with `channels` (1 = grey, 3 = RGB) by `grayscale()` or `rgb()`.
    public func converted(toChannels target: Int) -> Image {
        precondition(target == 1 || target == 3, "images convert to 1 or 3 channels, not \(target)")
        return target == 1 ? grayscale() : rgb()
    }

    /// A new image made of the listed source channels, in order.
    private func selectingChannels(_ selection: [Int]) -> Image {
        let count = width * height
        var out = [UInt8](repeating: 0, count: count * selection.count)
        pixels.withUnsafeBufferPointer { source in
            for i in 0..<count {
                for (c, from) in selection.enumerated() { out[i * selection.count + c] = source[i * channels + from] }
            }
        }
        return Image(width: width, height: height, channels: selection.count, pixels: out)
    }
}
