import Testing
@testable import Data
import Tensor

@Suite struct JPEGTests {
    /// PIL decodes with its own copy of libjpeg-turbo; with the same ISLOW DCT and fancy upsampling
    /// the pixels agree exactly (the brief's allowance was ±2 per channel).
    @Test(arguments: ["coffee", "coffee_gray", "coffee_progressive", "coffee_cmyk"])
    func decodesLikePIL(name: String) throws {
        let image = try Image(contentsOf: Fixtures.path(name + ".jpg"))
        let reference = try Fixtures.reference(name + ".npy")
        #expect([image.height, image.width] == Array(reference.shape.prefix(2)))
        #expect(image.channels == (reference.shape.count == 3 ? reference.shape[2] : 1))
        let worst = zip(image.pixels, reference.values).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst == 0)
    }

    @Test func aTruncatedFileIsAnErrorNotAGreyBottom() throws {
        let folder = try Fixtures.temporaryDirectory("jpeg")
        let bytes = try Fixtures.bytes(Fixtures.path("coffee.jpg"))
        let path = folder + "/cut.jpg"
        try Fixtures.write(Array(bytes[0..<(bytes.count * 2 / 3)]), to: path)
        let error = try #require(throws: InvalidInput.self) { try Image(contentsOf: path) }
        #expect(error.subject == path)
        #expect(error.problem.contains("truncated JPEG data at byte \(bytes.count * 2 / 3)"))
    }

    @Test func aFileCutInTheHeaderIsReported() throws {
        let bytes = try Fixtures.bytes(Fixtures.path("coffee.jpg"))
        let error = try #require(throws: InvalidInput.self) { try JPEG.decode(Array(bytes[0..<40])) }
        #expect(error.problem.contains("JPEG"))
        #expect(error.problem.contains("at byte"))
    }

    @Test func corruptHeaderFieldsAreReportedWithTheirOffset() throws {
        var bytes = try Fixtures.bytes(Fixtures.path("coffee.jpg"))
        // The start-of-frame segment: FF C0, a 2-byte length, then the sample precision (8).
        let frame = try #require((0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC0 })
        bytes[frame + 4] = 7
        let error = try #require(throws: InvalidInput.self) { try JPEG.decode(bytes) }
        #expect(error.problem.hasPrefix("corrupt JPEG data at byte"))
        #expect(error.problem.contains("precision 7"))
    }

    @Test func unknownContentIsNotAnImage() {
        #expect(throws: InvalidInput(nil, "not a PNG or JPEG file (unrecognised signature)")) {
            try [UInt8]("GIF89a....".utf8).withUnsafeBytes { try Image.decode($0) }
        }
    }
}
