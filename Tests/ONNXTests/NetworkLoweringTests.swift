import Foundation
import GraphIR
import ONNX
import Testing

/// Convolution, pooling, normalisation, products, softmax and reductions lower with ONNX's
/// semantics; expected values are worked out by hand in the comments.
struct NetworkLoweringTests {
    /// 1×1×3×3 input 1…9.
    static let image = Tensor((1...9).map(Float.init), shape: [1, 1, 3, 3])

    @Test func conv2DWithPaddingStrideAndBias() throws {
        // 2×2 kernel of ones, stride 2, one pixel of zero padding on every side: the four corners
        // of the padded 5×5 image sum [1], [2+3], [4+7], [5+6+8+9]; bias 0.5.
        let model = singleNode("Conv", inputs: [("x", [1, 1, 3, 3]), ("w", [1, 1, 2, 2]), ("b", [1])],
                               [.ints("strides", [2, 2]), .ints("pads", [1, 1, 1, 1]), .ints("kernel_shape", [2, 2])],
                               initializers: [.floats("w", [1, 1, 2, 2], [1, 1, 1, 1]), .floats("b", [1], [0.5])])
        expectClose(try run(model, [Self.image])[0], [1.5, 5.5, 11.5, 28.5], shape: [1, 1, 2, 2])
    }

    @Test func convSamePaddingAndDepthwiseGroups() throws {
        // SAME_UPPER with a 2×2 kernel pads only bottom/right: window sums of 2×2 blocks.
        let same = singleNode("Conv", inputs: [("x", [1, 1, 3, 3]), ("w", [1, 1, 2, 2])], [.string("auto_pad", "SAME_UPPER")],
                              initializers: [.floats("w", [1, 1, 2, 2], [1, 1, 1, 1])])
        expectClose(try run(same, [Self.image])[0], [12, 16, 9, 24, 28, 15, 15, 17, 9], shape: [1, 1, 3, 3])
        // Two channels, group 2, 1×1 kernels scaling by 2 and -1.
        let depthwise = singleNode("Conv", inputs: [("x", [1, 2, 1, 2]), ("w", [2, 1, 1, 1])], [.int("group", 2)],
                                   initializers: [.floats("w", [2, 1, 1, 1], [2, -1])])
        expectClose(try run(depthwise, [Tensor([1, 2, 3, 4], shape: [1, 2, 1, 2])])[0], [2, 4, -3, -4], shape: [1, 2, 1, 2])
    }

    @Test func conv1DRunsAsATwoDimensionalConvolution() throws {
        let model = singleNode("Conv", inputs: [("x", [1, 1, 4]), ("w", [1, 1, 2])], [.ints("pads", [1, 0])],
                               initializers: [.floats("w", [1, 1, 2], [1, -1])])
        // Padded [0,1,2,4,8] → x[i] - x[i+1]: [-1, -1, -2, -4].
        expectClose(try run(model, [Tensor([1, 2, 4, 8], shape: [1, 1, 4])])[0], [-1, -1, -2, -4], shape: [1, 1, 4])
    }

