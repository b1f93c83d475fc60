import Testing
@testable import Data
import Tensor

@Suite struct RandAugmentTests {
    let source: Image
    let references: ZipArchive
    static let fill: [UInt8] = [124, 116, 104]

    init() throws {
        source = try Image(contentsOf: Fixtures.path("astronaut_rgb.png"))
        references = try ZipArchive(path: Fixtures.path("randaugment_ops.npz"))
    }

    /// Each operation at the argument the fixture script used (the OPS list in
    /// scripts/make_data_fixtures.py), against PIL/timm's output: exact.
    @Test(arguments: [
        "auto_contrast", "equalize", "invert", "rotate_bicubic_17.5", "rotate_bilinear_-23", "posterize_2", "solarize_100",
        "solarize_add_60", "color_0.35", "color_1.7", "contrast_0.4", "contrast_1.6", "brightness_0.55", "brightness_1.45",
        "sharpness_0.2", "sharpness_1.8", "shear_x_0.21", "shear_y_-0.17", "translate_x_0.3", "translate_y_-0.25",
    ])
    func operationMatchesPIL(key: String) throws {
        let image = source
        let fill = Self.fill
        let ours: Image = switch key {
        case "auto_contrast": image.autoContrasted()
        case "equalize": image.equalized()
        case "invert": image.inverted()
        case "rotate_bicubic_17.5": image.rotated(degrees: 17.5, filter: .bicubic, fill: fill)
        case "rotate_bilinear_-23": image.rotated(degrees: -23, filter: .bilinear, fill: fill)
        case "posterize_2": image.posterized(bits: 2)
        case "solarize_100": image.solarized(threshold: 100)
        case "solarize_add_60": image.solarizedAdding(60)
        case "color_0.35": image.colorAdjusted(0.35)
        case "color_1.7": image.colorAdjusted(1.7)
        case "contrast_0.4": image.contrastAdjusted(0.4)
        case "contrast_1.6": image.contrastAdjusted(1.6)
        case "brightness_0.55": image.brightnessAdjusted(0.55)
        case "brightness_1.45": image.brightnessAdjusted(1.45)
        case "sharpness_0.2": image.sharpnessAdjusted(0.2)
        case "sharpness_1.8": image.sharpnessAdjusted(1.8)
        case "shear_x_0.21": image.affineTransformed([1, 0.21, 0, 0, 1, 0], filter: .bicubic, fill: fill)
        case "shear_y_-0.17": image.affineTransformed([1, 0, 0, -0.17, 1, 0], filter: .bicubic, fill: fill)
        case "translate_x_0.3": image.affineTransformed([1, 0, 0.3 * 48, 0, 1, 0], filter: .bicubic, fill: fill)
        default: image.affineTransformed([1, 0, 0, 0, 1, -0.25 * 32], filter: .bilinear, fill: fill)
        }
        let reference = try references.contents(of: key + ".npy").withUnsafeBytes { try NumPyFile.decode($0) }
        #expect(reference.shape == [32, 48, 3])
        let expected = reference.int64s.map { UInt8($0) }
        let mismatches = zip(ours.pixels, expected).filter { $0 != $1 }.count
        #expect(mismatches == 0, "\(key): \(mismatches) samples differ")
    }

    @Test func configStringSetsTimmsParameters() throws {
        let policy = try RandAugment(config: "rand-m9-mstd0.5-inc1")
        #expect(policy.magnitude == 9 && policy.magnitudeStandardDeviation == 0.5 && policy.increasing)
        #expect(policy.layers == 2 && policy.probability == 0.5 && policy.operations.count == 15)
        let other = try RandAugment(config: "rand-m7-n3-p0.8-mstd101-mmax12")
        #expect(other.magnitude == 7 && other.layers == 3 && other.probability == 0.8)
        #expect(other.magnitudeStandardDeviation == .infinity && other.magnitudeMax == 12 && !other.increasing)
        #expect(throws: InvalidInput.self) { try RandAugment(config: "augmix-m5") }
        #expect(throws: InvalidInput.self) { try RandAugment(config: "rand-m9-tweights") }
    }

    @Test func levelsMapToTimmsArguments() throws {
        var policy = try RandAugment()
        var generator = Xoshiro256(seed: 1)
        // Increasing posterize at magnitude 5 keeps 4 − int(0.5·4) = 2 bits; solarize's threshold is 256 − int(0.5·256).
        #expect(policy.apply(.posterize, to: source, magnitude: 5, using: &generator) == source.posterized(bits: 2))
        #expect(policy.apply(.solarize, to: source, magnitude: 5, using: &generator) == source.solarized(threshold: 128))
        #expect(policy.apply(.solarizeAdd, to: source, magnitude: 10, using: &generator) == source.solarizedAdding(110))
        // At magnitude 10 increasing posterize keeps no bits: black.
        #expect(policy.apply(.posterize, to: source, magnitude: 10, using: &generator).pixels.allSatisfy { $0 == 0 })
        policy.increasing = false
        #expect(policy.apply(.posterize, to: source, magnitude: 5, using: &generator) == source.posterized(bits: 2))
        #expect(policy.apply(.brightness, to: source, magnitude: 5, using: &generator) == source.brightnessAdjusted(1.0))
    }

    @Test func sameGeneratorStateGivesTheSameImage() throws {
        let policy = try RandAugment()
        var a = Xoshiro256(seed: 42), b = Xoshiro256(seed: 42)
        #expect(policy.apply(to: source, using: &a) == policy.apply(to: source, using: &b))
        #expect(a == b)
    }

    @Test func aboutHalfOfTheDrawnOperationsAreApplied() throws {
        // With p = 0.5 and two layers, an image is untouched with probability a little above 1/4 (a
        // drawn op can be the identity at its magnitude); over 400 images, ±3σ of that is 20–37 %.
        let policy = try RandAugment()
        let small = source.resized(width: 12, height: 8)
        var untouched = 0
        for i in 0..<400 {
            var generator = Xoshiro256(seed: 9, stream: [UInt64(i)])
            if policy.apply(to: small, using: &generator) == small { untouched += 1 }
        }
        #expect((80...148).contains(untouched))
    }

    @Test func aGreyImageUsesTheLumaOfTheFill() throws {
        let policy = try RandAugment()
        var generator = Xoshiro256(seed: 3)
        let gray = Image(width: 8, height: 8, color: [200])
        let shifted = policy.apply(.translateX, to: gray, magnitude: 10, using: &generator)
        #expect(shifted.channels == 1)
        #expect(shifted.pixels.contains(Image.luma(124, 116, 104)))
    }
}
