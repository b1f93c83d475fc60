import GraphIR
import Runtime
import Tensor
import Testing

/// One convolution to check: shapes, geometry and the fused work.
struct ConvolutionCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: [Int]
    var weight: [Int]
    var strides = [1, 1]
    var pads = [0, 0, 0, 0]
    var dilations = [1, 1]
    var groups = 1
    var bias = false
    var activation: UnaryFunction?
    var algorithm: Conv2D.Algorithm

    var testDescription: String { name }
}

@Suite struct ConvolutionTests {
    static let cases: [ConvolutionCase] = [
        ConvolutionCase(name: "3×3 pad 1", input: [1, 5, 9, 11], weight: [7, 5, 3, 3], pads: [1, 1, 1, 1], bias: true,
                        algorithm: .im2col),
        ConvolutionCase(name: "1×1 pointwise, bias and relu", input: [2, 6, 5, 7], weight: [4, 6, 1, 1], bias: true,
                        activation: .relu, algorithm: .pointwise),
        ConvolutionCase(name: "1×1 stride 2", input: [1, 4, 9, 9], weight: [3, 4, 1, 1], strides: [2, 2], algorithm: .im2col),
        ConvolutionCase(name: "a batch split by images across threads", input: [5, 6, 7, 9], weight: [4, 3, 3, 3],
                        pads: [1, 1, 1, 1], groups: 2, bias: true, activation: .relu, algorithm: .im2col),
        ConvolutionCase(name: "pointwise batch split by images", input: [6, 4, 5, 5], weight: [8, 4, 1, 1], bias: true,
                        algorithm: .pointwise),
        ConvolutionCase(name: "7×7 stride 2 pad 3, odd size", input: [1, 3, 23, 19], weight: [5, 3, 7, 7], strides: [2, 2],
                        pads: [3, 3, 3, 3], algorithm: .im2col),
        ConvolutionCase(name: "grouped, dilated, asymmetric pads", input: [2, 4, 10, 12], weight: [6, 2, 3, 3],
                        pads: [2, 1, 0, 3], dilations: [2, 2], groups: 2, bias: true, activation: .hardSwish,
                        algorithm: .im2col),
        ConvolutionCase(name: "stride larger than the kernel", input: [1, 3, 11, 10], weight: [2, 3, 2, 2], strides: [3, 3],
                        algorithm: .im2col),
        ConvolutionCase(name: "depthwise 3×3, width 13, hardSwish", input: [2, 5, 9, 13], weight: [5, 1, 3, 3],
                        pads: [1, 1, 1, 1], groups: 5, bias: true, activation: .hardSwish, algorithm: .depthwise),
        ConvolutionCase(name: "depthwise stride 2, asymmetric pads", input: [1, 3, 12, 15], weight: [3, 1, 3, 3],
                        strides: [2, 2], pads: [0, 1, 1, 0], groups: 3, algorithm: .depthwise),
        ConvolutionCase(name: "depthwise 5×5 dilation 2", input: [1, 4, 14, 17], weight: [4, 1, 5, 5], pads: [4, 4, 4, 4],
                        dilations: [2, 2], groups: 4, bias: true, algorithm: .depthwise),
        ConvolutionCase(name: "depthwise with channel multiplier 2", input: [1, 3, 8, 8], weight: [6, 1, 3, 3],
                        pads: [1, 1, 1, 1], groups: 3, algorithm: .depthwise),
        ConvolutionCase(name: "depthwise window wider than the row", input: [1, 2, 4, 2], weight: [2, 1, 3, 5],
                        pads: [1, 3, 1, 3], groups: 2, algorithm: .depthwise),
        ConvolutionCase(name: "depthwise 7×7 stride 3 dilation 2", input: [1, 2, 20, 23], weight: [2, 1, 7, 7],
                        strides: [3, 3], pads: [5, 6, 5, 6], dilations: [2, 2], groups: 2, algorithm: .depthwise),
    ]

    @Test("every strategy matches the float64 reference convolution", arguments: cases)
    func matchesReference(c: ConvolutionCase) throws {
        var noise = Noise(seed: 11)
        let x = noise.tensor(Shape(c.input)), w = noise.tensor(Shape(c.weight))
        let bias = c.bias ? noise.tensor([c.weight[0]]) : nil
        let geometry = Conv2D.Geometry(input: c.input, weight: c.weight, strides: c.strides, pads: c.pads,
                                       dilations: c.dilations, groups: c.groups, hasBias: c.bias, activation: c.activation)
        #expect(geometry.algorithm == c.algorithm)
        let op = Op.conv(Convolution(strides: c.strides, pads: c.pads, dilations: c.dilations, groups: c.groups))
        let inputs = [x, w] + (bias.map { [$0] } ?? [])
        let shape = try outputShape(op, inputs)
        #expect([geometry.batch, geometry.outputChannels, geometry.outputHeight, geometry.outputWidth] == shape.dims)
        let y = Tensor(zeros: .float32, shape)
        withWorkspace(geometry.workspaceBytes) { workspace in
            Conv2D.run(geometry, input: x.f32, weight: w.f32, bias: bias?.f32, output: y.f32, workspace: workspace)
        }
        var expected = try reference(op, inputs)
        if let activation = c.activation { expected = try reference(.unary(activation), [expected]) }
        expectClose(y, expected, tolerance: 1e-5)
    }

    @Test("the workspace holds one group's unfolded patches per thread working on images of its own")
    func workspaceSize() {
        let patches = 64 * 9 * 14 * 14 * 4
        #expect(Conv2D.Geometry(input: [1, 64, 14, 14], weight: [64, 64, 3, 3], pads: [1, 1, 1, 1]).workspaceBytes == patches)
        let batched = Conv2D.Geometry(input: [8, 64, 14, 14], weight: [64, 64, 3, 3], pads: [1, 1, 1, 1])
        #expect(batched.parallelOverImages == (8 >= 2 * Parallel.threadCount))
        #expect(batched.workspaceBytes == (batched.parallelOverImages ? min(8, Parallel.threadCount) : 1) * patches)
        let large = Conv2D.Geometry(input: [8, 64, 56, 56], weight: [64, 64, 3, 3], pads: [1, 1, 1, 1])
        #expect(!large.parallelOverImages && large.workspaceBytes == 64 * 9 * 56 * 56 * 4)
        #expect(Conv2D.Geometry(input: [1, 32, 112, 112], weight: [32, 1, 3, 3], pads: [1, 1, 1, 1], groups: 32).workspaceBytes == 0)
        #expect(Conv2D.Geometry(input: [8, 64, 56, 56], weight: [64, 64, 1, 1]).workspaceBytes == 0)
    }
}
