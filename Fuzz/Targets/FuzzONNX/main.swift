import FuzzInput
import ONNX

/// ONNX import of arbitrary bytes: protobuf parsing, lowering, folding, shape inference.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzONNX(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    _ = try? ONNXImport.graph(fromFile: InputFile.write(start, count))
    return 0
}
