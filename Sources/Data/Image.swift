import Tensor

/// An 8-bit image: `height` rows of `width` pixels of `channels` interleaved samples (HWC, row-major).
///
/// This is the one picture type every decoder produces and every augmentation consumes, so that
/// datasets, codecs and transforms compose without conversions. Channel counts follow PIL's modes:
/// 1 = L (grey), 2 = LA, 3 = RGB, 4 = RGBA.
public struct Image: Equatable, Sendable {
    /// Pixels per row.
    public let width: Int
    /// Rows.
    public let height: Int
    /// Samples per pixel (1–4).
    public let channels: Int
    /// `height × width × channels` samples.
    public var pixels: [UInt8]

    /// The most pixels a decoder will allocate for one image (2^26, e.g. 8192 × 8192, several times
    /// the largest ImageNet photo): larger declared sizes are refused as corrupt or hostile before
    /// anything is allocated. A JPEG's size cannot be checked against its data (a few bytes can code
    /// a whole plain image), so this bound is what stops a 16384 × 16384 decompression bomb.
    public static let maximumPixelCount = 1 << 26

    /// Wraps `pixels`, which must hold exactly `width × height × channels` samples.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0 && (1...4).contains(channels), "invalid image geometry \(width)×\(height)×\(channels)")
        precondition(pixels.count == width * height * channels, "\(pixels.count) samples for a \(width)×\(height)×\(channels) image")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image with every sample set to `value`.
    public init(width: Int, height: Int, channels: Int, value: UInt8 = 0) {
        self.init(width: width, height: height, channels: channels,
                  pixels: [UInt8](repeating: value, count: width * height * channels))
    }

    /// An image whose every pixel is `color` (one sample per channel).
    public init(width: Int, height: Int, color: [UInt8]) {
        var pixels = [UInt8](repeating: 0, count: width * height * color.count)
        for i in 0..<(width * height) {
            for c in color.indices { pixels[i * color.count + c] = color[c] }
        }
        self.init(width: width, height: height, channels: color.count, pixels: pixels)
    }

    /// The sample at column `x`, row `y`, channel `c`.
    public subscript(x: Int, y: Int, c: Int) -> UInt8 {
        get { pixels[(y * width + x) * channels + c] }
        set { pixels[(y * width + x) * channels + c] = newValue }
    }

    /// Checks a size read from a file before anything is allocated for it: positive extents whose
    /// pixel count is at most `maximumPixelCount` (so `width × height × channels` cannot overflow).
    public static func validateDimensions(width: Int, height: Int, channels: Int) throws {
        guard width > 0, height > 0 else { throw InvalidInput(nil, "image has zero size (\(width)×\(height))") }
        let (pixelCount, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixelCount <= maximumPixelCount else {
            throw InvalidInput(nil, "image of \(width)×\(height) pixels exceeds the limit of \(maximumPixelCount) pixels")
        }
        guard (1...4).contains(channels) else { throw InvalidInput(nil, "unsupported channel count \(channels)") }
    }
}
