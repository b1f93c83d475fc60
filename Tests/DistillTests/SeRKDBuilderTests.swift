import Compiler
import Distill
import GraphIR
import Reference
import Runtime
import Tensor
import Testing

/// The graph builders for the clustering ablations (METHOD §10) and the relation-loss terms.
@Suite struct SeRKDBuilderTests {
    /// A graph with one [B, N, D] token input.
    static func graph(_ shape: Shape) -> (Graph, ValueID) {
        var graph = Graph(name: "clustering")
        let tokens = graph.addInput("tokens", TensorType(.float32, shape))
        return (graph, tokens)
    }

    /// Runs the graph on the executor and on the reference; returns the executor's outputs after
    /// checking that both agree.
    static func run(_ graph: Graph, _ inputs: [Tensor]) throws -> [Tensor] {
        let outputs = try Executor(try Lowering.plan(graph).plan).run(inputs)
        for (output, expected) in zip(outputs, try Reference.run(graph, inputs: inputs)) {
            #expect(SeRKDCheck.relativeError(output, expected) < 2e-6)
        }
        return outputs
    }

    @Test("'none' distils the visual tokens themselves")
    func none() throws {
        var (graph, tokens) = Self.graph([2, 50, 3])
        let clustered = try graph.clusterTokens(tokens, TokenClustering(mode: .none), name: "direct")
        #expect(clustered == tokens)
        #expect(graph.nodes.isEmpty)
    }

    @Test("'avgpool' and 'maxpool' take each g×g cell's mean and maximum per channel", arguments: [TokenClustering.Mode.avgpool, .maxpool])
    func pooling(mode: TokenClustering.Mode) throws {
        var (graph, tokens) = Self.graph([2, 36, 3])
        graph.outputs = [try graph.clusterTokens(tokens, TokenClustering(mode: mode, grid: 3, iterations: 5), name: "pooled")]
        #expect(graph.type(of: graph.outputs[0]) == TensorType(.float32, [2, 4, 3]))
        let x = SeRKDCheck.tokens([2, 36, 3], seed: 51)
        let y = try Self.run(graph, [x])[0].floats, values = x.floats
        for b in 0..<2 {
            for cell in 0..<4 {
                for c in 0..<3 {
                    let members = (0..<36).filter { p in (p / 6) / 3 * 2 + (p % 6) / 3 == cell }.map { values[(b * 36 + $0) * 3 + c] }
                    let expected = mode == .maxpool ? members.max()! : members.reduce(0, +) / 9
                    #expect(abs(y[(b * 4 + cell) * 3 + c] - expected) < 1e-6, "image \(b), cell \(cell), channel \(c)")
                }
            }
        }
        if mode == .avgpool, case .training(.seRKD(.superpixelTokens(let settings))) = graph.nodes[0].op {
            #expect(settings.iterations == 0)
        }
    }

    @Test("'superpixel' clusters a 14×14 map into 49 super tokens with the given grid, iterations and border")
    func superpixel() throws {
        var (graph, tokens) = Self.graph([2, 196, 8])
        let clustered = try graph.clusterTokens(tokens, TokenClustering(mode: .superpixel, grid: 2, iterations: 2, border: .mask), name: "super")
        #expect(graph.type(of: clustered) == TensorType(.float32, [2, 49, 8]))
        #expect(graph.nodes.map(\.op) == [.superpixelTokens(SuperpixelClustering(height: 14, width: 14, grid: 2, iterations: 2, border: .mask))])
        #expect(graph.value(named: "super.association").map { graph.type(of: $0).shape } == [2, 196, 49])
    }

    struct BadClustering: CustomTestStringConvertible, Sendable {
        var shape: Shape, clustering: TokenClustering, problem: String
        var testDescription: String { problem }
    }

