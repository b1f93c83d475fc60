import Autodiff
import GraphIR
import Testing

/// Operand shapes of a broadcasting binary op.
struct Operands: Sendable, CustomTestStringConvertible {
    var a: Shape
    var b: Shape
    var testDescription: String { "\(a) with \(b)" }
}

@Suite("Autodiff: elementwise rules match finite differences")
struct ElementwiseRuleTests {
    static let unaryFunctions: [UnaryFunction] = [
        .neg, .abs, .exp, .log, .sqrt, .reciprocal, .sigmoid, .tanh, .erf, .relu, .leakyRelu(alpha: 0.1), .gelu, .geluTanh,
        .hardSigmoid(alpha: 0.2, beta: 0.5), .hardSwish, .clip(min: -0.5, max: 0.7),
    ]

    /// At least 0.1 from every kink of the functions above (0, ±3, the clip bounds −0.5 and 0.7,
    /// the hard-sigmoid ramp ends ±2.5), so no x ± 2h straddles one.
    static let kinkFree: [Float] = [-3.7, -2.6, -1.9, -1.2, -0.65, -0.2, 0.15, 0.4, 0.85, 1.3, 2.4, 3.6]

    @Test("unary: dX = dY·f′(X)", arguments: unaryFunctions)
    func unary(_ function: UnaryFunction) throws {
        let positiveDomain = [UnaryFunction.log, .sqrt, .reciprocal].contains(function)
        let x = Self.kinkFree.map { quantized(Double(positiveDomain ? abs($0) + 0.5 : $0)) }
        try checkGradients(GradientCase(.unary(function), [TensorType(.float32, [3, 4])], values: ["x0": Tensor(x, shape: [3, 4])]),
                           withRespectTo: ["x0"])
    }

    static let broadcasts = [
        Operands(a: [2, 1, 3], b: [4, 1]),
        Operands(a: [4, 1], b: [2, 1, 3]),
        Operands(a: [2, 3], b: []),
        Operands(a: [2, 3], b: [2, 3]),
    ]

    @Test("binary: each operand's gradient is reduced over the axes it was broadcast along",
          arguments: BinaryFunction.allCases, broadcasts)
    func binary(_ function: BinaryFunction, _ operands: Operands) throws {
        var random = TestRandom(seed: 3)
        let (a, b): (Tensor, Tensor) = switch function {
        case .add, .sub, .mul: (random.tensor(operands.a), random.tensor(operands.b))
        case .div: (random.tensor(operands.a), random.awayFromZero(operands.b))
        case .pow: (random.tensor(operands.a, 0.5...2), random.tensor(operands.b, -1.5...2))
        // Two interleaved grids: every a differs from every b by at least 0.125.
        case .max, .min: (random.separated(operands.a, spacing: 0.25), random.separated(operands.b, spacing: 0.25, offset: 0.125))
        }
        let types = [TensorType(.float32, operands.a), TensorType(.float32, operands.b)]
        try checkGradients(GradientCase(.binary(function), types, values: ["x0": a, "x1": b]), withRespectTo: ["x0", "x1"])
    }

    @Test("max and min split the gradient evenly between tied operands", arguments: [BinaryFunction.max, .min])
    func ties(_ function: BinaryFunction) throws {
        let a = Tensor([1, 2, -3], shape: [3]), b = Tensor([1, 1, -3], shape: [3])
        let checked = try checkGradients(GradientCase(.binary(function), [TensorType(.float32, [3]), TensorType(.float32, [3])],
                                                     values: ["x0": a, "x1": b]), withRespectTo: ["x0", "x1"])
        let weights = checked.graph.tensors[checked.graph.value(named: "check/weights")!]!.floats
        let aWins: Float = function == .max ? 1 : 0
        #expect(checked.analytic["x0"]!.floats == [0.5 * weights[0], aWins * weights[1], 0.5 * weights[2]])
        #expect(checked.analytic["x1"]!.floats == [0.5 * weights[0], (1 - aWins) * weights[1], 0.5 * weights[2]])
    }

    @Test("select sends dY to x where the condition holds and to y elsewhere, reduced over broadcasting")
    func select() throws {
        var graph = Graph(name: "select")
        let condition = graph.addConstant("condition", Tensor([true, false, true, false, false, true], shape: [2, 1, 3]))
        let x = graph.addInput("x", TensorType(.float32, [1, 4, 3]))
        let y = graph.addInput("y", TensorType(.float32, [4, 1]))
        graph.outputs = [try graph.apply1(.select, [condition, x, y], name: "select")]
        try checkGradients(GradientCase(graph), withRespectTo: ["x", "y"])
    }

    @Test("identity and float casts pass dY through without adding nodes")
    func passThrough() throws {
        let checked = try checkGradients(GradientCase(text: """
            graph "pass" {
              input %x: f32[2,3]
              %c: f32[2,3] = cast(%x) {to=f32} @"cast"
              %y: f32[2,3] = identity(%c) @"copy"
              output %y
            }
            """), withRespectTo: ["x"])
        #expect(!checked.graph.nodes.contains { $0.name.hasPrefix("grad/cast/") || $0.name.hasPrefix("grad/copy/") })
    }

    @Test("dropout: dX = dY·mask, the mask fixed by seed and step", arguments: [false, true])
    func dropout(perSample: Bool) throws {
        let shape: Shape = perSample ? [6, 2, 3] : [4, 5]
        var graph = Graph(name: "dropout")
        let x = graph.addInput("x", TensorType(.float32, shape))
        let step = graph.addInput("step", TensorType(.int64, []))
        graph.outputs = [try graph.apply(.dropout(ratio: 0.4, seed: 11, perSample: perSample), [x, step], name: "drop")[0]]
        let checked = try checkGradients(GradientCase(graph, values: ["step": Tensor(scalar: Int64(3))]), withRespectTo: ["x"])
        let gradient = checked.analytic["x"]!.floats
        #expect(gradient.contains(0) && gradient.contains { $0 != 0 }, "some elements dropped and some kept")
    }
}
