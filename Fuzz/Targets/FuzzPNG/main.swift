import Data
import Tensor

/// PNG decoding of arbitrary bytes: chunks, inflate, unfiltering, interlacing. The mutator fixes
/// every chunk's CRC after mutating, so mutants reach the decoder past the CRC check.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    _ = try? PNG.decode(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}

@_silgen_name("LLVMFuzzerMutate")
func mutate(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int) -> Int

/// libFuzzer's mutation, then the CRC of each chunk that lies wholly inside the data recomputed.
@_cdecl("LLVMFuzzerCustomMutator")
public func mutatePNG(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int, _ seed: UInt32) -> Int {
    let size = mutate(data, size, maxSize)
    var offset = 8
    while offset + 12 <= size {
        let length = (0..<4).reduce(0) { $0 << 8 | Int(data[offset + $1]) }
        guard length <= size - offset - 12 else { break }
        let crc = CRC32.checksum(UnsafeRawBufferPointer(start: data + offset + 4, count: length + 4))
        for i in 0..<4 { data[offset + 8 + length + i] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * i)) }
        offset += 12 + length
    }
    return size
}
