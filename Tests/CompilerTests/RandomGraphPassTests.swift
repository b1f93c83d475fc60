import Compiler
import GraphIR
import Reference
import Runtime
import Testing

/// Random DAGs of elementwise ops and matrix products over broadcasting shapes, compiled with every
/// pass, against the reference evaluator on the graph as built.
@Suite struct RandomGraphPassTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state ^ (state >> 29)
        }
    }

    /// A random graph: a pool of values starts with inputs and constants of shapes broadcasting to
    /// [b, m, n]; each node picks an op and operands from the pool.
    static func graph(seed: UInt64) throws -> Graph {
        var random = Generator(state: seed)
        let (b, m, n) = (Int.random(in: 1...3, using: &random), Int.random(in: 1...5, using: &random), Int.random(in: 2...6, using: &random))
        let shapes: [[Int]] = [[b, m, n], [b, m, n], [n], [m, 1], [1, 1, n], [], [b, 1, 1]]
        var graph = Graph(name: "random\(seed)")
        var pool: [ValueID] = []
        for (index, shape) in shapes.enumerated() {
            let type = TensorType(.float32, Shape(shape))
            if index < 2 || Bool.random(using: &random) {
                pool.append(graph.addInput("x\(index)", type))
            } else {
                let values = (0..<type.shape.elementCount).map { _ in Double.random(in: -1...1, using: &random) }
                pool.append(graph.addConstant("c\(index)", Tensor(doubles: values, dtype: .float32, shape: type.shape)))
            }
        }
        let unaries: [UnaryFunction] = [.neg, .abs, .tanh, .sigmoid, .gelu, .geluTanh, .relu, .exp, .erf, .hardSwish, .leakyRelu(alpha: 0.1),
                                        .clip(min: -0.5, max: 0.5)]
        let binaries: [BinaryFunction] = [.add, .sub, .mul, .max, .min]
        for index in 0..<Int.random(in: 4...14, using: &random) {
            let a = pool.randomElement(using: &random)!, c = pool.randomElement(using: &random)!
            let name = "n\(index)"
            let shapeA = graph.type(of: a).shape, shapeC = graph.type(of: c).shape
            let value: ValueID
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<3:
                // exp only of bounded values.
                var f = unaries.randomElement(using: &random)!
                if f == .exp { f = .tanh }
                value = try graph.apply1(.unary(f), [a], name: name)
            case 3..<7:
                value = try graph.apply1(.binary(binaries.randomElement(using: &random)!), [a, c], name: name)
            case 7:
                let condition = try graph.apply1(.compare(.less), [a, c], name: name + ".less")
                value = try graph.apply1(.select, [condition, c, a], name: name)
            default:
                // A product of two [.., k, k]-shaped operands, plus a bias.
                guard shapeA.rank >= 2, shapeA.dims.suffix(2) == shapeC.dims.suffix(2), shapeA[-1] == shapeA[-2] else {
                    value = try graph.apply1(.binary(.add), [a, c], name: name)
                    break
                }
                let product = try graph.apply1(.matMul(MatMul(transposeB: Bool.random(using: &random))), [a, c], name: name + ".product")
                value = try graph.apply1(.binary(.add), [product, pool[2]], name: name)
            }
            pool.append(value)
        }
        // Every value without a reader is an output, so nothing is dead.
        let read = Set(graph.nodes.flatMap(\.inputs))
        graph.outputs = graph.nodes.flatMap(\.outputs).filter { !read.contains($0) && graph.type(of: $0).dtype == .float32 }
        return graph
    }

    @Test(arguments: 0..<60)
    func compiledRandomGraphsMatchTheReference(_ seed: Int) throws {
        let graph = try Self.graph(seed: UInt64(seed) &+ 17)
        let inputs = PassCheck.inputs(for: graph, seed: UInt64(seed) &+ 5)
        let expected = try Reference.run(graph, inputs: inputs)
        let actual = try PassCheck.compiled(graph, inputs)
        for (index, (a, e)) in zip(actual, expected).enumerated() {
            #expect(PassCheck.relativeError(a, e) <= 1e-5, "seed \(seed) output \(index)")
        }
    }

    /// The generator makes graphs the passes actually change.
    @Test func randomGraphsGetFused() throws {
        var fused = 0
        for seed in 0..<20 {
            let kinds = PassCheck.kinds(try Pipeline.compile(try Self.graph(seed: UInt64(seed) &+ 17)).graph)
            if kinds.contains("elementwise") { fused += 1 }
        }
        #expect(fused >= 10)
    }
}
