import Tensor

/// `.npy` decoding of arbitrary bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNumPy(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    _ = try? NumPyFile.decode(UnsafeRawBufferPointer(start: start, count: count))
    return 0
}
