import Compiler
import GraphIR
import Reference
import Runtime
import Testing

/// The memory-aware schedule keeps the computation and lowers the bytes alive at once.
@Suite struct ScheduleTests {
    /// Two independent branches, each a large product reduced to a row, built interleaved: in that
    /// order both products are alive at once; scheduled, each branch finishes before the next starts.
    static func interleaved() throws -> Graph {
        var graph = Graph(name: "branches")
        let x = graph.addInput("x", TensorType(.float32, [64, 64]))
        let w = graph.addConstant("w", Tensor((0..<4096).map { Float($0 % 13) / 13 }, shape: [64, 64]))
        let a = try graph.apply1(.matMul(MatMul()), [x, w], name: "a")
        let b = try graph.apply1(.matMul(MatMul(transposeB: true)), [x, w], name: "b")
        let ra = try graph.apply1(.reduce(.sum, axes: [1], keepDims: false), [a], name: "ra")
        let rb = try graph.apply1(.reduce(.sum, axes: [1], keepDims: false), [b], name: "rb")
        graph.outputs = [try graph.apply1(.binary(.add), [ra, rb], name: "y")]
        return graph
    }

    @Test func scheduledBranchesNeedLessMemoryAndComputeTheSame() throws {
        let graph = try Self.interleaved()
        let others = Set(Pipeline.passes.map(\.name)).subtracting(["schedule"])
        let unscheduled = try Pipeline.compile(graph, options: Pipeline.Options(disabledPasses: others.union(["schedule"])))
        let scheduled = try Pipeline.compile(graph, options: Pipeline.Options(disabledPasses: others))
        #expect(scheduled.graph.nodes.map(\.name) == ["a", "ra", "b", "rb", "y"])
        #expect(scheduled.memory.lowerBound < unscheduled.memory.lowerBound)
        let input = [Tensor((0..<4096).map { Float($0 % 17) / 17 }, shape: [64, 64])]
        #expect(try Executor(scheduled.plan).run(input)[0].bitwiseEqual(try Executor(unscheduled.plan).run(input)[0]))
    }

    @Test func anInPlaceUpdateWaitsForEveryReader() throws {
        let graph = try Graph(text: """
            graph step {
              input %g: f32[4]
              input %lr: f32[]
              param %w: f32[4] = [1.0, 2.0, 3.0, 4.0]
              state %v: f32[4] = [0.0, 0.0, 0.0, 0.0]
              %w2: f32[4], %v2: f32[4] = sgd(%w, %g, %v, %lr) {momentum=0.0, nesterov=0, weight_decay=0.0} @update
              %late: f32[4] = mul(%w, %g) @late_reader
              output %late
            }
            """.replacingOccurrences(of: "\n", with: "\n"))
        let scheduled = MemoryAwareSchedule.run(graph)
        #expect(scheduled.nodes.map(\.name) == ["late_reader", "update"])
        try Verifier.verify(scheduled)
    }
}
