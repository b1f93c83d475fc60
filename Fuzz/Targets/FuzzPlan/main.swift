import Compiler
import FuzzInput
import Runtime
import Tensor

/// Plan reading and validation of arbitrary bytes, with a mutator that keeps the CRC-32 trailer
/// valid: most mutants get past the checksum to the header, the kernels' JSON and `Plan.validate`,
/// which is what a forged plan attacks. A plan that is accepted is dumped (as `serkd-compile
/// inspect --dump` does) and run on zero inputs, so AddressSanitizer sees any kernel that a plan
/// passing validation could still make reach outside its buffers.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPlan(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    guard let file = try? PlanFile.read(InputFile.write(start, count)) else { return 0 }
    let plan = file.plan
    _ = PlanDump.text(plan)
    let inputs = plan.inputs.map { Tensor(zeros: plan.buffers[$0.index].dtype, plan.buffers[$0.index].shape) }
    _ = try? Executor(plan).run(inputs)
    return 0
}

@_silgen_name("LLVMFuzzerMutate")
func mutate(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int) -> Int

/// libFuzzer's own mutation of everything before the trailer, then the trailer recomputed over it.
@_cdecl("LLVMFuzzerCustomMutator")
public func mutatePlan(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int, _ seed: UInt32) -> Int {
    guard size > 4, maxSize > 4 else { return mutate(data, size, maxSize) }
    let body = mutate(data, size - 4, maxSize - 4)
    let crc = CRC32.checksum(UnsafeRawBufferPointer(start: data, count: body))
    withUnsafeBytes(of: crc.littleEndian) { UnsafeMutableRawPointer(data + body).copyMemory(from: $0.baseAddress!, byteCount: 4) }
    return body + 4
}
