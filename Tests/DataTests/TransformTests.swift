import Testing
@testable import Data
import Tensor

@Suite struct TransformTests {
    @Test func randomResizedCropRegionsStayInsideTheScaleAndRatioRanges() {
        let crop = RandomResizedCrop(width: 8, height: 8)
        var generator = Xoshiro256(seed: 11)
        var areas: [Double] = []
        for _ in 0..<4000 {
            let r = crop.region(imageWidth: 200, imageHeight: 150, using: &generator)
            #expect(r.x >= 0 && r.y >= 0 && r.x + r.width <= 200 && r.y + r.height <= 150)
            let area = Double(r.width * r.height) / 30_000
            // Rounding the sides to whole pixels moves area and ratio slightly past the sampled range.
            #expect(area > 0.075 && area <= 1)
            let ratio = Double(r.width) / Double(r.height)
            #expect(ratio > 0.7 && ratio < 1.4)
            areas.append(area)
        }
        // Draws that do not fit (large areas at extreme ratios) are redrawn, so the mean area is below
        // the 0.54 of uniform [0.08, 1]: torchvision's get_params gives 0.436 (σ 0.217) on this image
        // over 20 000 draws. Allow 4σ of a 4000-draw mean.
        let mean = areas.reduce(0, +) / Double(areas.count)
        #expect(abs(mean - 0.436) < 0.014)
    }

    @Test func randomResizedCropFallsBackToTheLargestCentredCropInTheRatioRange() {
        // A 100×10 strip admits no crop with ratio ≤ 4/3 and area ≥ 8 %: the fallback is 13×10 centred.
        let crop = RandomResizedCrop(width: 4, height: 4)
        var generator = Xoshiro256(seed: 1)
        let r = crop.region(imageWidth: 100, imageHeight: 10, using: &generator)
        #expect(r.width == 13 && r.height == 10 && r.x == 43 && r.y == 0)
        let image = crop.apply(to: Fixtures.picture(width: 100, height: 10, channels: 3), using: &generator)
        #expect(image.width == 4 && image.height == 4)
    }

    @Test func horizontalFlipHappensHalfTheTime() {
        let flip = RandomHorizontalFlip()
        let image = Fixtures.picture(width: 5, height: 2, channels: 1)
        var generator = Xoshiro256(seed: 12)
        let flipped = (0..<2000).filter { _ in flip.apply(to: image, using: &generator) != image }.count
        // Binomial(2000, 1/2): σ ≈ 22.
        #expect(abs(flipped - 1000) < 90)
    }

    @Test func evaluationTransformMatchesTorchvision() throws {
        // Resize(36, bicubic) → CenterCrop(32) → ToTensor → Normalize(ImageNet), as the fixture
        // script computed it and checked against torchvision; tolerance 0.
        let transform = SampleTransform.evaluation(size: 32)
        var generator = Xoshiro256(seed: 0)
        let tensor = try transform.tensor(try Image(contentsOf: Fixtures.path("astronaut_rgb.png")), using: &generator)
        let reference = try NumPyFile.read(Fixtures.path("eval_transform.npy"))
        #expect(tensor.shape == reference.shape)
        #expect(tensor.floats == reference.floats)
    }

    @Test func randomErasingErasesAQuarterOfTheImagesWithNormalNoise() {
        let erasing = RandomErasing()
        var generator = Xoshiro256(seed: 13)
        var erased = 0
        var fractions: [Double] = []
        var noise: [Float] = []
        for _ in 0..<2000 {
            var values = [Float](repeating: 100, count: 3 * 20 * 30)
            values.withUnsafeMutableBufferPointer { erasing.apply(to: $0.baseAddress!, channels: 3, height: 20, width: 30, using: &generator) }
            let changed = values.filter { $0 != 100 }
            if !changed.isEmpty {
                erased += 1
                fractions.append(Double(changed.count) / Double(values.count))
                noise += changed
            }
        }
        // Binomial(2000, 0.25): σ ≈ 19.
        #expect(abs(erased - 500) < 80)
        #expect(fractions.allSatisfy { $0 <= 1.0 / 3 + 0.05 })
        let mean = noise.reduce(0, +) / Float(noise.count)
        let variance = noise.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(noise.count)
        #expect(abs(mean) < 0.05 && abs(variance - 1) < 0.05)
    }

