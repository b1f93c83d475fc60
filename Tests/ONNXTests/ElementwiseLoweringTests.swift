import Foundation
import GraphIR
import ONNX
import Testing

/// Elementwise ONNX ops lower to unary/binary/compare/select ops with ONNX's semantics.
struct ElementwiseLoweringTests {
    static let x: [Float] = [-2, -0.5, 0, 1.5]

    @Test func activationsMatchTheirFormulas() throws {
        let cases: [(String, [AttributeSpec], (Double) -> Double)] = [
            ("Relu", [], { max(0, $0) }),
            ("Neg", [], { -$0 }),
            ("Abs", [], { abs($0) }),
            ("Exp", [], { Foundation.exp($0) }),
            ("Sigmoid", [], { 1 / (1 + Foundation.exp(-$0)) }),
            ("Tanh", [], { Foundation.tanh($0) }),
            ("Erf", [], { Foundation.erf($0) }),
            ("LeakyRelu", [.float("alpha", 0.1)], { $0 < 0 ? 0.1 * $0 : $0 }),
            ("LeakyRelu", [], { $0 < 0 ? 0.01 * $0 : $0 }),
            ("HardSigmoid", [], { max(0, min(1, 0.2 * $0 + 0.5)) }),
            ("HardSigmoid", [.float("alpha", 0.5), .float("beta", 0.25)], { max(0, min(1, 0.5 * $0 + 0.25)) }),
            ("HardSwish", [], { $0 * max(0, min(1, $0 / 6 + 0.5)) }),
            ("Gelu", [], { 0.5 * $0 * (1 + Foundation.erf($0 / sqrt(2.0))) }),
            ("Gelu", [.string("approximate", "tanh")], { 0.5 * $0 * (1 + Foundation.tanh(sqrt(2 / Double.pi) * ($0 + 0.044715 * $0 * $0 * $0))) }),
        ]
        for (op, attributes, function) in cases {
            let y = try run(singleNode(op, inputs: [("x", [4])], attributes, opset: 20), [Tensor(Self.x, shape: [4])])[0]
            expectClose(y, Self.x.map { function(Double($0)) }, shape: [4], tolerance: 1e-6)
        }
    }

    @Test func positiveDomainFunctions() throws {
        let x: [Float] = [0.25, 1, 4]
        for (op, function) in [("Sqrt", { (v: Double) in v.squareRoot() }), ("Log", { Foundation.log($0) }), ("Reciprocal", { 1 / $0 })] {
            let y = try run(singleNode(op, inputs: [("x", [3])]), [Tensor(x, shape: [3])])[0]
            expectClose(y, x.map { function(Double($0)) }, shape: [3])
        }
    }

