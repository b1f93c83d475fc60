import Tensor

/// PNG files (ISO/IEC 15948): decoding every standard colour type, bit depth and both interlace
/// methods to an 8-bit `Image`, and encoding 8-bit images for visualisations.
///
/// Decoding follows libpng/PIL where the format leaves room: 16-bit samples keep their high byte
/// (PIL's `RGB;16B` unpacking, libpng's `png_set_strip_16`), 1/2/4-bit grey is scaled to 0–255,
/// palette images become RGB, or RGBA when a `tRNS` chunk gives the palette alpha, palette indices
/// past the palette read as black, and `tRNS` colour keys on grey/RGB images are ignored (as
/// `convert("RGB")` ignores them). Every chunk's CRC is checked.
public enum PNG {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Decodes a whole PNG file image.
    public static func decode(_ bytes: [UInt8]) throws -> Image {
        try bytes.withUnsafeBytes { try decode($0) }
    }

    /// Decodes a whole PNG file image.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> Image {
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw InvalidInput(nil, "not a PNG file (bad signature)") }
        var cursor = ByteCursor(bytes, offset: 8)
        var header: Header?
        var palette: [UInt8] = []
        var paletteAlpha: [UInt8] = []
        var imageData: [UInt8] = []
        var firstDataOffset: Int?
        var dataEnd = 0
        chunks: while cursor.remaining > 0 {
            let start = cursor.offset
            let length = Int(try cursor.uint32BigEndian(for: "chunk header"))
            let typeBytes = try cursor.slice(4, for: "chunk header")
            let type = String(decoding: typeBytes, as: UTF8.self)
            guard length <= Int(Int32.max) else { throw InvalidInput(nil, "chunk \(type) at byte \(start) declares \(length) bytes (more than 2^31-1)") }
            guard cursor.remaining >= length + 4 else {
                throw InvalidInput(nil, "truncated chunk \(type) at byte \(start): declares \(length) bytes of data, \(max(cursor.remaining - 4, 0)) remain")
            }
            let data = try cursor.slice(length, for: "chunk \(type)")
            let stored = try cursor.uint32BigEndian(for: "chunk CRC")
            var crc = CRC32()
            crc.update(typeBytes)
            crc.update(data)
            let computed = crc.value
            guard stored == computed else {
                throw InvalidInput(nil, "chunk \(type) at byte \(start) has a bad CRC (stored \(hex(stored)), computed \(hex(computed)))")
            }
            if header == nil, type != "IHDR" { throw InvalidInput(nil, "first chunk at byte 8 is \(type), expected IHDR") }
            switch type {
            case "IHDR":
                guard header == nil else { throw InvalidInput(nil, "second IHDR chunk at byte \(start)") }
                header = try Header(data, at: start)
            case "PLTE":
                guard length % 3 == 0, length > 0, length <= 768 else {
                    throw InvalidInput(nil, "PLTE chunk at byte \(start) has \(length) bytes (must be 3 × 1…256)")
                }
                palette = Array(data)
            case "tRNS":
                if header?.colorType == .palette { paletteAlpha = Array(data.prefix(256)) }
            case "IDAT":
                if firstDataOffset == nil { firstDataOffset = start }
                imageData.append(contentsOf: data)
                dataEnd = cursor.offset
            case "IEND":
                break chunks
            default:
                // Bit 5 of the first letter clear marks a chunk a decoder must understand.
                if typeBytes[0] & 0x20 == 0 { throw InvalidInput(nil, "unsupported critical chunk \(type) at byte \(start)") }
            }
        }
        guard let header else { throw InvalidInput(nil, "no IHDR chunk") }
        guard let firstDataOffset else { throw InvalidInput(nil, "no IDAT chunk (no image data)") }
        if header.colorType == .palette, palette.isEmpty { throw InvalidInput(nil, "palette image without a PLTE chunk") }

        let passes = header.passes
        let rawCount = passes.reduce(0) { $0 + $1.height * (1 + $1.rowBytes) }
        // Deflate expands at most 1032-fold: a declared size beyond that is a bomb or a lie, refused
        // before the buffer for it is allocated.
        guard rawCount <= imageData.count * 1032 + 1024 else {
            throw InvalidInput(nil, "\(imageData.count) bytes of image data cannot inflate to the \(rawCount) bytes a \(header.width)×\(header.height) image needs")
        }
        var raw: [UInt8]
        do {
            raw = try imageData.withUnsafeBytes { try Compression.inflate($0, framing: .zlib, exactCount: rawCount) }
        } catch let error as InvalidInput {
            throw InvalidInput(nil, "image data in IDAT chunks at bytes \(firstDataOffset)–\(dataEnd): \(error.problem)")
        }

        let outputChannels = header.colorType == .palette ? (paletteAlpha.isEmpty ? 3 : 4) : header.colorType.channels
        var pixels = [UInt8](repeating: 0, count: header.width * header.height * outputChannels)
        let expander = SampleExpander(header: header, palette: palette, paletteAlpha: paletteAlpha, outputChannels: outputChannels)
        var passStart = 0
        try raw.withUnsafeMutableBufferPointer { rawBuffer in
            try pixels.withUnsafeMutableBufferPointer { out in
                for pass in passes where pass.height > 0 {
                    try unfilter(rawBuffer, start: passStart, rows: pass.height, rowBytes: pass.rowBytes,
                                 bytesPerPixel: header.filterBytesPerPixel)
                    for row in 0..<pass.height {
                        let rowStart = passStart + row * (pass.rowBytes + 1) + 1
                        let y = pass.y0 + row * pass.dy
                        expander.expand(UnsafePointer(rawBuffer.baseAddress! + rowStart), count: pass.width,
                                        into: out.baseAddress! + (y * header.width + pass.x0) * outputChannels,
                                        stride: pass.dx * outputChannels)
                    }
                    passStart += pass.height * (pass.rowBytes + 1)
                }
            }
        }
        return Image(width: header.width, height: header.height, channels: outputChannels, pixels: pixels)
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// Reverses the per-row filters of one pass in place (filter byte, then `rowBytes` bytes per row).
    private static func unfilter(_ raw: UnsafeMutableBufferPointer<UInt8>, start: Int, rows: Int, rowBytes: Int, bytesPerPixel bpp: Int) throws {
        for row in 0..<rows {
            let rowStart = start + row * (rowBytes + 1)
            let filter = raw[rowStart]
            let line = raw.baseAddress! + rowStart + 1
            let previous: UnsafeMutablePointer<UInt8>? = row == 0 ? nil : line - (rowBytes + 1)
            switch filter {
            case 0:
                break
            case 1:
                if rowBytes > bpp { for i in bpp..<rowBytes { line[i] = line[i] &+ line[i - bpp] } }
            case 2:
                if let previous { for i in 0..<rowBytes { line[i] = line[i] &+ previous[i] } }
            case 3:
                for i in 0..<rowBytes {
                    let left = i >= bpp ? Int(line[i - bpp]) : 0
                    let up = previous.map { Int($0[i]) } ?? 0
                    line[i] = line[i] &+ UInt8((left + up) >> 1)
                }
            case 4:
                for i in 0..<rowBytes {
                    let left = i >= bpp ? Int(line[i - bpp]) : 0
                    let up = previous.map { Int($0[i]) } ?? 0
                    let upLeft = i >= bpp ? (previous.map { Int($0[i - bpp]) } ?? 0) : 0
                    line[i] = line[i] &+ UInt8(paeth(left, up, upLeft))
                }
            default:
                throw InvalidInput(nil, "invalid filter type \(filter) on row \(row) of the image data")
            }
        }
    }

    /// The Paeth predictor: whichever of left, up and up-left is closest to left + up − up-left.
    static func paeth(_ a: Int, _ b: Int, _ c: Int) -> Int {
        let p = a + b - c
        let pa = abs(p - a), pb = abs(p - b), pc = abs(p - c)
        if pa <= pb && pa <= pc { return a }
        return pb <= pc ? b : c
    }

    /// The PNG colour types.
    enum ColorType: UInt8 {
        case gray = 0, rgb = 2, palette = 3, grayAlpha = 4, rgba = 6

        var channels: Int {
            switch self {
            case .gray, .palette: 1
            case .grayAlpha: 2
            case .rgb: 3
            case .rgba: 4
            }
        }
    }

    /// The IHDR fields, validated.
    struct Header {
        let width: Int
        let height: Int
        let bitDepth: Int
        let colorType: ColorType
        let interlaced: Bool

        init(_ data: UnsafeRawBufferPointer, at offset: Int) throws {
            guard data.count == 13 else { throw InvalidInput(nil, "IHDR chunk at byte \(offset) has \(data.count) bytes, expected 13") }
            var cursor = ByteCursor(data)
            width = Int(try cursor.uint32BigEndian(for: "IHDR"))
            height = Int(try cursor.uint32BigEndian(for: "IHDR"))
            bitDepth = Int(try cursor.uint8(for: "IHDR"))
            let colorCode = try cursor.uint8(for: "IHDR")
            let compression = try cursor.uint8(for: "IHDR")
            let filter = try cursor.uint8(for: "IHDR")
            let interlace = try cursor.uint8(for: "IHDR")
            guard let colorType = ColorType(rawValue: colorCode) else { throw InvalidInput(nil, "invalid PNG colour type \(colorCode)") }
            let allowed: [Int] = switch colorType {
            case .gray: [1, 2, 4, 8, 16]
            case .palette: [1, 2, 4, 8]
            case .rgb, .grayAlpha, .rgba: [8, 16]
            }
            guard allowed.contains(bitDepth) else { throw InvalidInput(nil, "invalid bit depth \(bitDepth) for PNG colour type \(colorCode)") }
            guard compression == 0, filter == 0 else { throw InvalidInput(nil, "unknown PNG compression (\(compression)) or filter method (\(filter))") }
            guard interlace <= 1 else { throw InvalidInput(nil, "unknown PNG interlace method \(interlace)") }
            guard width <= Int(Int32.max), height <= Int(Int32.max) else { throw InvalidInput(nil, "PNG size \(width)×\(height) exceeds 2^31-1") }
            try Image.validateDimensions(width: width, height: height, channels: 1)
            self.colorType = colorType
            interlaced = interlace == 1
        }

        var bitsPerPixel: Int { bitDepth * colorType.channels }
        /// The byte distance the Sub/Average/Paeth filters look back (at least one byte).
        var filterBytesPerPixel: Int { max(1, bitsPerPixel / 8) }

        /// The sub-images stored one after another: one for a plain image, seven for Adam7.
        var passes: [Pass] {
            let layout: [(x0: Int, y0: Int, dx: Int, dy: Int)] = interlaced
                ? [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
                : [(0, 0, 1, 1)]
            return layout.map { p in
                let w = width > p.x0 ? (width - p.x0 + p.dx - 1) / p.dx : 0
                let h = height > p.y0 ? (height - p.y0 + p.dy - 1) / p.dy : 0
                return Pass(x0: p.x0, y0: p.y0, dx: p.dx, dy: p.dy, width: w, height: w == 0 ? 0 : h,
                            rowBytes: (w * bitsPerPixel + 7) / 8)
            }
        }
    }

    /// One (sub-)image: its pixels land at (x0 + i·dx, y0 + j·dy).
    struct Pass {
        let x0, y0, dx, dy, width, height, rowBytes: Int
    }

    /// Turns one unfiltered row of samples at the file's depth into 8-bit output pixels.
    struct SampleExpander {
        let header: Header
        let palette: [UInt8]
        let paletteAlpha: [UInt8]
        let outputChannels: Int

        func expand(_ row: UnsafePointer<UInt8>, count: Int, into out: UnsafeMutablePointer<UInt8>, stride: Int) {
            let channels = header.colorType.channels
            switch (header.colorType, header.bitDepth) {
            case (.palette, _):
                let entries = palette.count / 3
                for i in 0..<count {
                    let index = sample(row, i, depth: header.bitDepth)
                    let pixel = out + i * stride
                    if index < entries {
                        pixel[0] = palette[3 * index]; pixel[1] = palette[3 * index + 1]; pixel[2] = palette[3 * index + 2]
                    } else {
                        pixel[0] = 0; pixel[1] = 0; pixel[2] = 0
                    }
                    if outputChannels == 4 { pixel[3] = index < paletteAlpha.count ? paletteAlpha[index] : 255 }
                }
            case (_, 8):
                if stride == channels {
                    out.update(from: row, count: count * channels)
                } else {
                    for i in 0..<count { (out + i * stride).update(from: row + i * channels, count: channels) }
                }
            case (_, 16):
                for i in 0..<count {
                    for c in 0..<channels { out[i * stride + c] = row[(i * channels + c) * 2] }
                }
            default:
                // 1, 2 or 4-bit grey, scaled so the largest value is 255.
                let scale = 255 / ((1 << header.bitDepth) - 1)
                for i in 0..<count { out[i * stride] = UInt8(sample(row, i, depth: header.bitDepth) * scale) }
            }
        }

        /// The `i`th packed sample of a row of 1/2/4/8-bit samples (most significant bits first).
        private func sample(_ row: UnsafePointer<UInt8>, _ i: Int, depth: Int) -> Int {
            if depth == 8 { return Int(row[i]) }
            let perByte = 8 / depth
            let byte = Int(row[i / perByte])
            let shift = 8 - depth * (i % perByte + 1)
            return (byte >> shift) & ((1 << depth) - 1)
        }
    }
}