    @Test func poolsIncludingPaddingRulesAndOneDimension() throws {
        let max = singleNode("MaxPool", inputs: [("x", [1, 1, 3, 3])], [.ints("kernel_shape", [2, 2])])
        expectClose(try run(max, [Self.image])[0], [5, 6, 8, 9], shape: [1, 1, 2, 2])
        // 3×3 window with padding 1 at the top-left corner covers 1,2,4,5: mean 3 without the padding, 12/9 with it.
        let excluded = singleNode("AveragePool", inputs: [("x", [1, 1, 3, 3])], [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1])])
        #expect(try run(excluded, [Self.image])[0].doubles[0] == 3)
        let included = singleNode("AveragePool", inputs: [("x", [1, 1, 3, 3])],
                                  [.ints("kernel_shape", [3, 3]), .ints("pads", [1, 1, 1, 1]), .int("count_include_pad", 1)])
        #expect(abs(try run(included, [Self.image])[0].doubles[0] - 12.0 / 9) < 1e-6)
        let oneD = singleNode("MaxPool", inputs: [("x", [1, 1, 5])], [.ints("kernel_shape", [2]), .ints("strides", [2]), .int("ceil_mode", 1)])
        expectClose(try run(oneD, [Tensor([1, 5, 2, 4, 3], shape: [1, 1, 5])])[0], [5, 4, 3], shape: [1, 1, 3])
        expectClose(try run(singleNode("GlobalAveragePool", inputs: [("x", [1, 1, 3, 3])]), [Self.image])[0], [5], shape: [1, 1, 1, 1])
        expectClose(try run(singleNode("GlobalMaxPool", inputs: [("x", [1, 1, 3, 3])]), [Self.image])[0], [9], shape: [1, 1, 1, 1])
    }

    @Test func batchNormalizationUsesRunningStatistics() throws {
        let stats: [TensorSpec] = [.floats("s", [2], [2, 1]), .floats("b", [2], [1, 0]), .floats("m", [2], [1, -1]), .floats("v", [2], [4, 0.25])]
        let model = singleNode("BatchNormalization", inputs: [("x", [1, 2, 1, 1]), ("s", [2]), ("b", [2]), ("m", [2]), ("v", [2])],
                               [.float("epsilon", 0)], initializers: stats)
        // (3-1)/2·2+1 = 3 and (0+1)/0.5 = 2.
        expectClose(try run(model, [Tensor([3, 0], shape: [1, 2, 1, 1])])[0], [3, 2], shape: [1, 2, 1, 1], tolerance: 1e-6)
    }

    @Test func layerNormalizationProducesMeanAndInverseDeviation() throws {
        let model = singleNode("LayerNormalization", inputs: [("x", [2, 2]), ("s", [2]), ("b", [2])], outputs: ["y", "mean", "inv"],
                               [.float("epsilon", 0)], initializers: [.floats("s", [2], [1, 2]), .floats("b", [2], [0, 1])])
        // Rows [1,3] and [2,6]: means 2 and 4, deviations 1 and 2, normalised [-1,1] each.
        let outputs = try run(model, [Tensor([1, 3, 2, 6], shape: [2, 2])])
        expectClose(outputs[0], [-1, 3, -1, 3], shape: [2, 2], tolerance: 1e-6)
        expectClose(outputs[1], [2, 4], shape: [2, 1])
        expectClose(outputs[2], [1, 0.5], shape: [2, 1], tolerance: 1e-6)
    }

    @Test func softmaxAxisSemanticsChangeAtOpset13() throws {
        let x = Tensor([0, 0, 0, Float(log(3.0))], shape: [2, 2])
        // Opset 13: per row. Opset 11, axis 0: the whole [2,2] tensor is one row of four.
        expectClose(try run(singleNode("Softmax", inputs: [("x", [2, 2])], opset: 13), [x])[0], [0.5, 0.5, 0.25, 0.75], shape: [2, 2], tolerance: 1e-6)
        expectClose(try run(singleNode("Softmax", inputs: [("x", [2, 2])], [.int("axis", 0)], opset: 11), [x])[0],
                    [1.0 / 6, 1.0 / 6, 1.0 / 6, 0.5], shape: [2, 2], tolerance: 1e-6)
        expectClose(try run(singleNode("LogSoftmax", inputs: [("x", [2, 2])], opset: 13), [x])[0],
                    [log(0.5), log(0.5), log(0.25), log(0.75)], shape: [2, 2], tolerance: 1e-6)
    }

    @Test func gemmScalesTransposesAndBroadcastsC() throws {
        // A = [[1,2],[3,4]], Bᵀ given as [[1,0],[1,1]] so B = [[1,1],[0,1]]; A·B = [[1,3],[3,7]].
        let model = singleNode("Gemm", inputs: [("a", [2, 2]), ("b", [2, 2]), ("c", [2])],
                               [.int("transB", 1), .float("alpha", 2), .float("beta", 0.5)],
                               initializers: [.floats("b", [2, 2], [1, 0, 1, 1]), .floats("c", [2], [10, 20])])
        expectClose(try run(model, [Tensor([1, 2, 3, 4], shape: [2, 2])])[0], [7, 16, 11, 24], shape: [2, 2])
    }

    @Test func matMulWithRankOneOperands() throws {
        let m = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        expectClose(try run(singleNode("MatMul", inputs: [("m", [2, 3]), ("v", [3])]), [m, Tensor([1, 0, -1], shape: [3])])[0],
                    [-2, -2], shape: [2])
        expectClose(try run(singleNode("MatMul", inputs: [("v", [2]), ("m", [2, 3])]), [Tensor([1, -1], shape: [2]), m])[0],
                    [-3, -3, -3], shape: [3])
        expectClose(try run(singleNode("MatMul", inputs: [("u", [2]), ("v", [2])]), [Tensor([1, 2], shape: [2]), Tensor([3, 4], shape: [2])])[0],
                    [11], shape: [])
    }

    @Test func reduceAxesMoveFromAttributeToInput() throws {
        let x = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
        let attribute = singleNode("ReduceMean", inputs: [("x", [2, 3])], [.ints("axes", [1]), .int("keepdims", 0)], opset: 13)
        let input = singleNode("ReduceMean", inputs: [("x", [2, 3]), ("a", [1])], [.int("keepdims", 0)], initializers: [.int64s("a", [1], [-1])], opset: 18)
        for model in [attribute, input] { expectClose(try run(model, [x])[0], [2, 5], shape: [2]) }
        let sum = singleNode("ReduceSum", inputs: [("x", [2, 3]), ("a", [1])], initializers: [.int64s("a", [1], [0])], opset: 13)
        expectClose(try run(sum, [x])[0], [5, 7, 9], shape: [1, 3])
        let all = singleNode("ReduceMax", inputs: [("x", [2, 3])], opset: 18)
        expectClose(try run(all, [x])[0], [6], shape: [1, 1])
        let noop = singleNode("ReduceSum", inputs: [("x", [2, 3])], [.int("noop_with_empty_axes", 1)], opset: 13)
        expectClose(try run(noop, [x])[0], [1, 2, 3, 4, 5, 6], shape: [2, 3])
        let l2 = singleNode("ReduceL2", inputs: [("x", [2, 3])], [.ints("axes", [1])], opset: 13)
        expectClose(try run(l2, [x])[0], [sqrt(14.0), sqrt(77.0)], shape: [2, 1], tolerance: 1e-5)
    }

    @Test func argMaxAndArgMin() throws {
        let x = Tensor([3, 1, 3, 0, 5, 0], shape: [2, 3])
        let first = try run(singleNode("ArgMax", inputs: [("x", [2, 3])], [.int("axis", 1)]), [x])[0]
        #expect(first.int64s == [0, 1])
        #expect(first.shape == [2, 1])
        let last = try run(singleNode("ArgMax", inputs: [("x", [2, 3])], [.int("axis", 1), .int("select_last_index", 1), .int("keepdims", 0)]), [x])[0]
        #expect(last.int64s == [2, 1])
        let minimum = try run(singleNode("ArgMin", inputs: [("x", [2, 3])], [.int("axis", 1), .int("keepdims", 0)]), [x])[0]
        #expect(minimum.int64s == [1, 0])
    }
}