    @Test func binaryOpsBroadcastLikeNumpy() throws {
        let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3]), b = Tensor([1, 2, 4], shape: [3])
        let cases: [(String, [Double])] = [
            ("Add", [2, 4, 7, 5, 7, 10]), ("Sub", [0, 0, -1, 3, 3, 2]), ("Mul", [1, 4, 12, 4, 10, 24]),
            ("Div", [1, 1, 0.75, 4, 2.5, 1.5]), ("Pow", [1, 4, 81, 4, 25, 1296]),
        ]
        for (op, expected) in cases {
            let y = try run(singleNode(op, inputs: [("a", [2, 3]), ("b", [3])]), [a, b])[0]
            expectClose(y, expected, shape: [2, 3], tolerance: 1e-4)
        }
    }

    @Test func powTakesAnExponentOfAnotherType() throws {
        let model = singleNode("Pow", inputs: [("a", [3]), ("b", [])], inputTypes: [1, 7])
        let y = try run(model, [Tensor([1, 2, 3], shape: [3]), Tensor(scalar: Int64(3))])[0]
        expectClose(y, [1, 8, 27], shape: [3], tolerance: 1e-5)
    }

    @Test func variadicOpsFoldOverAllInputs() throws {
        let inputs = [Tensor([1, 5, 3], shape: [3]), Tensor([4, 2, 6], shape: [3]), Tensor([0, 9, 1], shape: [3])]
        let cases: [(String, [Double])] = [("Max", [4, 9, 6]), ("Min", [0, 2, 1]), ("Sum", [5, 16, 10]), ("Mean", [5.0 / 3, 16.0 / 3, 10.0 / 3])]
        for (op, expected) in cases {
            let y = try run(singleNode(op, inputs: [("a", [3]), ("b", [3]), ("c", [3])]), inputs)[0]
            expectClose(y, expected, shape: [3], tolerance: 1e-6)
        }
    }

    @Test func comparisonsLogicAndWhere() throws {
        let a = Tensor([1, 2, 3], shape: [3]), b = Tensor([2, 2, 2], shape: [3])
        for (op, expected) in [("Equal", [0.0, 1, 0]), ("Less", [1, 0, 0]), ("Greater", [0, 0, 1]), ("LessOrEqual", [1, 1, 0]), ("GreaterOrEqual", [0, 1, 1])] {
            let y = try run(singleNode(op, inputs: [("a", [3]), ("b", [3])]), [a, b])[0]
            #expect(y.dtype == .bool)
            expectClose(y, expected, shape: [3])
        }
        let p = Tensor([true, true, false, false], shape: [4]), q = Tensor([true, false, true, false], shape: [4])
        for (op, expected) in [("And", [1.0, 0, 0, 0]), ("Or", [1, 1, 1, 0]), ("Xor", [0, 1, 1, 0])] {
            let y = try run(singleNode(op, inputs: [("p", [4]), ("q", [4])], inputTypes: [9, 9]), [p, q])[0]
            expectClose(y, expected, shape: [4])
        }
        let not = try run(singleNode("Not", inputs: [("p", [4])], inputTypes: [9]), [p])[0]
        expectClose(not, [0, 0, 1, 1], shape: [4])
        let chosen = try run(singleNode("Where", inputs: [("c", [4]), ("x", [4]), ("y", [])], inputTypes: [9, 1, 1]),
                             [p, Tensor([1, 2, 3, 4], shape: [4]), Tensor(scalar: Float(-1))])[0]
        expectClose(chosen, [1, 2, -1, -1], shape: [4])
    }

    @Test func castTruncatesTowardZeroAndMapsIntegerTypesToInt64() throws {
        let toInt = try run(singleNode("Cast", inputs: [("x", [4])], [.int("to", 6)]), [Tensor([-1.7, -0.2, 0.9, 2.5], shape: [4])])[0]
        #expect(toInt.dtype == .int64)
        #expect(toInt.int64s == [-1, 0, 0, 2])
        let toBool = try run(singleNode("Cast", inputs: [("x", [3])], [.int("to", 9)]), [Tensor([0, 0.5, -2], shape: [3])])[0]
        #expect(toBool.bools == [false, true, true])
        let like = try run(singleNode("CastLike", inputs: [("x", [2]), ("t", [])], inputTypes: [7, 1]),
                           [Tensor([3, -4] as [Int64], shape: [2]), Tensor(scalar: Float(0))])[0]
        expectClose(like, [3, -4], shape: [2])
    }

    @Test func clipReadsBoundsFromAttributesBeforeOpset11AndFromInputsAfter() throws {
        let x = Tensor([-3, -1, 0, 2, 5], shape: [5])
        let old = try run(singleNode("Clip", inputs: [("x", [5])], [.float("min", -1.5), .float("max", 2)], opset: 10), [x])[0]
        expectClose(old, [-1.5, -1, 0, 2, 2], shape: [5])
        let bounds = [TensorSpec.floats("lo", [], [-1.5]), .floats("hi", [], [2])]
        let new = try run(singleNode("Clip", inputs: [("x", [5]), ("lo", []), ("hi", [])], initializers: bounds, opset: 13), [x])[0]
        expectClose(new, [-1.5, -1, 0, 2, 2], shape: [5])
        let onlyMax = try run(singleNode("Clip", inputs: [("x", [5]), ("", []), ("hi", [])], initializers: [bounds[1]], opset: 13), [x])[0]
        expectClose(onlyMax, [-3, -1, 0, 2, 2], shape: [5])
        let integers = try run(singleNode("Clip", inputs: [("x", [3]), ("lo", []), ("hi", [])], initializers: [.int64s("lo", [], [0]), .int64s("hi", [], [5])],
                                          opset: 13, inputTypes: [7]), [Tensor([-4, 3, 9] as [Int64], shape: [3])])[0]
        #expect(integers.int64s == [0, 3, 5])
    }

    @Test func preluScalesNegativesBySlope() throws {
        let model = singleNode("PRelu", inputs: [("x", [2, 2]), ("slope", [2])], initializers: [.floats("slope", [2], [0.5, 2])])
        let y = try run(model, [Tensor([-2, 3, -1, -4], shape: [2, 2])])[0]
        expectClose(y, [-1, 3, -0.5, -8], shape: [2, 2])
    }

    @Test func dropoutPassesThroughWithAnAllTrueMask() throws {
        let model = singleNode("Dropout", inputs: [("x", [3])], outputs: ["y", "mask"], opset: 13)
        let outputs = try run(model, [Tensor([1, 2, 3], shape: [3])])
        expectClose(outputs[0], [1, 2, 3], shape: [3])
        #expect(outputs[1].bools == [true, true, true])
    }

    @Test func identityOutputKeepsItsName() throws {
        let graph = try importModel(singleNode("Identity", inputs: [("x", [2])]))
        #expect(graph[graph.outputs[0]].name == "y")
        #expect(graph.nodes.map(\.op) == [.identity])
    }
}
