import FuzzInput
import ONNX

/// safetensors reading of arbitrary bytes: header length, JSON, offsets.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    _ = try? SafeTensors.read(InputFile.write(start, count))
    return 0
}
