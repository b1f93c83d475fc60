import Foundation

/// A change to an 8-bit image that may draw random numbers: one step of a sample pipeline.
///
/// Transforms are values and receive their generator explicitly, so the same generator state always
/// yields the same output, whichever thread runs it.
public protocol ImageTransform: Sendable {
    /// The transformed image.
    func apply(to image: Image, using generator: inout Xoshiro256) -> Image
}

/// A crop of random area and aspect ratio resized to `width × height`: torchvision's and timm's
/// `RandomResizedCrop` (the Inception crop), with their ten-attempt sampling and centre-crop fallback.
public struct RandomResizedCrop: ImageTransform {
    /// Output size.
    public var width: Int, height: Int
    /// Range of the crop's area as a fraction of the image's.
    public var scale: ClosedRange<Double>
    /// Range of the crop's width/height ratio (sampled uniformly in log space).
    public var ratio: ClosedRange<Double>
    /// Interpolation for the final resize.
    public var filter: ResampleFilter

    /// torchvision's defaults: scale 0.08–1, ratio 3/4–4/3, bilinear.
    public init(width: Int, height: Int, scale: ClosedRange<Double> = 0.08...1, ratio: ClosedRange<Double> = (3.0 / 4)...(4.0 / 3),
                filter: ResampleFilter = .bilinear) {
        self.width = width
        self.height = height
        self.scale = scale
        self.ratio = ratio
        self.filter = filter
    }

    /// The crop rectangle for an image of `imageWidth × imageHeight` (torchvision's `get_params`):
    /// up to ten draws of area and log-ratio, accepting the first that fits (sides rounded half to
    /// even, as Python's `round`), else the largest centred crop with a ratio inside `ratio`.
    public func region(imageWidth: Int, imageHeight: Int, using generator: inout Xoshiro256) -> (x: Int, y: Int, width: Int, height: Int) {
        let area = Double(imageWidth * imageHeight)
        let logRatio = (log(ratio.lowerBound), log(ratio.upperBound))
        for _ in 0..<10 {
            let targetArea = area * generator.uniform(scale.lowerBound, scale.upperBound)
            let aspect = exp(generator.uniform(logRatio.0, logRatio.1))
            let w = Int((targetArea * aspect).squareRoot().rounded(.toNearestOrEven))
            let h = Int((targetArea / aspect).squareRoot().rounded(.toNearestOrEven))
            if w > 0, w <= imageWidth, h > 0, h <= imageHeight {
                let y = generator.integer(in: 0...(imageHeight - h))
                let x = generator.integer(in: 0...(imageWidth - w))
                return (x, y, w, h)
            }
        }
        let inRatio = Double(imageWidth) / Double(imageHeight)
        var w = imageWidth, h = imageHeight
        if inRatio < ratio.lowerBound {
            h = Int((Double(w) / ratio.lowerBound).rounded(.toNearestOrEven))
        } else if inRatio > ratio.upperBound {
            w = Int((Double(h) * ratio.upperBound).rounded(.toNearestOrEven))
        }
        return ((imageWidth - w) / 2, (imageHeight - h) / 2, w, h)
    }

    public func apply(to image: Image, using generator: inout Xoshiro256) -> Image {
        let r = region(imageWidth: image.width, imageHeight: image.height, using: &generator)
        return image.cropped(x: r.x, y: r.y, width: r.width, height: r.height).resized(width: width, height: height, filter: filter)
    }
}

/// A left-right mirror with probability `probability` (torchvision's `RandomHorizontalFlip`).
public struct RandomHorizontalFlip: ImageTransform {
    /// Chance of flipping.
    public var probability: Double

    /// A flip with probability `probability`.
    public init(probability: Double = 0.5) { self.probability = probability }

    public func apply(to image: Image, using generator: inout Xoshiro256) -> Image {
        generator.uniform() < probability ? image.flippedHorizontally() : image
    }
}

/// A resize that sets the shorter side to `shorterSide` and keeps the aspect ratio, the longer side
/// becoming `int(shorterSide · long / short)` (torchvision's `Resize(int)`).
public struct ResizeShorterSide: ImageTransform {
    /// Length the shorter side is resized to.
    public var shorterSide: Int
    /// Interpolation.
    public var filter: ResampleFilter

    /// A resize setting the shorter side to `shorterSide`.
    public init(_ shorterSide: Int, filter: ResampleFilter = .bilinear) {
        self.shorterSide = shorterSide
        self.filter = filter
    }

    public func apply(to image: Image, using generator: inout Xoshiro256) -> Image {
        let short = min(image.width, image.height), long = max(image.width, image.height)
        let newLong = Int(Double(shorterSide) * Double(long) / Double(short))
        return image.width <= image.height
            ? image.resized(width: shorterSide, height: newLong, filter: filter)
            : image.resized(width: newLong, height: shorterSide, filter: filter)
    }
}

/// A resize to exactly `width × height`, ignoring the aspect ratio.
public struct Resize: ImageTransform {
    /// Output size.
    public var width: Int, height: Int
    /// Interpolation.
    public var filter: ResampleFilter

    /// A resize to exactly `width × height`.
    public init(width: Int, height: Int, filter: ResampleFilter = .bilinear) {
        self.width = width
        self.height = height
        self.filter = filter
    }

    public func apply(to image: Image, using generator: inout Xoshiro256) -> Image {
        image.resized(width: width, height: height, filter: filter)
    }
}

/// The centred `width × height` crop (torchvision's `CenterCrop`, see `Image.centerCropped`).
public struct CenterCrop: ImageTransform {
    /// Output size.
    public var width: Int, height: Int

    /// A centred crop of `width × height`.
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    public func apply(to image: Image, using generator: inout Xoshiro256) -> Image {
        image.centerCropped(width: width, height: height)
    }
}