    @Test func mixupBlendsEachSampleWithItsMirrorPartner() {
        let images = Tensor([0, 0, 10, 10, 20, 20, 30, 30], shape: [4, 1, 1, 2])
        let mixup = Mixup(labelSmoothing: 0.1)
        let targets = mixup.apply(Mixup.Outcome(lambda: 0.75, box: nil), images: images, labels: [0, 1, 2, 1], classCount: 3)
        // Sample i mixes with B − 1 − i: 0.75·0 + 0.25·30 = 7.5, 0.75·10 + 0.25·20 = 12.5, …
        #expect(images.floats == [7.5, 7.5, 12.5, 12.5, 17.5, 17.5, 22.5, 22.5])
        // smooth(y) = 0.9·onehot + 0.1/3; sample 0 (class 0) mixes with sample 3 (class 1).
        let on = Float(0.9 + 0.1 / 3), off = Float(0.1 / 3)
        let first = Array(targets.floats[0..<3])
        #expect(first == [on * 0.75 + off * 0.25, off * 0.75 + on * 0.25, off * 0.75 + off * 0.25])
        #expect(targets.floats.count == 12)
    }

    @Test func cutmixPastesThePartnersBoxAndCorrectsLambdaToItsArea() {
        let images = Tensor((0..<(2 * 1 * 4 * 4)).map { Float($0 < 16 ? 1 : 2) }, shape: [2, 1, 4, 4])
        let box = Mixup.Box(top: 1, bottom: 3, left: 0, right: 1)
        let targets = Mixup.none().apply(Mixup.Outcome(lambda: 1 - 2.0 / 16, box: box), images: images, labels: [0, 1], classCount: 2)
        let first = Array(images.floats[0..<16])
        #expect(first == [1, 1, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1])
        #expect(targets.floats == [0.875, 0.125, 0.125, 0.875])
    }

    @Test func batchMixingDrawsMixupAndCutmixEquallyWithBetaLambdas() {
        let mixup = Mixup()
        var generator = Xoshiro256(seed: 14)
        var cutmix: [Double] = [], blend: [Double] = []
        for _ in 0..<4000 {
            let outcome = mixup.draw(height: 32, width: 32, using: &generator)
            if let box = outcome.box {
                #expect(box.top >= 0 && box.bottom <= 32 && box.left >= 0 && box.right <= 32)
                #expect(abs(outcome.lambda - (1 - Double((box.bottom - box.top) * (box.right - box.left)) / 1024)) < 1e-12)
                cutmix.append(outcome.lambda)
            } else {
                blend.append(outcome.lambda)
            }
        }
        // Switch probability 0.5 (σ ≈ 32 of 4000); Beta(0.8, 0.8) has mean 1/2 and variance 0.0962.
        #expect(abs(cutmix.count - 2000) < 130)
        let mean = blend.reduce(0, +) / Double(blend.count)
        let variance = blend.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(blend.count)
        #expect(abs(mean - 0.5) < 0.03 && abs(variance - 0.0962) < 0.01)
        // CutMix λ after correction: the pasted area fraction, on average about 1/2 but reduced by clipping.
        let cutMean = cutmix.reduce(0, +) / Double(cutmix.count)
        #expect(cutMean > 0.5 && cutMean < 0.7)
    }

    @Test func mixingIsOffWhenBothAlphasAreZero() {
        var generator = Xoshiro256(seed: 15)
        #expect(Mixup.none(labelSmoothing: 0.1).draw(height: 8, width: 8, using: &generator) == Mixup.Outcome(lambda: 1, box: nil))
        let targets = Mixup.none().targets(labels: [2, 0], classCount: 3, lambda: 1)
        #expect(targets.floats == [0, 0, 1, 1, 0, 0])
    }

    @Test func trainingTransformIsDeterministicGivenTheGenerator() throws {
        let transform = try SampleTransform.training(size: 24)
        let image = try Image(contentsOf: Fixtures.path("coffee.jpg"))
        var a = Xoshiro256(seed: 16), b = Xoshiro256(seed: 16), c = Xoshiro256(seed: 17)
        let first = try transform.tensor(image, using: &a)
        #expect(first.shape == [3, 24, 24])
        #expect(first.bitwiseEqual(try transform.tensor(image, using: &b)))
        #expect(!first.bitwiseEqual(try transform.tensor(image, using: &c)))
    }

    @Test func aTransformThatDoesNotReachTheOutputSizeIsAnError() {
        let transform = SampleTransform(channels: 1, width: 8, height: 8, steps: [], normalization: .unit(channels: 1))
        var generator = Xoshiro256(seed: 0)
        #expect(throws: InvalidInput.self) { try transform.tensor(Image(width: 7, height: 8, channels: 1), using: &generator) }
    }
}
