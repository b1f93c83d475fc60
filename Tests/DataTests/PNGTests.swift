import Foundation
import Testing
@testable import Data
import Tensor

@Suite struct PNGTests {
    @Test(arguments: [1, 2, 3, 4])
    func encodeThenDecodeGivesTheSamePixels(channels: Int) throws {
        for (width, height) in [(1, 1), (7, 5), (33, 17)] {
            let image = Fixtures.picture(width: width, height: height, channels: channels)
            let decoded = try PNG.decode(PNG.encode(image))
            #expect(decoded == image, "\(channels) channels, \(width)×\(height)")
        }
    }

    @Test func encodedFilesUseTheColourTypeOfTheChannelCount() {
        // IHDR's colour type byte sits at offset 25: 0 grey, 4 grey+alpha, 2 RGB, 6 RGBA.
        let types = [1, 2, 3, 4].map { PNG.encode(Image(width: 2, height: 2, channels: $0))[25] }
        #expect(types == [0, 4, 2, 6])
    }

    /// Each fixture was written by PIL (or by the script's own encoder for 16-bit, 1/2-bit and
    /// Adam7 files) and the .npy is what PIL decodes: the match must be exact.
    @Test(arguments: ["astronaut_rgb", "astronaut_gray", "astronaut_rgba", "astronaut_la", "astronaut_palette",
                      "astronaut_palette4_trns", "astronaut_rgb16_adam7", "astronaut_gray2", "astronaut_gray1_adam7"])
    func decodesLikePIL(name: String) throws {
        let image = try Image(contentsOf: Fixtures.path(name + ".png"))
        let reference = try Fixtures.reference(name + ".npy")
        #expect([image.height, image.width] == Array(reference.shape.prefix(2)))
        #expect(image.channels == (reference.shape.count == 3 ? reference.shape[2] : 1))
        #expect(image.pixels == reference.values)
    }

    @Test func aBadChunkCRCNamesTheChunkAndItsOffset() throws {
        var bytes = try Fixtures.bytes(Fixtures.path("astronaut_rgb.png"))
        // The first IDAT's data: flip a byte inside it.
        let idat = try #require(firstChunk("IDAT", in: bytes))
        bytes[idat + 10] ^= 0xff
        let error = try #require(throws: InvalidInput.self) { try PNG.decode(bytes) }
        #expect(error.problem.contains("chunk IDAT at byte \(idat) has a bad CRC"))
    }

    @Test func aFileCutInsideIDATIsTruncated() throws {
        let folder = try Fixtures.temporaryDirectory("png")
        let bytes = try Fixtures.bytes(Fixtures.path("astronaut_rgb.png"))
        let idat = try #require(firstChunk("IDAT", in: bytes))
        let path = folder + "/cut.png"
        try Fixtures.write(Array(bytes[0..<(idat + 100)]), to: path)
        let error = try #require(throws: InvalidInput.self) { try Image(contentsOf: path) }
        #expect(error.subject == path)
        #expect(error.problem.contains("truncated chunk IDAT at byte \(idat)"))
    }

    @Test func imageDataThatInflatesShortIsReported() throws {
        // A valid 4×4 RGB header whose single IDAT holds only two rows.
        let full = PNG.encode(Fixtures.picture(width: 4, height: 4, channels: 3), compressionLevel: 0)
        let rows = Array(PNGTests.rawRows(full).prefix(2 * 13))
        let bytes = PNGTests.png(header: Array(full[16..<29]), idat: Compression.deflate(rows))
        let error = try #require(throws: InvalidInput.self) { try PNG.decode(bytes) }
        #expect(error.problem.contains("image data in IDAT chunks at bytes 33"))
    }

    @Test func badSignatureAndMissingHeaderAreRefused() throws {
        #expect(throws: InvalidInput(nil, "not a PNG file (bad signature)")) { try PNG.decode([0x89, 0x50, 0x4E]) }
        let error = try #require(throws: InvalidInput.self) { try PNG.decode(PNG.signature + PNGTests.chunk("IEND", [])) }
        #expect(error.problem.contains("expected IHDR"))
    }

    @Test func hugeDeclaredDimensionsAreRefusedBeforeAllocating() throws {
        var header: [UInt8] = []
        for value: UInt32 in [100_000, 100_000] { header += [UInt8(value >> 24), UInt8(value >> 16 & 255), UInt8(value >> 8 & 255), UInt8(value & 255)] }
        header += [8, 2, 0, 0, 0]
        let error = try #require(throws: InvalidInput.self) { try PNG.decode(PNGTests.png(header: header, idat: [0])) }
        #expect(error.problem.contains("exceeds the limit"))
    }

    @Test func anInvalidFilterTypeIsReported() throws {
        var rows = PNGTests.rawRows(PNG.encode(Fixtures.picture(width: 3, height: 2, channels: 1), compressionLevel: 0))
        rows[4] = 9
        let header: [UInt8] = [0, 0, 0, 3, 0, 0, 0, 2, 8, 0, 0, 0, 0]
        let error = try #require(throws: InvalidInput.self) { try PNG.decode(PNGTests.png(header: header, idat: Compression.deflate(rows))) }
        #expect(error.problem.contains("invalid filter type 9 on row 1"))
    }

    @Test func writingToAFileRoundTrips() throws {
        let folder = try Fixtures.temporaryDirectory("png")
        let image = Fixtures.picture(width: 9, height: 4, channels: 3)
        try image.writePNG(to: folder + "/a.png")
        #expect(try Image(contentsOf: folder + "/a.png") == image)
    }

    /// The offset of the first chunk of `type`.
    func firstChunk(_ type: String, in bytes: [UInt8]) -> Int? {
        var offset = 8
        while offset + 8 <= bytes.count {
            let length = bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | Int($1) }
            if String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self) == type { return offset }
            offset += length + 12
        }
        return nil
    }

    /// The inflated IDAT payload of a single-IDAT file.
    static func rawRows(_ png: [UInt8]) -> [UInt8] {
        let length = png[33..<37].reduce(0) { $0 << 8 | Int($1) }
        return png[41..<(41 + length)].withUnsafeBytes { (try? Compression.inflate($0, framing: .zlib)) ?? [] }
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        let crc = (typeBytes + data).withUnsafeBytes { CRC32.checksum($0) }
        func be(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 255), UInt8(v >> 8 & 255), UInt8(v & 255)] }
        return be(UInt32(data.count)) + typeBytes + data + be(crc)
    }

    static func png(header: [UInt8], idat: [UInt8]) -> [UInt8] {
        PNG.signature + chunk("IHDR", header) + chunk("IDAT", idat) + chunk("IEND", [])
    }
}
