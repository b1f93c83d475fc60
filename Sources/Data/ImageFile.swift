import Tensor

extension Image {
    /// Reads a PNG or JPEG file, recognised by its first bytes rather than its name. Problems name
    /// the file: `photo.jpg: truncated JPEG data at byte 5120 (…)`.
    public init(contentsOf path: String) throws {
        let file = try MappedFile(path: path)
        do {
            self = try file.withUnsafeBytes { try Image.decode($0) }
        } catch let error as InvalidInput {
            throw error.about(path)
        }
    }

    /// Decodes a PNG or JPEG file image, recognised by its signature.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> Image {
        if bytes.count >= 8, Array(bytes[0..<8]) == PNG.signature { return try PNG.decode(bytes) }
        if bytes.count >= 2, bytes[0] == 0xFF, bytes[1] == 0xD8 { return try JPEG.decode(bytes) }
        throw InvalidInput(nil, "not a PNG or JPEG file (unrecognised signature)")
    }

    /// Writes the image as a PNG file at `path` (atomically).
    public func writePNG(to path: String) throws {
        try PNG.write(self, to: path)
    }
}
