import GraphIR
import Reference
@testable import Runtime
import Tensor
import Testing

@Suite struct GradientNormalizationTests {
    /// (shape, axis): contiguous rows (one longer than a vector block), a strided axis with a short
    /// and with a long inner extent (more than one tile of columns), and the first axis.
    static let softmaxCases: [([Int], Int)] = [([3, 197], 1), ([2, 7, 5], 1), ([2, 9, 131], 1), ([6, 4], 0), ([5, 1], 1)]

    @Test("softmax and log-softmax gradients match the reference along any axis within 1e-6", arguments: softmaxCases)
    func softmax(shape: [Int], axis: Int) throws {
        var noise = Noise(seed: 71)
        let logits = noise.tensor(Shape(shape), in: -6...6), dy = noise.tensor(Shape(shape))
        let layout = AxisLayout(shape: shape, axis: axis)
        let y = try reference(.softmax(axis: axis), [logits])
        let op = Op.softmaxBackward(axis: axis)
        expectClose(try runGradient(.softmaxBackward(layout), op, [y, dy])[0], try reference(op, [y, dy]), tolerance: 1e-6, "softmax")
        let logY = try reference(.logSoftmax(axis: axis), [logits])
        let logOp = Op.logSoftmaxBackward(axis: axis)
        expectClose(try runGradient(.logSoftmaxBackward(layout), logOp, [logY, dy])[0], try reference(logOp, [logY, dy]),
                    tolerance: 1e-6, "log-softmax")
    }

    /// (input shape, axis, scale shape)
    static let layerNormCases: [([Int], Int, [Int])] = [
        ([2, 5, 96], 2, [96]),        // one axis
        ([3, 4, 5], 1, [4, 5]),       // two axes, full scale
        ([3, 4, 5], 1, [5]),          // two axes, the scale repeating along the row
        ([300, 16], 1, [16]),         // enough rows for two blocks of partial sums
        ([4, 3], 1, [1]),             // scalar scale
    ]

    @Test("layer norm's dX, dScale and dBias match the reference within 1e-5, far from zero mean too",
          arguments: layerNormCases)
    func layerNorm(shape: [Int], axis: Int, scaleShape: [Int]) throws {
        var noise = Noise(seed: 72)
        let x = Tensor(noise.tensor(Shape(shape), in: -1...1).floats.map { 20 + $0 }, shape: Shape(shape))
        let scale = noise.tensor(Shape(scaleShape), in: 0.5...1.5), bias = noise.tensor(Shape(scaleShape))
        let forward = try Reference.evaluate(.layerNorm(axis: axis, epsilon: 1e-5), [x, scale, bias])
        let dy = noise.tensor(Shape(shape))
        let geometry = Normalization.LayerNormGradientGeometry(rows: shape[..<axis].reduce(1, *), columns: shape[axis...].reduce(1, *),
                                                               scaleCount: scale.elementCount)
        let op = Op.layerNormBackward(axis: axis)
        let inputs = [x, scale, forward[1], forward[2], dy]
        let actual = try runGradient(.layerNormBackward(geometry), op, inputs)
        let expected = try Reference.evaluate(op, inputs)
        expectClose(actual[0], expected[0], tolerance: 1e-5, "dX")
        expectClose(actual[1], expected[1], tolerance: 1e-5, "dScale")
        expectClose(actual[2], expected[2], tolerance: 1e-5, "dBias")
        let again = try runGradient(.layerNormBackward(geometry), op, inputs)
        #expect(zip(actual, again).allSatisfy { $0.bitwiseEqual($1) }, "a second run is bit-identical")
    }

    /// Input shapes: N·H·W of 4 (small: the unbiased correction matters), a rank-3 input, a bigger
    /// batch whose planes are longer than a vector block.
    static let batchNormShapes: [[Int]] = [[2, 3, 1, 2], [3, 4, 5], [4, 2, 6, 7]]

    @Test("training batch norm gives the reference's Y, batch statistics and running statistics, updated in place",
          arguments: batchNormShapes)
    func batchNormTraining(shape: [Int]) throws {
        var noise = Noise(seed: 73)
        let channels = shape[1]
        let x = Tensor(noise.tensor(Shape(shape), in: -2...2).floats.map { 10 + $0 }, shape: Shape(shape))
        let scale = noise.tensor([channels], in: 0.5...1.5), bias = noise.tensor([channels])
        let runningMean = noise.tensor([channels]), runningVariance = noise.tensor([channels], in: 0.5...2)
        let op = Op.batchNormTraining(epsilon: 1e-5, momentum: 0.1)
        let expected = try Reference.evaluate(op, [x, scale, bias, runningMean, runningVariance])

        // The executor hands the running statistics' buffers over as results 3 and 4.
        let y = Tensor(zeros: .float32, x.shape), mean = Tensor(zeros: .float32, [channels]), inverse = Tensor(zeros: .float32, [channels])
        let kernel = GradientKernel.batchNormTraining(AxisLayout(shape: shape, axis: 1), epsilon: 1e-5, momentum: 0.1)
        let operands = [x, scale, bias, runningMean, runningVariance].map { UnsafeRawPointer($0.rawPointer) }
        try kernel.run(operands, [y, mean, inverse, runningMean, runningVariance].map(\.rawPointer), workspace: nil)
        expectClose(y, expected[0], tolerance: 1e-5, "Y")
        expectClose(mean, expected[1], tolerance: 1e-6, "mean")
        expectClose(inverse, expected[2], tolerance: 1e-5, "inverse std")
        expectClose(runningMean, expected[3], tolerance: 1e-6, "running mean")
        expectClose(runningVariance, expected[4], tolerance: 1e-6, "running variance")
    }

    @Test("batch norm's dX, dScale and dBias match the reference within 1e-5", arguments: batchNormShapes)
    func batchNormBackward(shape: [Int]) throws {
        var noise = Noise(seed: 74)
        let channels = shape[1]
        let x = noise.tensor(Shape(shape), in: -2...2)
        let scale = noise.tensor([channels], in: 0.5...1.5), bias = noise.tensor([channels])
        let statistics = try Reference.evaluate(.batchNormTraining(epsilon: 1e-5, momentum: 0.1),
                                                [x, scale, bias, noise.tensor([channels]), noise.tensor([channels], in: 0.5...2)])
        let dy = noise.tensor(Shape(shape))
        let op = Op.batchNormBackward
        let inputs = [x, scale, statistics[1], statistics[2], dy]
        let actual = try runGradient(.batchNormBackward(AxisLayout(shape: shape, axis: 1)), op, inputs)
        let expected = try Reference.evaluate(op, inputs)
        expectClose(actual[0], expected[0], tolerance: 1e-5, "dX")
        expectClose(actual[1], expected[1], tolerance: 1e-5, "dScale")
        expectClose(actual[2], expected[2], tolerance: 1e-5, "dBias")
    }
}
