import Compiler
import GraphIR
import Reference
import Runtime
import Testing

/// The memory-aware schedule keeps the computation and lowers the bytes alive at once.
@Suite struct ScheduleTests {
    /// Two independent chains built interleaved: run in that order both chains' activations pile up;
    /// scheduled, each chain runs to its end before the next starts.
    static let interleaved = """
        graph chains {
          input %x: f32[64,64]
          %a1: f32[64,64] = exp(%x) @a1
          %b1: f32[64,64] = tanh(%x) @b1
          %a2: f32[64,64] = exp(%a1) @a2
          %b2: f32[64,64] = tanh(%b1) @b2
          %a3: f32[64] = reduce_sum(%a2) {axes=[1], keep_dims=0} @a3
          %b3: f32[64] = reduce_sum(%b2) {axes=[1], keep_dims=0} @b3
          %y: f32[64] = add(%a3, %b3) @y
          output %y
        }
        """

    @Test func scheduledChainsNeedLessMemoryAndComputeTheSame() throws {
        let graph = try Graph(text: Self.interleaved)
        let unscheduled = try Pipeline.compile(graph, options: Pipeline.Options(disabledPasses: ["schedule"]))
        let scheduled = try Pipeline.compile(graph)
        #expect(scheduled.memory.lowerBound < unscheduled.memory.lowerBound)
        #expect(scheduled.graph.nodes.map(\.name).prefix(3) != unscheduled.graph.nodes.map(\.name).prefix(3))
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
