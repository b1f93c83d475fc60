import Foundation
@testable import Data
import Tensor

/// Paths and helpers shared by the Data tests.
enum Fixtures {
    /// Tests/Fixtures/data, made by scripts/make_data_fixtures.py.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/data").path

    static func path(_ name: String) -> String { directory + "/" + name }

    /// A uint8 reference array written by the fixture script, as its flat values and shape.
    static func reference(_ name: String) throws -> (values: [UInt8], shape: [Int]) {
        let tensor = try NumPyFile.read(path(name))
        return (tensor.int64s.map { UInt8($0) }, tensor.shape.dims)
    }

    /// A fresh empty directory under the system temporary directory.
    static func temporaryDirectory(_ label: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("serkd-data-\(label)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try AtomicFile.write(bytes, to: path)
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Foundation.Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// A gzip file image of `bytes`: zlib's deflate stream re-framed with a gzip header and trailer.
    static func gzip(_ bytes: [UInt8]) -> [UInt8] {
        let zlib = Compression.deflate(bytes)
        let crc = bytes.withUnsafeBytes { CRC32.checksum($0) }
        var out: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]
        out += zlib[2..<(zlib.count - 4)]
        for value in [crc, UInt32(truncatingIfNeeded: bytes.count)] {
            out += (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
        }
        return out
    }

    /// A deterministic test picture with smooth gradients and some texture.
    static func picture(width: Int, height: Int, channels: Int) -> Image {
        var image = Image(width: width, height: height, channels: channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<channels {
                    image[x, y, c] = UInt8((x * 255 / max(width - 1, 1) + y * 37 + c * 80 + (x * y) % 23) % 256)
                }
            }
        }
        return image
    }
}
