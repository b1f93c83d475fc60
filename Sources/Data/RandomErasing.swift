import Foundation

/// Random erasing (Zhong et al. 2017) as timm's `RandomErasing` applies it to one normalised CHW
/// image: with probability `probability`, `count` rectangles each of a random area fraction in
/// `area / count` and aspect ratio in `aspect` (log-uniform), found in up to ten attempts, are
/// overwritten with standard-normal noise per pixel (`.pixel`, timm's `re_mode='pixel'`), one
/// normal colour per channel (`.random`) or zeros (`.constant`).
public struct RandomErasing: Sendable {
    /// What an erased rectangle is filled with.
    public enum Fill: Sendable, Hashable {
        case pixel, random, constant
    }

    /// Chance that an image is erased at all.
    public var probability: Double
    /// Range of the erased area as a fraction of the image (divided among `count` rectangles).
    public var area: ClosedRange<Double>
    /// Range of the rectangles' height/width ratio.
    public var aspect: ClosedRange<Double>
    /// What erased pixels become.
    public var fill: Fill
    /// Range of the number of rectangles per erased image.
    public var count: ClosedRange<Int>

    /// timm's defaults with DeiT's `--reprob 0.25 --remode pixel --recount 1`.
    public init(probability: Double = 0.25, area: ClosedRange<Double> = 0.02...(1.0 / 3), aspect: ClosedRange<Double> = 0.3...(1 / 0.3),
                fill: Fill = .pixel, count: ClosedRange<Int> = 1...1) {
        self.probability = probability
        self.area = area
        self.aspect = aspect
        self.fill = fill
        self.count = count
    }

    /// Erases in place in `values`, a `channels × height × width` float image.
    public func apply(to values: UnsafeMutablePointer<Float>, channels: Int, height: Int, width: Int, using generator: inout Xoshiro256) {
        if generator.uniform() > probability { return }
        let imageArea = Double(height * width)
        let rectangles = count.lowerBound == count.upperBound ? count.lowerBound : generator.integer(in: count)
        let logAspect = (log(aspect.lowerBound), log(aspect.upperBound))
        for _ in 0..<rectangles {
            for _ in 0..<10 {
                let targetArea = generator.uniform(area.lowerBound, area.upperBound) * imageArea / Double(rectangles)
                let ratio = exp(generator.uniform(logAspect.0, logAspect.1))
                let h = Int((targetArea * ratio).squareRoot().rounded(.toNearestOrEven))
                let w = Int((targetArea / ratio).squareRoot().rounded(.toNearestOrEven))
                guard w < width, h < height else { continue }
                let top = generator.integer(in: 0...(height - h))
                let left = generator.integer(in: 0...(width - w))
                var channelColor = [Float](repeating: 0, count: channels)
                if fill == .random {
                    for c in 0..<channels { channelColor[c] = Float(generator.gaussian()) }
                }
                for c in 0..<channels {
                    for y in top..<(top + h) {
                        let row = values + (c * height + y) * width
                        for x in left..<(left + w) {
                            row[x] = fill == .pixel ? Float(generator.gaussian()) : channelColor[c]
                        }
                    }
                }
                break
            }
        }
    }
}
