import GraphIR
import Reference
@testable import Runtime
import Tensor
import Testing

/// Runs `kernel` the way the executor does (operands and results in node order, a workspace of its
/// size) on `inputs`, with results typed by shape inference for `op` and pre-filled with NaN (or
/// 0x55 bytes) so an element the kernel forgets to write shows up.
func runGradient(_ kernel: GradientKernel, _ op: Op, _ inputs: [Tensor]) throws -> [Tensor] {
    let types = try op.outputTypes(for: inputs.map { TensorType($0.dtype, $0.shape) })
    let results = types.map { type -> Tensor in
        let tensor = Tensor(zeros: type.dtype, type.shape)
        if type.dtype == .float32 {
            tensor.f32.update(repeating: .nan, count: type.shape.elementCount)
        } else {
            tensor.rawPointer.initializeMemory(as: UInt8.self, repeating: 0x55, count: tensor.byteCount)
        }
        return tensor
    }
    try withWorkspace(kernel.workspaceBytes) { workspace in
        try kernel.run(inputs.map { UnsafeRawPointer($0.rawPointer) }, results.map(\.rawPointer), workspace: workspace)
    }
    return results
}

@Suite struct GradientKernelTests {
    @Test("only the convolution and layer-norm gradients ask for scratch memory, sized by their geometry")
    func workspaces() {
        let conv = Conv2DGradient.Geometry(input: [2, 8, 9, 9], weight: [4, 8, 3, 3], pads: [1, 1, 1, 1], slots: 2)
        #expect(GradientKernel.convBackwardData(conv).workspaceBytes == 2 * 8 * 9 * 81 * 4)
        // Two images, one block of 72 patch rows: each image is a run of its own, the second with a
        // partial dW.
        #expect(conv.weightImageRuns == 2)
        #expect(GradientKernel.convBackwardWeight(conv).workspaceBytes == (4 * 72 + 2 * 72 * 81) * 4)
        let pointwise = Conv2DGradient.Geometry(input: [2, 8, 9, 9], weight: [4, 8, 1, 1], slots: 2)
        #expect(GradientKernel.convBackwardData(pointwise).workspaceBytes == 0)
        #expect(GradientKernel.convBackwardWeight(pointwise).workspaceBytes == 4 * 8 * 4)
        let depthwise = Conv2DGradient.Geometry(input: [2, 8, 9, 9], weight: [8, 1, 3, 3], pads: [1, 1, 1, 1], groups: 8, slots: 2)
        #expect(GradientKernel.convBackwardData(depthwise).workspaceBytes == 8 * 9 * 4, "the flipped filters")
        #expect(GradientKernel.convBackwardWeight(depthwise).workspaceBytes == 0)
        let layerNorm = Normalization.LayerNormGradientGeometry(rows: 300, columns: 16, scaleCount: 8)
        #expect(layerNorm.blocks == 2)
        #expect(GradientKernel.layerNormBackward(layerNorm).workspaceBytes == 2 * 2 * 8 * 4)
        #expect(GradientKernel.unaryBackward(.relu, count: 10).workspaceBytes == 0)
    }

    @Test("the weight gradient splits the batch into runs only as far as 16 items and 16 MiB of partial sums allow")
    func weightRuns() {
        func runs(_ input: [Int], _ weight: [Int], groups: Int = 1) -> Int {
            Conv2DGradient.Geometry(input: input, weight: weight, pads: [1, 1, 1, 1], groups: groups).weightImageRuns
        }
        #expect(runs([8, 64, 56, 56], [64, 64, 3, 3]) == 6)      // 3 blocks of 192 rows
        #expect(runs([8, 512, 7, 7], [512, 512, 3, 3]) == 1)     // 18 blocks already
        #expect(runs([64, 512, 7, 7], [2048, 512, 1, 1]) == 5)   // 2 blocks; 4 partials of 4 MiB
        #expect(runs([3, 8, 5, 5], [8, 8, 3, 3]) == 3)           // no more runs than images
    }

    @Test("the layer-norm gradient splits many rows into at most 64 blocks, fixed by the shape alone")
    func layerNormBlocks() {
        let vit = Normalization.LayerNormGradientGeometry(rows: 64 * 197, columns: 768, scaleCount: 768)
        #expect(vit.blocks <= 64 && vit.rowsPerBlock * vit.blocks >= vit.rows)
        #expect(Normalization.LayerNormGradientGeometry(rows: 3, columns: 5, scaleCount: 5).blocks == 1)
    }
}
