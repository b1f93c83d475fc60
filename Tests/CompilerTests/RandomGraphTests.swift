import Compiler
import GraphIR
import Reference
import Runtime
import Testing

/// Random DAGs of elementwise and matrix ops, compiled with every pass and the memory planner, give
/// the reference evaluator's results on the unoptimised graph, and the plan checker finds every read
/// seeing the bytes it expects (no two live buffers overlap).
@Suite struct RandomGraphTests {
    /// A small deterministic generator, so a failure reproduces from its seed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11 ^ state << 13
        }
    }

    /// A random graph over [rows, columns] values with broadcasting operands, matmuls and reshapes.
    static func randomGraph(seed: UInt64) throws -> (Graph, [Tensor]) {
        var g = Generator(state: seed)
        var graph = Graph(name: "random\(seed)")
        let rows = Int.random(in: 1...6, using: &g), columns = Int.random(in: 1...7, using: &g)
        var inputs: [Tensor] = []
        var pool: [ValueID] = []
        for index in 0..<Int.random(in: 1...3, using: &g) {
            pool.append(graph.addInput("x\(index)", TensorType(.float32, [rows, columns])))
            inputs.append(Tensor((0..<(rows * columns)).map { _ in Float.random(in: -2...2, using: &g) }, shape: [rows, columns]))
        }
        pool.append(graph.addConstant("bias", Tensor((0..<columns).map { _ in Float.random(in: -1...1, using: &g) }, shape: [columns])))
        let square = [graph.addParameter("w", Tensor((0..<(columns * columns)).map { _ in Float.random(in: -1...1, using: &g) }, shape: [columns, columns]))]
        for index in 0..<Int.random(in: 4...24, using: &g) {
            func pick(_ type: TensorType? = nil) -> ValueID {
                let candidates = type.map { t in pool.filter { graph.type(of: $0) == t } } ?? pool
                return candidates.randomElement(using: &g) ?? pool[0]
            }
            let full = TensorType(.float32, [rows, columns])
            let value: ValueID
            switch Int.random(in: 0..<8, using: &g) {
            case 0: value = try graph.apply1(.unary([.relu, .tanh, .sigmoid, .neg, .gelu, .exp].randomElement(using: &g)!), [pick(full)], name: "u\(index)")
            case 1, 2: value = try graph.apply1(.binary([.add, .sub, .mul, .max].randomElement(using: &g)!), [pick(full), pick()], name: "b\(index)")
            case 3: value = try graph.apply1(.matMul(MatMul()), [pick(full), square.randomElement(using: &g)!], name: "mm\(index)")
            case 4:
                let t = try graph.apply1(.transpose(permutation: [1, 0]), [pick(full)], name: "t\(index)")
                value = try graph.apply1(.transpose(permutation: [1, 0]), [try graph.apply1(.unary(.abs), [t], name: "ta\(index)")], name: "tt\(index)")
            case 5:
                let r = try graph.apply1(.reshape([rows * columns]), [pick(full)], name: "r\(index)")
                value = try graph.apply1(.reshape([rows, columns]), [try graph.apply1(.unary(.sigmoid), [r], name: "rs\(index)")], name: "rr\(index)")
            case 6: value = try graph.apply1(.softmax(axis: 1), [pick(full)], name: "s\(index)")
            default:
                let sum = try graph.apply1(.reduce(.sum, axes: [1], keepDims: true), [pick(full)], name: "sum\(index)")
                value = try graph.apply1(.binary(.div), [pick(full), try graph.apply1(.binary(.add), [try graph.apply1(.unary(.abs), [sum], name: "abs\(index)"), graph.addConstant("one\(index)", Tensor(scalar: Float(1)))], name: "den\(index)")], name: "d\(index)")
            }
            pool.append(value)
        }
        graph.outputs = Array(Set((0..<Int.random(in: 1...3, using: &g)).map { _ in pool[pool.count - 1 - Int.random(in: 0..<min(4, pool.count), using: &g)] })).sorted()
        return (graph, inputs)
    }

    @Test(arguments: 0..<60)
    func compiledRandomGraphsMatchTheReference(seed: Int) throws {
        let (graph, inputs) = try Self.randomGraph(seed: UInt64(seed) &+ 1)
        let expected = try Reference.run(graph, inputs: inputs)
        let compiled = try Pipeline.compile(graph, options: Pipeline.Options(verifyEachPass: true))
        #expect(PlanChecker.firstViolation(in: compiled.plan) == nil, "seed \(seed): \(PlanChecker.firstViolation(in: compiled.plan) ?? "")")
        let outputs = try Executor(compiled.plan).run(inputs)
        for (ours, theirs) in zip(outputs, expected) {
            let scale = max(theirs.doubles.map(abs).max() ?? 0, 1)
            let error = zip(ours.doubles, theirs.doubles).map { abs($0 - $1) }.max() ?? 0
            #expect(error <= 1e-5 * scale, "seed \(seed): off by \(error)")
        }
    }

    @Test func theCheckerCatchesALiveBufferOverwritten() throws {
        // a and b are alive together until c reads both.
        let graph = try Graph(text: """
            graph g {
              input %x: f32[4,4]
              %a: f32[4,4] = relu(%x) @a
              %b: f32[4,4] = exp(%x) @b
              %c: f32[4,4] = add(%a, %b) @c
              output %c
            }
            """)
        // No passes: fusion would (rightly) leave no intermediate buffers to collide.
        var plan = try Pipeline.compile(graph, options: Pipeline.Options(disabledPasses: Set(Pipeline.passes.map(\.name)))).plan
        #expect(PlanChecker.firstViolation(in: plan) == nil)
        // Put every arena buffer at offset 0: values alive together now collide.
        for index in plan.buffers.indices where plan.buffers[index].byteCount > 0 {
            if case .arena = plan.buffers[index].location { plan.buffers[index].location = .arena(offset: 0) }
        }
        #expect(PlanChecker.firstViolation(in: plan) != nil)
    }
}
