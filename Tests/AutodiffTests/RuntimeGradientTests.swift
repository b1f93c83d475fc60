import Autodiff
import Compiler
import GraphIR
import Reference
import Runtime
import Testing

/// Whole training-step gradients, lowered to a plan and executed by the runtime's kernels, against
/// `Reference.run`. Each test is skipped while lowering its graph still fails with "no kernel".
@Suite("Autodiff: gradient graphs run on the runtime")
struct RuntimeGradientTests {
    /// A graph, its inputs, and the loss followed by every parameter gradient as outputs.
    struct Step: Sendable {
        var graph: Graph
        var inputs: [Tensor]
    }

    /// Appends the loss Σ w ⊙ y to a graph whose output is y, differentiates it with respect to
    /// every parameter, and makes the loss and the gradients the outputs.
    static func trainingStep(_ graph: Graph, inputs: [Tensor]) throws -> Step {
        var graph = graph, random = TestRandom(seed: 17)
        let y = graph.outputs[0]
        let shape = graph.type(of: y).shape
        let weighted = try graph.apply1(.binary(.mul), [y, graph.addConstant("weights", random.tensor(shape))], name: "weighted")
        let loss = try graph.apply1(.reduce(.sum, axes: Array(0..<shape.rank), keepDims: false), [weighted], name: "loss")
        let parameters = graph.values.indices.map(ValueID.init).filter { graph[$0].kind == .parameter }
        let gradients = try Autodiff.gradients(of: loss, withRespectTo: parameters, in: &graph)
        graph.outputs = [loss] + parameters.map { gradients[$0]! }
        return Step(graph: graph, inputs: inputs)
    }

    /// A small CNN: conv, training batch norm, relu, max pool, a padded second conv, global
    /// average pool, a linear layer and log-softmax.
    static func convolutional() throws -> Step {
        var random = TestRandom(seed: 21)
        var graph = Graph(name: "cnn")
        let x = graph.addInput("x", TensorType(.float32, [2, 3, 6, 6]))
        func parameter(_ name: String, _ shape: Shape) -> ValueID { graph.addParameter(name, random.tensor(shape, -0.5...0.5)) }
        let (w1, b1, gamma, beta) = (parameter("w1", [4, 3, 3, 3]), parameter("b1", [4]), parameter("gamma", [4]), parameter("beta", [4]))
        let runningMean = graph.addConstant("running_mean", Tensor(zeros: .float32, [4]))
        let runningVariance = graph.addConstant("running_variance", Tensor(Array(repeating: 1, count: 4), shape: [4]))
        let (w2, w3, b3) = (parameter("w2", [4, 4, 3, 3]), parameter("w3", [4, 5]), parameter("b3", [5]))
        var h = try graph.apply1(.conv(Convolution()), [x, w1, b1], name: "conv1")
        h = try graph.apply(.batchNormTraining(epsilon: 1e-5, momentum: 0.1), [h, gamma, beta, runningMean, runningVariance], name: "bn1")[0]
        h = try graph.apply1(.unary(.relu), [h], name: "relu1")
        h = try graph.apply1(.maxPool(Pooling(kernel: [2, 2], strides: [2, 2])), [h], name: "pool1")
        h = try graph.apply1(.conv(Convolution(pads: [1, 1, 1, 1])), [h, w2], name: "conv2")
        h = try graph.apply1(.globalAveragePool, [h], name: "gap")
        h = try graph.apply1(.reshape([2, 4]), [h], name: "flatten")
        h = try graph.apply1(.matMul(MatMul()), [h, w3], name: "fc")
        h = try graph.apply1(.binary(.add), [h, b3], name: "fc_bias")
        graph.outputs = [try graph.apply1(.logSoftmax(axis: 1), [h], name: "log_probabilities")]
        return try trainingStep(graph, inputs: [random.tensor([2, 3, 6, 6])])
    }

    /// A transformer MLP block: layer norm, linear, GELU, dropout, linear, residual, softmax.
    static func transformer() throws -> Step {
        var random = TestRandom(seed: 22)
        var graph = Graph(name: "block")
        let x = graph.addInput("x", TensorType(.float32, [2, 4, 8]))
        let step = graph.addInput("step", TensorType(.int64, []))
        func parameter(_ name: String, _ shape: Shape) -> ValueID { graph.addParameter(name, random.tensor(shape, -0.5...0.5)) }
        let (gamma, beta, w1, w2) = (parameter("gamma", [8]), parameter("beta", [8]), parameter("w1", [8, 16]), parameter("w2", [8, 16]))
        var h = try graph.apply(.layerNorm(axis: 2, epsilon: 1e-5), [x, gamma, beta], name: "norm")[0]
        h = try graph.apply1(.matMul(MatMul()), [h, w1], name: "fc1")
        h = try graph.apply1(.unary(.gelu), [h], name: "gelu")
        h = try graph.apply(.dropout(ratio: 0.25, seed: 5, perSample: false), [h, step], name: "drop")[0]
        h = try graph.apply1(.matMul(MatMul(transposeB: true)), [h, w2], name: "fc2")
        h = try graph.apply1(.binary(.add), [h, x], name: "residual")
        graph.outputs = [try graph.apply1(.softmax(axis: 2), [h], name: "attention_like")]
        return try trainingStep(graph, inputs: [random.tensor([2, 4, 8]), Tensor(scalar: Int64(3))])
    }

    /// Whether the runtime has a kernel for every node of the step `build` makes.
    static func lowers(_ build: () throws -> Step) -> Bool {
        do {
            _ = try Lowering.plan(try build().graph)
            return true
        } catch let error as InvalidInput {
            return !error.problem.contains("no kernel")
        } catch {
            return true
        }
    }

    /// Runs `step` on the runtime and the reference; every output must agree within 1e-4 of its
    /// largest magnitude (float32 kernels against the Double-accumulating reference).
    func expectRuntimeMatchesReference(_ step: Step) throws {
        let runtime = try Executor(Lowering.plan(step.graph).plan).run(step.inputs)
        let reference = try Reference.run(step.graph, inputs: step.inputs)
        for (index, (actual, expected)) in zip(runtime, reference).enumerated() {
            let scale = max(expected.doubles.map(abs).max() ?? 0, 1e-3)
            let error = zip(actual.doubles, expected.doubles).map { abs($0 - $1) }.max() ?? 0
            #expect(error <= 1e-4 * scale, "output '\(step.graph[step.graph.outputs[index]].name)': error \(error) of \(scale)")
        }
    }

    @Test("a CNN training step's gradients", .enabled(if: lowers(convolutional)))
    func convolutionalNetwork() throws {
        try expectRuntimeMatchesReference(Self.convolutional())
    }

    @Test("a transformer block's gradients, dropout masks included", .enabled(if: lowers(transformer)))
    func transformerBlock() throws {
        try expectRuntimeMatchesReference(Self.transformer())
    }
}
