import Tensor

/// Everything that turns one decoded image into one normalised float32 CHW sample: channel
/// conversion, a list of 8-bit image transforms, normalisation and optional random erasing.
///
/// `training` and `evaluation` build timm's ImageNet pipelines (`transforms_imagenet_train` /
/// `transforms_imagenet_eval`) with DeiT's settings.
public struct SampleTransform: Sendable {
    /// Channels of the output (images are converted first: 1 = grey, 3 = RGB).
    public var channels: Int
    /// Output width and height; the steps must produce exactly this size.
    public var width: Int, height: Int
    /// 8-bit transforms applied in order.
    public var steps: [any ImageTransform]
    /// Mean and standard deviation applied after the 8-bit steps.
    public var normalization: Normalization
    /// Applied to the normalised sample, as timm applies it after `Normalize`.
    public var erasing: RandomErasing?

    /// A custom pipeline; `steps` must turn any source image into `width × height`.
    public init(channels: Int, width: Int, height: Int, steps: [any ImageTransform], normalization: Normalization, erasing: RandomErasing? = nil) {
        precondition(channels == 1 || channels == 3, "samples have 1 or 3 channels, not \(channels)")
        precondition(normalization.mean.count == channels, "normalisation has \(normalization.mean.count) channels, samples \(channels)")
        self.channels = channels
        self.width = width
        self.height = height
        self.steps = steps
        self.normalization = normalization
        self.erasing = erasing
    }

    /// timm's training pipeline with DeiT's defaults: RandomResizedCrop (scale 0.08–1, ratio 3/4–4/3)
    /// → horizontal flip (p = 0.5) → RandAugment (`rand-m9-mstd0.5-inc1`, filled with the mean) →
    /// normalise → random erasing (p = 0.25, pixel mode). DeiT interpolates bicubically (timm's
    /// own default is bilinear); pass `randAugment: nil` or `erasing: nil` to leave a stage out.
    public static func training(size: Int, channels: Int = 3, scale: ClosedRange<Double> = 0.08...1,
                                ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3), filter: ResampleFilter = .bicubic,
                                horizontalFlip: Double = 0.5, randAugment: String? = "rand-m9-mstd0.5-inc1",
                                normalization: Normalization = .imageNet, erasing: RandomErasing? = RandomErasing()) throws -> SampleTransform {
        var steps: [any ImageTransform] = [RandomResizedCrop(width: size, height: size, scale: scale, ratio: ratio, filter: filter)]
        if horizontalFlip > 0 { steps.append(RandomHorizontalFlip(probability: horizontalFlip)) }
        if let randAugment {
            steps.append(try RandAugment(config: randAugment, fill: normalization.meanLevels, filter: filter))
        }
        return SampleTransform(channels: channels, width: size, height: size, steps: steps, normalization: normalization, erasing: erasing)
    }

    /// timm's evaluation pipeline: resize the shorter side to ⌊size / cropFraction⌋ (256 for 224 at
    /// the default 0.875), centre-crop `size × size`, normalise. No randomness.
    public static func evaluation(size: Int, channels: Int = 3, cropFraction: Double = 0.875, filter: ResampleFilter = .bicubic,
                                  normalization: Normalization = .imageNet) -> SampleTransform {
        let scaled = Int((Double(size) / cropFraction).rounded(.down))
        return SampleTransform(channels: channels, width: size, height: size,
                               steps: [ResizeShorterSide(scaled, filter: filter), CenterCrop(width: size, height: size)],
                               normalization: normalization)
    }

    /// Transforms `image` and writes the normalised sample (`channels × height × width` floats) to `out`.
    public func apply(_ image: Image, into out: UnsafeMutablePointer<Float>, using generator: inout Xoshiro256) throws {
        var current = image.converted(toChannels: channels)
        for step in steps { current = step.apply(to: current, using: &generator) }
        guard current.width == width, current.height == height else {
            throw InvalidInput(nil, "the sample transform produced \(current.width)×\(current.height) from a \(image.width)×\(image.height) image, expected \(width)×\(height)")
        }
        normalization.write(current, to: out)
        erasing?.apply(to: out, channels: channels, height: height, width: width, using: &generator)
    }

    /// The transformed, normalised sample as a float32 tensor [channels, height, width].
    public func tensor(_ image: Image, using generator: inout Xoshiro256) throws -> Tensor {
        let tensor = Tensor(zeros: .float32, [channels, height, width])
        try apply(image, into: tensor.rawPointer.assumingMemoryBound(to: Float.self), using: &generator)
        return tensor
    }
}
