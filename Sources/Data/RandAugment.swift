import Tensor

/// RandAugment as timm implements it (`rand_augment_transform`): for each image, `layers`
/// operations drawn uniformly with replacement, each applied with probability `probability` at a
/// magnitude drawn from N(`magnitude`, `magnitudeStandardDeviation`) clipped to [0, `magnitudeMax`].
/// The operations are timm's, pixel for pixel (they reproduce PIL's). `rand-m9-mstd0.5-inc1`, DeiT's
/// policy, is `RandAugment(config:)`'s default.
///
/// One difference: at magnitude 10, increasing posterize keeps 0 bits; current Pillow refuses that
/// (timm then raises), older Pillow returned black, and so does this.
public struct RandAugment: ImageTransform {
    /// The operations, named after timm's (the `…Increasing` variants when `increasing` is set).
    public enum Operation: String, CaseIterable, Sendable {
        case autoContrast = "AutoContrast", equalize = "Equalize", invert = "Invert", rotate = "Rotate"
        case posterize = "Posterize", solarize = "Solarize", solarizeAdd = "SolarizeAdd"
        case color = "Color", contrast = "Contrast", brightness = "Brightness", sharpness = "Sharpness"
        case shearX = "ShearX", shearY = "ShearY", translateX = "TranslateXRel", translateY = "TranslateYRel"
    }

    /// The operations drawn from (timm's `_RAND_TRANSFORMS`/`_RAND_INCREASING_TRANSFORMS` order).
    public var operations: [Operation] = Operation.allCases
    /// Operations per image (`n`).
    public var layers = 2
    /// Mean magnitude on timm's 0–10 scale (`m`).
    public var magnitude = 9.0
    /// Standard deviation of the magnitude (`mstd`); infinity means uniform in [0, magnitude].
    public var magnitudeStandardDeviation = 0.5
    /// Upper clip of the magnitude (`mmax`).
    public var magnitudeMax = 10.0
    /// Probability that a drawn operation is applied (`p`).
    public var probability = 0.5
    /// Whether posterize, solarize and the enhancements grow stronger with magnitude (`inc1`).
    public var increasing = true
    /// Largest translation as a fraction of the image side (timm's `translate_pct`).
    public var translateFraction = 0.45
    /// Colour for pixels that geometric operations uncover: timm uses the dataset mean as 8-bit
    /// levels (`Normalization.meanLevels`); a 1-channel image uses the luma of a 3-sample fill.
    public var fill: [UInt8]
    /// Interpolation for rotate, shear and translate (timm passes the training interpolation).
    public var filter: ResampleFilter

    /// A policy from timm's configuration string, e.g. `rand-m9-mstd0.5-inc1`: sections `m`
    /// (magnitude), `n` (layers), `p` (probability), `mstd` (magnitude deviation; above 100 means
    /// uniform), `mmax` (magnitude clip), `inc` (increasing variants). Weighted selection (`t…`) is not
    /// supported.
    public init(config: String = "rand-m9-mstd0.5-inc1", fill: [UInt8] = Normalization.imageNet.meanLevels, filter: ResampleFilter = .bicubic) throws {
        self.fill = fill
        self.filter = filter
        increasing = false
        var sections = config.split(separator: "-").map(String.init)
        guard sections.first == "rand" else { throw InvalidInput(config, "a RandAugment policy starts with 'rand'") }
        sections.removeFirst()
        for section in sections {
            guard let split = section.firstIndex(where: { $0.isNumber || $0 == "." }) else {
                throw InvalidInput(config, "section '\(section)' has no value")
            }
            let key = String(section[..<split])
            guard let value = Double(section[split...]) else { throw InvalidInput(config, "section '\(section)' has no numeric value") }
            switch key {
            case "m": magnitude = value
            case "n":
                guard value >= 0, value == value.rounded() else { throw InvalidInput(config, "'n' must be a whole number") }
                layers = Int(value)
            case "p": probability = value
            case "mstd": magnitudeStandardDeviation = value > 100 ? .infinity : value
            case "mmax": magnitudeMax = value
            case "inc": increasing = value != 0
            default: throw InvalidInput(config, "unknown or unsupported RandAugment section '\(section)'")
            }
        }
    }

    public func apply(to image: Image, using generator: inout Xoshiro256) -> Image {
        var result = image
        for _ in 0..<layers {
            let operation = operations[generator.integer(below: operations.count)]
            if probability < 1, generator.uniform() > probability { continue }
            var level = magnitude
            if magnitudeStandardDeviation == .infinity {
                level = generator.uniform(0, magnitude)
            } else if magnitudeStandardDeviation > 0 {
                level = generator.gaussian(mean: magnitude, standardDeviation: magnitudeStandardDeviation)
            }
            result = apply(operation, to: result, magnitude: max(0, min(level, magnitudeMax)), using: &generator)
        }
        return result
    }

    /// `operation` at `magnitude` (0–10 scale, already sampled and clipped); the generator decides
    /// only the sign of signed operations (rotate, shear, translate and the increasing enhancements).
    public func apply(_ operation: Operation, to image: Image, magnitude: Double, using generator: inout Xoshiro256) -> Image {
        let level = magnitude / 10
        func randomlyNegated(_ value: Double) -> Double { generator.uniform() > 0.5 ? -value : value }
        func enhancement() -> Double {
            increasing ? max(0.1, 1 + randomlyNegated(level * 0.9)) : level * 1.8 + 0.1
        }
        let fillColor = image.channels == fill.count ? fill
            : image.channels == 1 && fill.count == 3 ? [Image.luma(fill[0], fill[1], fill[2])]
            : [UInt8](repeating: fill.first ?? 0, count: image.channels)
        switch operation {
        case .autoContrast:
            return image.autoContrasted()
        case .equalize:
            return image.equalized()
        case .invert:
            return image.inverted()
        case .rotate:
            return image.rotated(degrees: randomlyNegated(level * 30), filter: filter, fill: fillColor)
        case .posterize:
            let bits = increasing ? 4 - Int(level * 4) : Int(level * 4)
            return bits >= 8 ? image : image.posterized(bits: bits)
        case .solarize:
            let threshold = min(256, Int(level * 256))
            return image.solarized(threshold: increasing ? 256 - threshold : threshold)
        case .solarizeAdd:
            return image.solarizedAdding(min(128, Int(level * 110)), threshold: 128)
        case .color:
            return image.colorAdjusted(enhancement())
        case .contrast:
            return image.contrastAdjusted(enhancement())
        case .brightness:
            return image.brightnessAdjusted(enhancement())
        case .sharpness:
            return image.sharpnessAdjusted(enhancement())
        case .shearX:
            return image.affineTransformed([1, randomlyNegated(level * 0.3), 0, 0, 1, 0], filter: filter, fill: fillColor)
        case .shearY:
            return image.affineTransformed([1, 0, 0, randomlyNegated(level * 0.3), 1, 0], filter: filter, fill: fillColor)
        case .translateX:
            let pixels = randomlyNegated(level * translateFraction) * Double(image.width)
            return image.affineTransformed([1, 0, pixels, 0, 1, 0], filter: filter, fill: fillColor)
        case .translateY:
            let pixels = randomlyNegated(level * translateFraction) * Double(image.height)
            return image.affineTransformed([1, 0, 0, 0, 1, pixels], filter: filter, fill: fillColor)
        }
    }
}
