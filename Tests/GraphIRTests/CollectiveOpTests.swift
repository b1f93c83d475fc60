import Testing
@testable import GraphIR

/// The data-parallel all-reduce as the IR writes and checks it.
@Suite struct CollectiveOpTests {
    static let step = """
        graph ranks {
          input %g1: f32[2,3]
          input %g2: f32[4]
          %a1: f32[2,3], %a2: f32[4] = allreduce_mean(%g1, %g2) {ranks=2} @allreduce
          output %a1, %a2
        }

        """

    @Test("allreduce_mean round-trips through the text form and keeps every input's type")
    func roundTrips() throws {
        let graph = try Graph(text: Self.step)
        #expect(graph.text == Self.step)
        #expect(graph.nodes.map(\.op) == [.training(.collective(.allReduceMean(ranks: 2)))])
    }

    @Test("it averages floats only, over at least one rank")
    func badOperandsAreRefused() {
        let op = Op.training(.collective(.allReduceMean(ranks: 2)))
        #expect(throws: InvalidInput(nil, "input 0 must be f32, got i64[3]")) { try op.outputTypes(for: [TensorType(.int64, [3])]) }
        #expect(throws: InvalidInput(nil, "ranks must be at least 1, got 0")) {
            try Op.training(.collective(.allReduceMean(ranks: 0))).outputTypes(for: [TensorType(.float32, [3])])
        }
    }
}
