import Autodiff
import Compiler
import Distill
import Foundation
import GraphIR
import Reference
import Runtime
import Testing

/// The logit and feature losses: values against hand-computed formulas, gradients against finite
/// differences, the compiled kernels against the reference.
@Suite struct LossTests {
    static let student: [Float] = [1.0, -0.5, 2.0, 0.25, 0.5, 0.5, -1.5, 3.0]
    static let teacher: [Float] = [0.5, 0.5, 1.5, -0.5, 1.0, 0.0, -1.0, 2.0]

    func logSoftmax(_ row: [Double]) -> [Double] {
        let largest = row.max()!
        let logSum = log(row.reduce(0) { $0 + exp($1 - largest) }) + largest
        return row.map { $0 - logSum }
    }

    func logitsGraph(_ build: (inout Graph, ValueID, ValueID) throws -> ValueID) throws -> Graph {
        var graph = Graph(name: "loss")
        let s = graph.addParameter("s", Tensor(Self.student, shape: [2, 4]))
        let t = graph.addInput("t", TensorType(.float32, [2, 4]))
        graph.outputs = [try build(&graph, s, t)]
        return graph
    }

    @Test func distillationLossIsTemperatureSquaredBatchmeanKL() throws {
        let graph = try logitsGraph { try $0.distillationLoss(student: $1, teacher: $2, temperature: 2, name: "kd") }
        let value = try Reference.run(graph, inputs: [Tensor(Self.teacher, shape: [2, 4])])[0].floats[0]
        var expected = 0.0
        for row in 0..<2 {
            let q = logSoftmax(Self.student[(row * 4)..<(row * 4 + 4)].map { Double($0) / 2 })
            let p = logSoftmax(Self.teacher[(row * 4)..<(row * 4 + 4)].map { Double($0) / 2 })
            expected += zip(p, q).reduce(0) { $0 + exp($1.0) * ($1.0 - $1.1) }
        }
        expected = expected / 2 * 4
        #expect(abs(Double(value) - expected) <= 1e-7 * expected)
    }

    @Test func softCrossEntropyWithOneHotTargetsIsCrossEntropy() throws {
        let graph = try logitsGraph { try $0.softCrossEntropy(logits: $1, targets: $2, name: "ce") }
        let targets: [Float] = [0, 0, 1, 0, 0, 0, 0, 1]
        let value = try Reference.run(graph, inputs: [Tensor(targets, shape: [2, 4])])[0].floats[0]
        let expected = -(logSoftmax(Self.student[0..<4].map(Double.init))[2] + logSoftmax(Self.student[4..<8].map(Double.init))[3]) / 2
        #expect(abs(Double(value) - expected) <= 1e-6 * expected)
    }

    @Test func lossGradientsMatchFiniteDifferences() throws {
        let builders: [(String, (inout Graph, ValueID, ValueID) throws -> ValueID)] = [
            ("kd", { try $0.distillationLoss(student: $1, teacher: $2, temperature: 3, name: "kd") }),
            ("ce", { try $0.softCrossEntropy(logits: $1, targets: $2, name: "ce") }),
        ]
        let teacherLike = Tensor([0.1, 0.2, 0.3, 0.4, 0.7, 0.1, 0.1, 0.1], shape: [2, 4])
        for (label, build) in builders {
            var graph = try logitsGraph(build)
            let s = graph.value(named: "s")!
            let gradient = try Autodiff.gradients(of: graph.outputs[0], withRespectTo: [s], in: &graph)[s]!
            graph.outputs.append(gradient)
            let analytic = try Reference.run(graph, inputs: [teacherLike])[1].doubles
            for index in 0..<8 {
                var probe = graph
                let h: Float = 1e-2
                func loss(_ delta: Float) throws -> Double {
                    var values = Self.student
                    values[index] += delta
                    probe.tensors[s] = Tensor(values, shape: [2, 4])
                    return try Reference.run(probe, inputs: [teacherLike])[0].doubles[0]
                }
                let numeric = (try loss(h) - loss(-h)) / Double(2 * h)
                #expect(abs(numeric - analytic[index]) <= 1e-4, "\(label) ∂/∂s[\(index)]: \(analytic[index]) vs \(numeric)")
            }
        }
    }

    @Test func compiledDistillationLossAndGradientMatchTheReference() throws {
        var graph = try logitsGraph { try $0.distillationLoss(student: $1, teacher: $2, temperature: 1, name: "kd") }
        let s = graph.value(named: "s")!
        graph.outputs.append(try Autodiff.gradients(of: graph.outputs[0], withRespectTo: [s], in: &graph)[s]!)
        let input = [Tensor(Self.teacher, shape: [2, 4])]
        let compiled = try Executor(try Lowering.plan(graph).plan).run(input)
        let reference = try Reference.run(graph, inputs: input)
        for (ours, theirs) in zip(compiled, reference) {
            for (a, b) in zip(ours.doubles, theirs.doubles) { #expect(abs(a - b) <= 1e-7 * max(1, abs(b))) }
        }
    }

    @Test func mismatchedLogitsAreRefusedAtConstruction() throws {
        var graph = Graph(name: "bad")
        let s = graph.addInput("s", TensorType(.float32, [2, 4]))
        let t = graph.addInput("t", TensorType(.float32, [2, 5]))
        #expect(throws: InvalidInput.self) { try graph.distillationLoss(student: s, teacher: t, temperature: 1, name: "kd") }
        #expect(throws: InvalidInput("loss 'kd'", "temperature must be positive, got 0.0")) {
            try graph.distillationLoss(student: s, teacher: s, temperature: 0, name: "kd")
        }
    }
}
