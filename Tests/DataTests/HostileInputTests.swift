import Testing
@testable import Data
import Tensor

/// Every reader meets cut and corrupted copies of real files: each must either decode or throw
/// `InvalidInput`, never crash or hang.
@Suite struct HostileInputTests {
    /// Decoding every prefix of a file: the complete image, or a one-line error.
    @Test(arguments: ["astronaut_gray1_adam7.png", "astronaut_palette4_trns.png", "coffee_gray.jpg", "coffee_progressive.jpg"])
    func everyTruncationDecodesOrThrows(name: String) throws {
        let bytes = try Fixtures.bytes(Fixtures.path(name))
        let whole = try bytes.withUnsafeBytes { try Image.decode($0) }
        var failures = 0
        for length in 0..<bytes.count {
            do {
                let image = try Array(bytes[0..<length]).withUnsafeBytes { try Image.decode($0) }
                // Only a cut after the last image data (before IEND/EOI) may still decode, and then fully.
                #expect(image == whole, "\(name) cut at \(length)")
            } catch is InvalidInput {
                failures += 1
            }
        }
        #expect(failures > bytes.count * 9 / 10)
    }

    @Test(arguments: ["coffee.jpg", "coffee_progressive.jpg", "astronaut_rgb.png"])
    func randomByteCorruptionDecodesOrThrows(name: String) throws {
        let bytes = try Fixtures.bytes(Fixtures.path(name))
        var generator = Xoshiro256(seed: 99)
        for _ in 0..<150 {
            var corrupt = bytes
            for _ in 0..<(1 + generator.integer(below: 4)) {
                corrupt[generator.integer(below: corrupt.count)] = UInt8(truncatingIfNeeded: generator.next())
            }
            do {
                let image = try corrupt.withUnsafeBytes { try Image.decode($0) }
                #expect(image.pixels.count == image.width * image.height * image.channels)
            } catch is InvalidInput {
            }
        }
    }

    @Test func corruptArchivesOpenOrThrow() throws {
        let folder = try Fixtures.temporaryDirectory("hostile")
        let bytes = try Fixtures.bytes(Fixtures.path("tiny_images_compressed.npz"))
        var generator = Xoshiro256(seed: 100)
        for trial in 0..<120 {
            var corrupt = trial < 40 ? Array(bytes[0..<generator.integer(below: bytes.count)]) : bytes
            if trial >= 40 { corrupt[generator.integer(below: corrupt.count)] = UInt8(truncatingIfNeeded: generator.next()) }
            let path = folder + "/\(trial).npz"
            try Fixtures.write(corrupt, to: path)
            do {
                let dataset = try NumPyDataset(archive: path)
                #expect(dataset.count == 5)
            } catch is InvalidInput {
            }
        }
    }
}
