import Compiler
import FuzzInput
import GraphIR

/// `.serkd` model reading of arbitrary bytes (container, header, graph verification), then
/// compiling what reads (every pass, lowering, memory planning), as `serkd-compile model` does.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzModel(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    guard let graph = try? ModelFile.read(InputFile.write(start, count)) else { return 0 }
    _ = try? Pipeline.compile(graph)
    return 0
}
