import Testing
@testable import Data
import Tensor

@Suite struct ImageGeometryTests {
    let source: Image

    init() throws { source = try Image(contentsOf: Fixtures.path("astronaut_rgb.png")) }

    /// PIL's `Image.resize` on the 48×32 fixture: shrinking (antialiased), enlarging, and both at once.
    /// Tolerance 0: the fixed-point arithmetic is PIL's.
    @Test(arguments: [("bilinear", ResampleFilter.bilinear, 20, 13), ("bicubic", .bicubic, 20, 13),
                      ("bilinear", .bilinear, 64, 40), ("bicubic", .bicubic, 31, 47)])
    func resizeMatchesPIL(name: String, filter: ResampleFilter, width: Int, height: Int) throws {
        let reference = try Fixtures.reference("resize_\(name)_\(width)x\(height).npy")
        let resized = source.resized(width: width, height: height, filter: filter)
        #expect(reference.shape == [height, width, 3])
        #expect(resized.pixels == reference.values)
    }

    /// torchvision's uint8 tensor resize with `antialias=True` approximates PIL to within one level.
    @Test func resizeIsWithinOneLevelOfTorchvisionTensorResize() throws {
        let reference = try Fixtures.reference("resize_torchvision_bilinear_20x13.npy")
        let resized = source.resized(width: 20, height: 13, filter: .bilinear)
        let worst = zip(resized.pixels, reference.values).map { abs(Int($0) - Int($1)) }.max()
        #expect(worst.map { $0 <= 1 } == true)
    }

    @Test func resizingToTheSameSizeIsTheIdentity() {
        #expect(source.resized(width: 48, height: 32) == source)
    }

    @Test func aConstantImageStaysConstantUnderEveryResize() {
        let flat = Image(width: 13, height: 7, color: [9, 200, 77])
        for (w, h) in [(5, 3), (40, 21), (13, 30)] {
            for filter in [ResampleFilter.bilinear, .bicubic] {
                #expect(flat.resized(width: w, height: h, filter: filter) == Image(width: w, height: h, color: [9, 200, 77]))
            }
        }
    }

    @Test func centerCropRoundsHalfOffsetsToEvenAsPythonDoes() {
        let image = Fixtures.picture(width: 7, height: 6, channels: 1)
        // (7 − 4)/2 = 1.5 → 2 and (6 − 3)/2 = 1.5 → 2 under round-half-even.
        #expect(image.centerCropped(width: 4, height: 3) == image.cropped(x: 2, y: 2, width: 4, height: 3))
        // (7 − 2)/2 = 2.5 → 2.
        #expect(image.centerCropped(width: 2, height: 6) == image.cropped(x: 2, y: 0, width: 2, height: 6))
    }

    @Test func aCropLargerThanTheImageIsZeroPaddedWithTheOddPixelAfter() {
        let image = Image(width: 2, height: 1, color: [5])
        let padded = image.centerCropped(width: 5, height: 2)
        // Left pad (5 − 2) / 2 = 1, top pad (2 − 1) / 2 = 0.
        #expect(padded.pixels == [0, 5, 5, 0, 0,
                                  0, 0, 0, 0, 0])
    }

    @Test func horizontalFlipMirrorsRowsAndIsItsOwnInverse() {
        let image = Image(width: 3, height: 2, channels: 2, pixels: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
        #expect(image.flippedHorizontally().pixels == [5, 6, 3, 4, 1, 2, 11, 12, 9, 10, 7, 8])
        #expect(image.flippedHorizontally().flippedHorizontally() == image)
    }

    @Test func grayscaleUsesPILsFixedPointLuma() throws {
        let gray = try Image(contentsOf: Fixtures.path("astronaut_gray.png"))
        #expect(source.grayscale() == gray)
        // L = (19595·R + 38470·G + 7471·B + 2^15) >> 16
        #expect(Image(width: 1, height: 1, color: [255, 0, 0]).grayscale().pixels == [76])
    }

    @Test func rgbReplicatesGreyAndDropsAlpha() {
        #expect(Image(width: 1, height: 1, color: [7]).rgb().pixels == [7, 7, 7])
        #expect(Image(width: 1, height: 1, color: [7, 99]).rgb().pixels == [7, 7, 7])
        #expect(Image(width: 1, height: 1, color: [1, 2, 3, 4]).rgb().pixels == [1, 2, 3])
    }

    @Test func normalizationComputesToTensorThenNormalizeInFloat32() {
        let image = Image(width: 2, height: 1, channels: 3, pixels: [0, 128, 255, 10, 20, 30])
        let tensor = Normalization.imageNet.tensor(image)
        #expect(tensor.shape == [3, 1, 2])
        let expected: [Float] = [(0 / 255 - 0.485) / 0.229, (10 / 255 - 0.485) / 0.229,
                                 (128 / 255 - 0.456) / 0.224, (20 / 255 - 0.456) / 0.224,
                                 (255 / 255 - 0.406) / 0.225, (30 / 255 - 0.406) / 0.225]
        #expect(tensor.floats == expected)
        #expect(Normalization.imageNet.meanLevels == [124, 116, 104])
    }

    @Test func dimensionsAreCheckedBeforeAllocation() {
        #expect(throws: InvalidInput(nil, "image of 16384×16384 pixels exceeds the limit of 67108864 pixels")) {
            try Image.validateDimensions(width: 1 << 14, height: 1 << 14, channels: 3)
        }
        #expect(throws: InvalidInput.self) { try Image.validateDimensions(width: 0, height: 5, channels: 1) }
        #expect(throws: InvalidInput.self) { try Image.validateDimensions(width: Int.max, height: 2, channels: 1) }
        #expect(throws: Never.self) { try Image.validateDimensions(width: 1 << 13, height: 1 << 13, channels: 4) }
    }
}
