@testable import Runtime
import Tensor
import Testing

/// The gradient all-reduce packs its operands, in order, into buckets that may end inside an
/// operand, and unpacks each bucket back where it came from.
@Suite struct AllReduceKernelTests {
    func run(_ kernel: AllReduceKernel, _ inputs: [[Float]]) throws -> [[Float]] {
        let x = inputs.map { Tensor($0, shape: [$0.count]) }
        let y = inputs.map { Tensor([Float](repeating: .nan, count: $0.count), shape: [$0.count]) }
        let workspace = Tensor(zeros: .float32, [kernel.workspaceBytes / 4])
        try kernel.run(x.map { UnsafeRawPointer($0.rawPointer) }, y.map(\.rawPointer), workspace: workspace.rawPointer, communicator: .solo)
        return y.map(\.floats)
    }

    @Test("buckets of 3 floats over operands of 2, 5 and 1 give every element back (one rank: the mean is the value)")
    func bucketsCrossOperandBoundaries() throws {
        let kernel = AllReduceKernel(counts: [2, 5, 1], ranks: 1, bucketElements: 3)
        #expect(kernel.workspaceBytes == 12)
        let inputs: [[Float]] = [[1, 2], [3, 4, 5, 6, 7], [8]]
        #expect(try run(kernel, inputs) == inputs)
    }

    @Test("one bucket holds all gradients when they fit")
    func oneBucketWhenEverythingFits() throws {
        let kernel = AllReduceKernel(counts: [4, 1], ranks: 1)
        #expect(kernel.workspaceBytes == 20)
        #expect(try run(kernel, [[1, -2, 3, -4], [0.5]]) == [[1, -2, 3, -4], [0.5]])
    }

    @Test("a plan compiled for 2 ranks refuses to run in one process")
    func theRankCountMustMatchTheJob() throws {
        let kernel = AllReduceKernel(counts: [1], ranks: 2)
        #expect(throws: InvalidInput.self) { try run(kernel, [[1]]) }
    }
}
