import Testing
@testable import GraphIR

@Suite struct VerifierTests {
    func smallGraph() throws -> Graph {
        try Graph(text: """
            graph g {
              input %x: f32[4]
              %y: f32[4] = relu(%x) @r
              %z: f32[4] = exp(%y) @e
              output %z
            }
            """)
    }

    @Test func aValidGraphPasses() throws {
        try Verifier.verify(try smallGraph())
    }

    @Test func useBeforeDefinitionIsCaught() throws {
        var graph = try smallGraph()
        graph.nodes.reverse()
        #expect(throws: InvalidInput("graph 'g'", "node 'e' (exp) reads 'y' before it is defined")) { try Verifier.verify(graph) }
    }

    @Test func aTypeThatDisagreesWithInferenceIsCaught() throws {
        var graph = try smallGraph()
        graph.nodes[1].op = .reduce(.sum, axes: [0], keepDims: false)
        #expect(throws: InvalidInput("graph 'g'", "node 'e' (reduce_sum) output 'z' is declared f32[4], inferred f32[]")) {
            try Verifier.verify(graph)
        }
    }

    @Test func constantsMustCarryMatchingData() throws {
        var graph = try smallGraph()
        let c = graph.addConstant("c", Tensor([1, 2], shape: [2]))
        graph.tensors[c] = Tensor([1, 2, 3], shape: [3])
        #expect(throws: InvalidInput("graph 'g'", "data of 'c' is f32[3], declared f32[2]")) { try Verifier.verify(graph) }
    }
}
