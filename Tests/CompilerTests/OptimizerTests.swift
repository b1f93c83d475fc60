import Compiler
import GraphIR
import Reference
import Runtime
import Testing

/// One optimizer step, compiled and run in place, against the Double reference and hand-computed
/// values of PyTorch's formulas.
@Suite struct OptimizerTests {
    /// A graph applying `op` to a parameter with fed gradient and hyper-parameters.
    func stepGraph(_ op: Op, state: Int) throws -> Graph {
        var graph = Graph(name: "step")
        let parameter = graph.addParameter("w", Tensor([1, -2, 0.5, 3], shape: [4]))
        let gradient = graph.addInput("grad", TensorType(.float32, [4]))
        var inputs = [parameter, gradient]
        for index in 0..<state { inputs.append(graph.addParameter("state\(index)", Tensor(zeros: .float32, [4]))) }
        inputs.append(graph.addInput("lr", TensorType(.float32, [])))
        if case .training(.optimizer(.adamW)) = op { inputs.append(graph.addInput("t", TensorType(.float32, []))) }
        graph.outputs = try graph.apply(op, inputs, name: "update")
        return graph
    }

    @Test func adamWFirstStepMovesEachWeightByLearningRateAgainstTheGradientSign() throws {
        // At t = 1 the bias-corrected step is lr·g/(|g| + eps): ±lr, after decoupled decay p·(1 − lr·λ).
        let op = Op.adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.05)
        let graph = try stepGraph(op, state: 2)
        let executor = Executor(try Lowering.plan(graph).plan)
        let inputs = [Tensor([0.5, -1, 2, 0.001], shape: [4]), Tensor(scalar: Float(0.1)), Tensor(scalar: Float(1))]
        _ = try executor.run(inputs)
        let w = executor.read(BufferID(graph.value(named: "w")!.index)).floats
        let expected: [Double] = [1 * 0.995 - 0.1, -2 * 0.995 + 0.1, 0.5 * 0.995 - 0.1, 3 * 0.995 - 0.1 * 0.001 / (0.001 + 1e-8)]
        for (value, target) in zip(w, expected) { #expect(abs(Double(value) - target) < 1e-6) }
    }

    @Test("running a plan leaves the graph it was lowered from as it was, unless the plan adopts its state")
    func graphsAreValuesUnlessThePlanAdoptsTheirState() throws {
        let op = Op.sgd(momentum: 0.9, nesterov: false, weightDecay: 0)
        let inputs = [Tensor([0.5, -1, 2, 0.001], shape: [4]), Tensor(scalar: Float(0.1))]
        let graph = try stepGraph(op, state: 1)
        let w = graph.value(named: "w")!
        let before = graph.tensors[w]!.floats
        let executor = Executor(try Lowering.plan(graph).plan)
        _ = try executor.run(inputs)
        #expect(graph.tensors[w]!.floats == before)
        #expect(executor.read(BufferID(w.index)).floats != before)

        let adopting = Executor(try Lowering.plan(graph, adoptingState: true).plan)
        _ = try adopting.run(inputs)
        #expect(graph.tensors[w]!.floats == adopting.read(BufferID(w.index)).floats)
        #expect(graph.tensors[w]!.floats == executor.read(BufferID(w.index)).floats, "one step from the same start")
    }

    @Test func compiledUpdatesMatchTheReferenceOverSeveralSteps() throws {
        for (op, state) in [(Op.adamW(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.05), 2),
                            (Op.sgd(momentum: 0.9, nesterov: true, weightDecay: 1e-4), 1),
                            (Op.sgd(momentum: 0.9, nesterov: false, weightDecay: 0), 1)] {
            let compiled = try stepGraph(op, state: state)
            let reference = try stepGraph(op, state: state)
            let executor = Executor(try Lowering.plan(compiled).plan)
            for t in 1...5 {
                var inputs = [Tensor([0.3, -0.2, Float(t) * 0.1, -1], shape: [4]), Tensor(scalar: Float(0.01))]
                if case .training(.optimizer(.adamW)) = op { inputs.append(Tensor(scalar: Float(t))) }
                _ = try executor.run(inputs)
                // The reference is functional: write its outputs back over the parameter and state.
                let outputs = try Reference.run(reference, inputs: inputs)
                let updated = [reference.value(named: "w")!] + (0..<state).map { reference.value(named: "state\($0)")! }
                for (id, output) in zip(updated, outputs) {
                    reference.tensors[id]!.rawPointer.copyMemory(from: output.rawPointer, byteCount: output.byteCount)
                }
            }
            for id in compiled.dataValues {
                let ours = executor.read(BufferID(id.index)).floats, theirs = reference.tensors[id]!.floats
                for (a, b) in zip(ours, theirs) { #expect(abs(a - b) <= 1e-6 * max(1, abs(b)), "\(op.kindName) \(compiled[id].name)") }
            }
        }
    }

    @Test func readingAParameterAfterItsUpdateIsRefused() throws {
        var graph = try stepGraph(.sgd(momentum: 0, nesterov: false, weightDecay: 0), state: 1)
        let late = try graph.apply1(.unary(.neg), [graph.value(named: "w")!], name: "late_reader")
        graph.outputs.append(late)
        #expect(throws: InvalidInput("node 'update'", "overwrites 'w', which node 'late_reader' reads afterwards")) {
            try Lowering.plan(graph)
        }
    }
}
