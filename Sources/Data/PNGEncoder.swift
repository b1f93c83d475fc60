import Tensor

extension PNG {
    /// The PNG file image of an 8-bit grey (1), grey+alpha (2), RGB (3) or RGBA (4) image.
    ///
    /// Each row gets the filter with the smallest sum of absolute filtered bytes (libpng's default
    /// heuristic), and the rows are deflated by zlib at `compressionLevel` (0–9).
    public static func encode(_ image: Image, compressionLevel: Int = 6) -> [UInt8] {
        precondition((0...9).contains(compressionLevel), "zlib compression level \(compressionLevel) is not in 0…9")
        precondition(image.width > 0 && image.height > 0, "PNG cannot hold an empty image")
        let colorType: ColorType = switch image.channels {
        case 1: .gray
        case 2: .grayAlpha
        case 3: .rgb
        default: .rgba
        }
        var header: [UInt8] = []
        appendBigEndian(UInt32(image.width), to: &header)
        appendBigEndian(UInt32(image.height), to: &header)
        header += [8, colorType.rawValue, 0, 0, 0]

        var bytes = signature
        appendChunk("IHDR", header, to: &bytes)
        appendChunk("IDAT", Compression.deflate(filteredRows(image), level: Int32(compressionLevel)), to: &bytes)
        appendChunk("IEND", [], to: &bytes)
        return bytes
    }

    /// Writes `image` as a PNG file at `path` (atomically).
    public static func write(_ image: Image, to path: String) throws {
        try AtomicFile.write(encode(image), to: path)
    }

    /// Every row prefixed by its filter type and filtered.
    private static func filteredRows(_ image: Image) -> [UInt8] {
        let rowBytes = image.width * image.channels
        let bpp = image.channels
        var output = [UInt8](repeating: 0, count: image.height * (rowBytes + 1))
        var candidates = [UInt8](repeating: 0, count: 5 * rowBytes)
        image.pixels.withUnsafeBufferPointer { pixels in
            candidates.withUnsafeMutableBufferPointer { candidate in
                output.withUnsafeMutableBufferPointer { out in
                    for y in 0..<image.height {
                        let line = pixels.baseAddress! + y * rowBytes
                        let previous: UnsafePointer<UInt8>? = y == 0 ? nil : line - rowBytes
                        var costs = [0, 0, 0, 0, 0]
                        for i in 0..<rowBytes {
                            let value = line[i]
                            let left = i >= bpp ? line[i - bpp] : 0
                            let up = previous?[i] ?? 0
                            let upLeft = i >= bpp ? (previous?[i - bpp] ?? 0) : 0
                            let filtered: (UInt8, UInt8, UInt8, UInt8, UInt8) = (
                                value, value &- left, value &- up, value &- UInt8((Int(left) + Int(up)) >> 1),
                                value &- UInt8(paeth(Int(left), Int(up), Int(upLeft))))
                            candidate[i] = filtered.0
                            candidate[rowBytes + i] = filtered.1
                            candidate[2 * rowBytes + i] = filtered.2
                            candidate[3 * rowBytes + i] = filtered.3
                            candidate[4 * rowBytes + i] = filtered.4
                            // Cost: the filtered bytes read as signed, summed in magnitude.
                            costs[0] += abs(Int(Int8(bitPattern: filtered.0)))
                            costs[1] += abs(Int(Int8(bitPattern: filtered.1)))
                            costs[2] += abs(Int(Int8(bitPattern: filtered.2)))
                            costs[3] += abs(Int(Int8(bitPattern: filtered.3)))
                            costs[4] += abs(Int(Int8(bitPattern: filtered.4)))
                        }
                        let best = costs.indices.min { costs[$0] < costs[$1] }!
                        let row = out.baseAddress! + y * (rowBytes + 1)
                        row[0] = UInt8(best)
                        (row + 1).update(from: candidate.baseAddress! + best * rowBytes, count: rowBytes)
                    }
                }
            }
        }
        return output
    }

    private static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)]
    }

    private static func appendChunk(_ type: String, _ data: [UInt8], to bytes: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        appendBigEndian(UInt32(data.count), to: &bytes)
        bytes += typeBytes
        bytes += data
        let crc = (typeBytes + data).withUnsafeBytes { CRC32.checksum($0) }
        appendBigEndian(crc, to: &bytes)
    }
}