    @Test("impossible clusterings are refused while the graph is built", arguments: [
        BadClustering(shape: [2, 50, 4], clustering: TokenClustering(), problem: "50 tokens do not form a square token map"),
        BadClustering(shape: [2, 196, 4], clustering: TokenClustering(grid: 3), problem: "grid 3 does not divide the 14×14 token map"),
        BadClustering(shape: [2, 196, 4], clustering: TokenClustering(mode: .maxpool, grid: 0), problem: "grid 0 does not divide the 14×14 token map"),
        BadClustering(shape: [2, 196, 4], clustering: TokenClustering(iterations: -1), problem: "iterations must be ≥ 0, got -1"),
        BadClustering(shape: [196, 4], clustering: TokenClustering(), problem: "expects float tokens [B, N, D], got f32[196,4]"),
    ])
    func badClustering(bad: BadClustering) {
        var (graph, tokens) = Self.graph(bad.shape)
        #expect(throws: InvalidInput("clustering 'student'", bad.problem)) {
            try graph.clusterTokens(tokens, bad.clustering, name: "student")
        }
    }

    @Test("the relation loss is γ·L_D + δ·L_A, and a zero weight leaves its term out")
    func relationLoss() throws {
        let student = SeRKDCheck.tokens([2, 9, 4], seed: 52), teacher = SeRKDCheck.tokens([2, 9, 6], seed: 53)
        let distance = try Reference.evaluate(.rkdDistance(perImageMean: false), [student, teacher])[0].floats[0]
        let angle = try Reference.evaluate(.rkdAngle(chunk: 1), [student, teacher])[0].floats[0]
        for (gamma, delta) in [(Float(0.5), Float(1)), (0, 2), (1, 0)] {
            var graph = Graph(name: "relation")
            let s = graph.addInput("student", TensorType(.float32, student.shape))
            let t = graph.addInput("teacher", TensorType(.float32, teacher.shape))
            let terms = try graph.relationLoss(student: s, teacher: t, RelationLoss(distanceWeight: gamma, angleWeight: delta, perImageMean: false),
                                               name: "relation")
            #expect((terms.distance != nil) == (gamma > 0) && (terms.angle != nil) == (delta > 0))
            graph.outputs = [try #require(terms.total)]
            let total = try Self.run(graph, [student, teacher])[0].floats[0]
            #expect(abs(total - (gamma * distance + delta * angle)) <= 1e-6 * abs(total), "γ \(gamma), δ \(delta)")
        }
        var graph = Graph(name: "baseline")
        let s = graph.addInput("student", TensorType(.float32, student.shape))
        let terms = try graph.relationLoss(student: s, teacher: s, RelationLoss(distanceWeight: 0, angleWeight: 0), name: "relation")
        #expect(terms.total == nil && graph.nodes.isEmpty)
    }

    struct BadLoss: CustomTestStringConvertible, Sendable {
        var student: Shape, teacher: Shape, loss: RelationLoss, problem: String
        var testDescription: String { problem }
    }

    @Test("impossible relation losses are refused while the graph is built", arguments: [
        BadLoss(student: [2, 9, 4], teacher: [2, 9, 4], loss: RelationLoss(distanceWeight: -1), problem: "distance weight must be finite and ≥ 0, got -1.0"),
        BadLoss(student: [2, 9, 4], teacher: [2, 9, 4], loss: RelationLoss(angleWeight: .nan), problem: "angle weight must be finite and ≥ 0, got nan"),
        BadLoss(student: [2, 9, 4], teacher: [2, 9, 4], loss: RelationLoss(angleChunk: 0), problem: "angle chunk must be ≥ 1, got 0"),
        BadLoss(student: [2, 9, 4], teacher: [2, 16, 4], loss: RelationLoss(),
                problem: "student f32[2,9,4] and teacher f32[2,16,4] must be tokens [B, N, D] with the same B and N"),
        BadLoss(student: [2, 1, 4], teacher: [2, 1, 4], loss: RelationLoss(), problem: "needs at least 2 tokens per image, got 1"),
    ])
    func badRelationLoss(bad: BadLoss) {
        var graph = Graph(name: "relation")
        let s = graph.addInput("student", TensorType(.float32, bad.student))
        let t = graph.addInput("teacher", TensorType(.float32, bad.teacher))
        #expect(throws: InvalidInput("relation loss 'relation'", bad.problem)) {
            try graph.relationLoss(student: s, teacher: t, bad.loss, name: "relation")
        }
    }
}
