import Data

/// JPEG decoding of arbitrary bytes through libjpeg-turbo and its error wrapper.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    _ = try? JPEG.decode(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
