import Autodiff
import GraphIR
import Testing

@Suite("Autodiff: normalisation and softmax rules match finite differences")
struct NormalizationRuleTests {
    @Test("inference batchNorm differentiates all five inputs", arguments: [[2, 3, 2, 2], [4, 3]] as [Shape])
    func batchNorm(_ shape: Shape) throws {
        var random = TestRandom(seed: 8)
        let channel = TensorType(.float32, [3])
        let testCase = try GradientCase(.batchNorm(epsilon: 0.01), [TensorType(.float32, shape), channel, channel, channel, channel],
                                        values: ["x1": random.awayFromZero([3]), "x4": random.tensor([3], 0.5...1.5)])
        try checkGradients(testCase, withRespectTo: ["x0", "x1", "x2", "x3", "x4"])
    }

    @Test("training batchNorm differentiates through the batch statistics")
    func batchNormTraining() throws {
        var random = TestRandom(seed: 9)
        var graph = Graph(name: "batchnorm_training")
        let x = graph.addInput("x", TensorType(.float32, [3, 2, 2, 2]))
        let scale = graph.addInput("scale", TensorType(.float32, [2]))
        let bias = graph.addInput("bias", TensorType(.float32, [2]))
        let mean = graph.addConstant("running_mean", random.tensor([2]))
        let variance = graph.addConstant("running_variance", random.tensor([2], 0.5...1.5))
        graph.outputs = [try graph.apply(.batchNormTraining(epsilon: 0.01, momentum: 0.1), [x, scale, bias, mean, variance], name: "bn")[0]]
        try checkGradients(GradientCase(graph, values: ["scale": random.awayFromZero([2])]), withRespectTo: ["x", "scale", "bias"])
    }

    @Test("layerNorm over two axes, with a scale broadcast along one and a bias shaped differently")
    func layerNormTwoAxes() throws {
        let types = [TensorType(.float32, [2, 3, 4]), TensorType(.float32, [4]), TensorType(.float32, [3, 4])]
        var random = TestRandom(seed: 10)
        try checkGradients(GradientCase(.layerNorm(axis: 1, epsilon: 0.01), types, values: ["x1": random.awayFromZero([4])]),
                           withRespectTo: ["x0", "x1", "x2"])
    }

    @Test("layerNorm over the last axis with scale and bias of the row's shape")
    func layerNormLastAxis() throws {
        let types = [TensorType(.float32, [3, 5]), TensorType(.float32, [5]), TensorType(.float32, [5])]
        var random = TestRandom(seed: 11)
        try checkGradients(GradientCase(.layerNorm(axis: 1, epsilon: 1e-5), types, values: ["x1": random.awayFromZero([5])]),
                           withRespectTo: ["x0", "x1", "x2"])
    }

    @Test("layerNorm without a bias")
    func layerNormWithoutBias() throws {
        let types = [TensorType(.float32, [2, 3, 2]), TensorType(.float32, [3, 1])]
        try checkGradients(GradientCase(.layerNorm(axis: 1, epsilon: 0.01), types), withRespectTo: ["x0", "x1"])
    }

    @Test("softmax along a middle axis, from its output")
    func softmax() throws {
        try checkGradients(GradientCase(.softmax(axis: 1), [TensorType(.float32, [2, 3, 4])]), withRespectTo: ["x0"])
    }

    @Test("logSoftmax along the last axis, from its output")
    func logSoftmax() throws {
        try checkGradients(GradientCase(.logSoftmax(axis: 2), [TensorType(.float32, [2, 3, 4])]), withRespectTo: ["x0"])
    }
}
