import CZlib
import Tensor

/// zlib's inflate and deflate behind byte-array APIs, for PNG, gzip and `.npz` members.
///
/// Every inflate has an output limit, so a small hostile file cannot make us allocate gigabytes.
enum Compression {
    /// How data is framed around the deflate stream.
    enum Framing {
        /// RFC 1950 (PNG image data).
        case zlib
        /// RFC 1951 with no header (zip entries).
        case raw
        /// RFC 1952; concatenated members are decoded one after another, as gunzip does.
        case gzip
    }

    /// The largest a gzip file may inflate to (4 GiB; MNIST-style datasets are far smaller), so a
    /// compression bomb fails instead of exhausting memory.
    static let defaultInflateLimit = 1 << 32

    /// Inflates the whole of `input`. With `exactCount`, the output must be exactly that long (the
    /// buffer is allocated once); otherwise it grows up to `limit` bytes.
    static func inflate(_ input: UnsafeRawBufferPointer, framing: Framing, exactCount: Int? = nil,
                        limit: Int = defaultInflateLimit) throws -> [UInt8] {
        // zlib's state points back at its z_stream, so the stream needs an address that cannot move.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        let windowBits: Int32 = switch framing {
        case .zlib: 15
        case .raw: -15
        case .gzip: 15 + 16
        }
        guard inflateInit2_(stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw InvalidInput(nil, "cannot initialise zlib")
        }
        defer { inflateEnd(stream) }

        let cap = exactCount ?? limit
        var output = [UInt8](repeating: 0, count: exactCount ?? min(limit, max(4096, input.count * 4)))
        var produced = 0
        var consumed = 0
        while true {
            if produced == output.count {
                // A full exact-size buffer means the data is complete; surplus is ignored, as libpng does.
                if exactCount != nil { return output }
                guard output.count < cap else { throw InvalidInput(nil, "compressed data inflates to more than \(cap) bytes") }
                output += [UInt8](repeating: 0, count: min(output.count, cap - output.count))
            }
            let inputChunk = min(input.count - consumed, Int(UInt32.max >> 1))
            let outputChunk = min(output.count - produced, Int(UInt32.max >> 1))
            let status: Int32 = output.withUnsafeMutableBytes { out in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) + consumed })
                stream.pointee.avail_in = UInt32(inputChunk)
                stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self) + produced
                stream.pointee.avail_out = UInt32(outputChunk)
                return CZlib.inflate(stream, Z_NO_FLUSH)
            }
            consumed += inputChunk - Int(stream.pointee.avail_in)
            produced += outputChunk - Int(stream.pointee.avail_out)
            switch status {
            case Z_STREAM_END:
                // Another gzip member may follow (`cat a.gz b.gz`); anything else after the end is ignored.
                if framing == .gzip, input.count - consumed >= 2, input[consumed] == 0x1f, input[consumed + 1] == 0x8b {
                    inflateReset(stream)
                    continue
                }
                if let exactCount, produced != exactCount {
                    throw InvalidInput(nil, "compressed data holds \(produced) bytes, expected \(exactCount)")
                }
                return produced == output.count ? output : Array(output[0..<produced])
            case Z_OK:
                continue
            case Z_BUF_ERROR where consumed == input.count && produced < output.count:
                throw InvalidInput(nil, "compressed data ends early (stream cut off after \(produced) bytes of output)")
            case Z_BUF_ERROR:
                continue
            default:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "error \(status)"
                throw InvalidInput(nil, "corrupt compressed data (\(reason)) after \(consumed) compressed bytes")
            }
        }
    }

    /// Deflates `input` in zlib framing at `level` (0–9).
    static func deflate(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        var bound = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(bound))
        let status = output.withUnsafeMutableBufferPointer { out in
            input.withUnsafeBufferPointer { source in
                compress2(out.baseAddress, &bound, source.baseAddress, uLong(source.count), level)
            }
        }
        precondition(status == Z_OK, "compress2 failed with \(status)")
        return Array(output[0..<Int(bound)])
    }
}
