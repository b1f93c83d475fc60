import Tensor

/// Per-channel mean and standard deviation applied when an 8-bit image becomes float32 CHW: what
/// torchvision's `ToTensor()` then `Normalize(mean, std)` compute, in the same float32 operations
/// (`v / 255`, then `(x − mean) / std`).
public struct Normalization: Sendable, Hashable {
    /// One mean per channel, in [0, 1] units.
    public var mean: [Float]
    /// One standard deviation per channel, in [0, 1] units.
    public var std: [Float]

    /// Creates a normalisation; `mean` and `std` need one entry per channel of the images it meets.
    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && !mean.isEmpty, "mean and std need one entry per channel")
        precondition(std.allSatisfy { $0 > 0 }, "standard deviations must be positive")
        self.mean = mean
        self.std = std
    }

    /// ImageNet's statistics, timm's `IMAGENET_DEFAULT_MEAN`/`STD` (DeiT, ResNet).
    public static let imageNet = Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

    /// Only the scaling to [0, 1].
    public static func unit(channels: Int) -> Normalization {
        Normalization(mean: [Float](repeating: 0, count: channels), std: [Float](repeating: 1, count: channels))
    }

    /// The mean as 8-bit levels, `min(255, round(255 · mean))`: timm's fill colour for RandAugment's
    /// geometric operations.
    public var meanLevels: [UInt8] {
        mean.map { UInt8(min(255, (255 * Double($0)).rounded(.toNearestOrEven))) }
    }

    /// Writes `image` as normalised float32 CHW to `out`, which holds `channels × height × width` floats.
    public func write(_ image: Image, to out: UnsafeMutablePointer<Float>) {
        precondition(mean.count == image.channels, "normalisation for \(mean.count) channels applied to a \(image.channels)-channel image")
        let plane = image.width * image.height
        image.pixels.withUnsafeBufferPointer { source in
            for c in 0..<image.channels {
                let m = mean[c], s = std[c]
                let target = out + c * plane
                for i in 0..<plane { target[i] = (Float(source[i * image.channels + c]) / 255 - m) / s }
            }
        }
    }

    /// The normalised image as a float32 tensor of shape [channels, height, width].
    public func tensor(_ image: Image) -> Tensor {
        let tensor = Tensor(zeros: .float32, [image.channels, image.height, image.width])
        write(image, to: tensor.rawPointer.assumingMemoryBound(to: Float.self))
        return tensor
    }
}
