import GraphIR
import Reference
@testable import Runtime
import Tensor
import Testing

/// One convolution whose gradients to check.
struct ConvolutionGradientCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: [Int]
    var weight: [Int]
    var strides = [1, 1]
    var pads = [0, 0, 0, 0]
    var dilations = [1, 1]
    var groups = 1
    var algorithm: Conv2D.Algorithm
    /// Backward data runs the forward depthwise kernel on dY with flipped filters.
    var flipped = false

    var testDescription: String { name }
    var convolution: Convolution { Convolution(strides: strides, pads: pads, dilations: dilations, groups: groups) }

    func geometry(slots: Int) -> Conv2DGradient.Geometry {
        Conv2DGradient.Geometry(input: input, weight: weight, strides: strides, pads: pads, dilations: dilations, groups: groups,
                                slots: slots)
    }
}

@Suite struct GradientConvolutionTests {
    static let cases: [ConvolutionGradientCase] = [
        ConvolutionGradientCase(name: "3×3 pad 1, batch 3", input: [3, 5, 9, 11], weight: [7, 5, 3, 3], pads: [1, 1, 1, 1],
                                algorithm: .im2col),
        ConvolutionGradientCase(name: "stride 2, dilation 2, 2 groups, asymmetric pads", input: [2, 4, 13, 12], weight: [6, 2, 3, 3],
                                strides: [2, 2], pads: [2, 1, 0, 3], dilations: [2, 2], groups: 2, algorithm: .im2col),
        ConvolutionGradientCase(name: "7×7 stride 2 pad 3, odd size", input: [2, 3, 23, 19], weight: [5, 3, 7, 7], strides: [2, 2],
                                pads: [3, 3, 3, 3], algorithm: .im2col),
        ConvolutionGradientCase(name: "stride larger than the kernel (some inputs get no gradient)", input: [1, 3, 11, 10],
                                weight: [2, 3, 2, 2], strides: [3, 3], algorithm: .im2col),
        ConvolutionGradientCase(name: "40 channels: several channel blocks and patch-row blocks", input: [2, 40, 6, 5],
                                weight: [9, 40, 3, 3], pads: [1, 1, 1, 1], algorithm: .im2col),
        ConvolutionGradientCase(name: "1×1 stride 2", input: [2, 4, 9, 9], weight: [3, 4, 1, 1], strides: [2, 2], algorithm: .im2col),
        ConvolutionGradientCase(name: "1×1 pointwise, 2 groups", input: [3, 6, 5, 7], weight: [4, 3, 1, 1], groups: 2,
                                algorithm: .pointwise),
        ConvolutionGradientCase(name: "1×1 pointwise, 300 channels in blocks", input: [2, 300, 2, 3], weight: [5, 300, 1, 1],
                                algorithm: .pointwise),
        ConvolutionGradientCase(name: "depthwise 3×3 stride 2, asymmetric pads", input: [2, 3, 12, 15], weight: [3, 1, 3, 3],
                                strides: [2, 2], pads: [0, 1, 1, 0], groups: 3, algorithm: .depthwise),
        ConvolutionGradientCase(name: "depthwise 5×5 dilation 2, channel multiplier 2", input: [2, 3, 14, 11], weight: [6, 1, 5, 5],
                                pads: [4, 4, 4, 4], dilations: [2, 2], groups: 3, algorithm: .depthwise),
        ConvolutionGradientCase(name: "depthwise window wider than the row", input: [1, 2, 4, 2], weight: [2, 1, 3, 5],
                                pads: [1, 3, 1, 3], groups: 2, algorithm: .depthwise, flipped: true),
        ConvolutionGradientCase(name: "depthwise 3×3 pad 1, width 29", input: [2, 3, 7, 29], weight: [3, 1, 3, 3],
                                pads: [1, 1, 1, 1], groups: 3, algorithm: .depthwise, flipped: true),
        ConvolutionGradientCase(name: "depthwise dilation 2, asymmetric pads", input: [1, 2, 11, 21], weight: [2, 1, 3, 3],
                                pads: [2, 0, 1, 3], dilations: [2, 2], groups: 2, algorithm: .depthwise, flipped: true),
        ConvolutionGradientCase(name: "depthwise padded beyond the kernel's reach", input: [1, 2, 6, 7], weight: [2, 1, 3, 3],
                                pads: [3, 1, 1, 1], groups: 2, algorithm: .depthwise),
    ]

    @Test("backward data and backward weight match the float64 reference within 1e-5 of the largest gradient",
          arguments: cases)
    func matchesReference(c: ConvolutionGradientCase) throws {
        var noise = Noise(seed: 41)
        let x = noise.tensor(Shape(c.input)), w = noise.tensor(Shape(c.weight))
        let forward = try outputShape(.conv(c.convolution), [x, w])
        let dy = noise.tensor(forward)
        let geometry = c.geometry(slots: 2)
        #expect(geometry.forward.algorithm == c.algorithm)
        #expect((geometry.flippedDepthwise != nil) == c.flipped)

        let dataOp = Op.convBackwardData(c.convolution, inputSize: Array(c.input[2...]))
        let dx = try runGradient(.convBackwardData(geometry), dataOp, [dy, w])[0]
        expectClose(dx, try reference(dataOp, [dy, w]), tolerance: 1e-5, "dX")

        let weightOp = Op.convBackwardWeight(c.convolution, kernelSize: Array(c.weight[2...]))
        let dw = try runGradient(.convBackwardWeight(geometry), weightOp, [x, dy])[0]
        expectClose(dw, try reference(weightOp, [x, dy]), tolerance: 1e-5, "dW")
    }

    @Test("the gradients are bit-identical whatever the number of concurrent slots", arguments: [cases[0], cases[4], cases[7], cases[9]])
    func independentOfSlots(c: ConvolutionGradientCase) throws {
        var noise = Noise(seed: 42)
        let x = noise.tensor(Shape(c.input)), w = noise.tensor(Shape(c.weight))
        let dy = noise.tensor(try outputShape(.conv(c.convolution), [x, w]))
        let dataOp = Op.convBackwardData(c.convolution, inputSize: Array(c.input[2...]))
        let weightOp = Op.convBackwardWeight(c.convolution, kernelSize: Array(c.weight[2...]))
        let dx = try runGradient(.convBackwardData(c.geometry(slots: 1)), dataOp, [dy, w])[0]
        let dw = try runGradient(.convBackwardWeight(c.geometry(slots: 1)), weightOp, [x, dy])[0]
        for slots in [2, 3, 7] {
            #expect(try runGradient(.convBackwardData(c.geometry(slots: slots)), dataOp, [dy, w])[0].bitwiseEqual(dx), "dX, \(slots) slots")
            #expect(try runGradient(.convBackwardWeight(c.geometry(slots: slots)), weightOp, [x, dy])[0].bitwiseEqual(dw), "dW, \(slots) slots")
        }
    }

    @Test("backward weight of an empty batch is zero")
    func emptyBatch() throws {
        let c = ConvolutionGradientCase(name: "empty", input: [0, 2, 5, 5], weight: [3, 2, 3, 3], algorithm: .im2col)
        let x = Tensor(zeros: .float32, [0, 2, 5, 5]), dy = Tensor(zeros: .float32, [0, 3, 3, 3])
        let dw = try runGradient(.convBackwardWeight(c.geometry(slots: 2)), .convBackwardWeight(c.convolution, kernelSize: [3, 3]), [x, dy])[0]
        #expect(dw.floats == [Float](repeating: 0, count: 54))
    }
}
