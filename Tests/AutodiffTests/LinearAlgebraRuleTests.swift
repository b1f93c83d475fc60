import Autodiff
import GraphIR
import Testing

@Suite("Autodiff: matMul and conv rules match finite differences")
struct LinearAlgebraRuleTests {
    static let flags = [MatMul(), MatMul(transposeB: true), MatMul(transposeA: true), MatMul(transposeA: true, transposeB: true)]

    @Test("matMul with transposes and broadcast batch axes [2,1] × [3]", arguments: flags)
    func matMul(_ flags: MatMul) throws {
        let (m, k, n) = (3, 4, 2)
        let a = TensorType(.float32, Shape([2, 1] + (flags.transposeA ? [k, m] : [m, k])))
        let b = TensorType(.float32, Shape([3] + (flags.transposeB ? [n, k] : [k, n])))
        try checkGradients(GradientCase(.matMul(flags), [a, b]), withRespectTo: ["x0", "x1"])
    }

    @Test("a linear layer's weight gradient is one product over the flattened batch", arguments: [false, true])
    func linearLayer(transposeB: Bool) throws {
        let a = TensorType(.float32, [2, 3, 4]), b = TensorType(.float32, transposeB ? [5, 4] : [4, 5])
        let checked = try checkGradients(GradientCase(.matMul(MatMul(transposeB: transposeB)), [a, b]), withRespectTo: ["x0", "x1"])
        let weightGradient = checked.gradients[checked.graph.value(named: "x1")!]!
        let producer = try #require(checked.graph.nodes.first { $0.outputs.contains(weightGradient) })
        #expect(producer.op == .matMul(MatMul(transposeA: true)))
        #expect(producer.inputs.allSatisfy { checked.graph.type(of: $0).shape.rank == 2 })
    }

    @Test("matMul of a matrix by a batch of matrices sums the left gradient over the batch")
    func broadcastLeftOperand() throws {
        try checkGradients(GradientCase(.matMul(MatMul()), [TensorType(.float32, [3, 4]), TensorType(.float32, [2, 4, 5])]),
                           withRespectTo: ["x0", "x1"])
    }

    @Test("conv with stride 2, asymmetric padding, dilation, two groups and a bias")
    func convolution() throws {
        let geometry = Convolution(strides: [2, 2], pads: [1, 0, 2, 1], dilations: [2, 1], groups: 2)
        let types = [TensorType(.float32, [1, 4, 7, 6]), TensorType(.float32, [4, 2, 3, 2]), TensorType(.float32, [4])]
        try checkGradients(GradientCase(.conv(geometry), types), withRespectTo: ["x0", "x1", "x2"])
    }

    @Test("depthwise conv (groups = channels, two filters each) with unequal strides")
    func depthwise() throws {
        let geometry = Convolution(strides: [2, 1], pads: [1, 1, 1, 1], dilations: [1, 1], groups: 3)
        let types = [TensorType(.float32, [2, 3, 5, 5]), TensorType(.float32, [6, 1, 3, 3])]
        try checkGradients(GradientCase(.conv(geometry), types), withRespectTo: ["x0", "x1"])
    }
}
