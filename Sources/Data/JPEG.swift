import CJPEG
import Tensor

/// JPEG decoding through libjpeg-turbo, with PIL's behaviour: ISLOW DCT and fancy upsampling (the
/// library defaults PIL also uses), grey stays one channel, CMYK/YCCK becomes RGB as PIL's
/// `convert("RGB")` computes it, and data ending before the image does is an error (PIL's "image
/// file is truncated") rather than a grey-padded picture.
public enum JPEG {
    /// Decodes a whole JPEG file image to a 1-channel (grey) or 3-channel (RGB) image.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> Image {
        guard bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8 else { throw InvalidInput(nil, "not a JPEG file (no SOI marker)") }
        let data = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var info = serkd_jpeg_info()
        var error = serkd_jpeg_error()
        guard serkd_jpeg_read_header(data, bytes.count, &info, &error) == 0 else { throw failure(error, size: bytes.count) }
        let width = Int(info.width), height = Int(info.height), channels = Int(info.channels)
        try Image.validateDimensions(width: width, height: height, channels: channels)
        guard channels == 1 || channels == 3 || channels == 4 else { throw InvalidInput(nil, "unsupported JPEG with \(channels) colour components") }
        var pixels = [UInt8](repeating: 0, count: width * height * channels)
        let status = pixels.withUnsafeMutableBufferPointer { out in
            serkd_jpeg_decode(data, bytes.count, out.baseAddress, out.count, &error)
        }
        guard status == 0 else { throw failure(error, size: bytes.count) }
        let image = Image(width: width, height: height, channels: channels, pixels: pixels)
        return channels == 4 ? rgb(fromCMYK: image, inverted: info.inverted_cmyk != 0) : image
    }

    /// Decodes a whole JPEG file image.
    public static func decode(_ bytes: [UInt8]) throws -> Image {
        try bytes.withUnsafeBytes { try decode($0) }
    }

    private static func failure(_ error: serkd_jpeg_error, size: Int) -> InvalidInput {
        let message = withUnsafeBytes(of: error.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let offset = Int(error.offset)
        if offset >= size, message.contains("Premature end") {
            return InvalidInput(nil, "truncated JPEG data at byte \(offset) (\(message))")
        }
        return InvalidInput(nil, "corrupt JPEG data at byte \(offset): \(message)")
    }

    /// PIL's CMYK → RGB: R = (255 − K) − (C·(255 − K))/255 with PIL's rounding division, where
    /// Adobe files store every sample inverted.
    private static func rgb(fromCMYK image: Image, inverted: Bool) -> Image {
        var out = [UInt8](repeating: 0, count: image.width * image.height * 3)
        for i in 0..<(image.width * image.height) {
            let sample = { (c: Int) -> Int in
                let value = Int(image.pixels[i * 4 + c])
                return inverted ? 255 - value : value
            }
            let notK = 255 - sample(3)
            for c in 0..<3 {
                let product = sample(c) * notK + 128
                out[i * 3 + c] = UInt8(clamping: notK - (((product >> 8) + product) >> 8))
            }
        }
        return Image(width: image.width, height: image.height, channels: 3, pixels: out)
    }
}
