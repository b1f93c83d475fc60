import GraphIR
import Reference
import Testing

@Suite("Reference.run: whole graphs")
struct GraphRunTests {
    static let dense = """
        graph "dense" {
          input %x: f32[2,3]
          param %w: f32[3,2] = [1, 0, 0, 1, 1, 1]
          const %b: f32[2] = [0.5, -10]
          %h: f32[2,2] = matmul(%x, %w) {transpose_a=0, transpose_b=0} @"fc"
          %z: f32[2,2] = add(%h, %b) @"bias"
          %y: f32[2,2] = relu(%z) @"act"
          output %y, %h
        }
        """

    @Test("run executes a graph in the text form, reading parameters and constants from the graph")
    func runsTextGraph() throws {
        let graph = try Graph(text: Self.dense)
        let outputs = try Reference.run(graph, inputs: [counting([2, 3])])
        #expect(outputs.count == 2)
        expectValues(outputs[0], [4.5, 0, 10.5, 1], shape: [2, 2])
        expectValues(outputs[1], [4, 5, 10, 11], shape: [2, 2])
    }

    @Test("run returns every output of a multi-output node that the graph lists")
    func multiOutputNode() throws {
        let graph = try Graph(text: """
            graph "norm" {
              input %x: f32[2,2]
              const %s: f32[2] = [1, 1]
              %y: f32[2,2], %mean: f32[2,1], %inv: f32[2,1] = layernorm(%x, %s) {axis=1, epsilon=0} @"ln"
              output %mean, %inv
            }
            """)
        let outputs = try Reference.run(graph, inputs: [Tensor([1, 3, 0, 4], shape: [2, 2])])
        expectValues(outputs[0], [2, 2], shape: [2, 1])
        expectValues(outputs[1], [1, 0.5], shape: [2, 1])
    }

    @Test("run folds an int64 shape chain: Gather → Concat gives a reshape target")
    func shapeChain() throws {
        let graph = try Graph(text: """
            graph "shape" {
              input %shape: i64[4]
              const %first: i64[1] = [0]
              const %width: i64[1] = [-1]
              %batch: i64[1] = gather(%shape, %first) {axis=0} @"batch"
              %target: i64[2] = concat(%batch, %width) {axis=0} @"target"
              output %target
            }
            """)
        let outputs = try Reference.run(graph, inputs: [Tensor([8, 3, 224, 224] as [Int64], shape: [4])])
        #expect(outputs[0].int64s == [8, -1])
    }

    @Test("run rejects an input of the wrong shape with a message naming the input")
    func rejectsWrongShape() throws {
        let graph = try Graph(text: Self.dense)
        #expect(throws: InvalidInput("input 'x'", "expected f32[2,3], got f32[3,3]")) {
            try Reference.run(graph, inputs: [counting([3, 3])])
        }
    }

    @Test("run rejects an input of the wrong dtype and a wrong number of inputs")
    func rejectsWrongDtypeAndCount() throws {
        let graph = try Graph(text: Self.dense)
        #expect(throws: InvalidInput("input 'x'", "expected f32[2,3], got i64[2,3]")) {
            try Reference.run(graph, inputs: [Tensor(zeros: .int64, [2, 3])])
        }
        #expect(throws: InvalidInput("graph 'dense'", "expects 1 input, got 0")) {
            try Reference.run(graph, inputs: [])
        }
    }

    @Test("a node that fails on its values is named in the error")
    func namesFailingNode() throws {
        let graph = try Graph(text: """
            graph "pick" {
              input %x: f32[3]
              const %i: i64[1] = [5]
              %y: f32[1] = gather(%x, %i) {axis=0} @"choose"
              output %y
            }
            """)
        #expect(throws: InvalidInput("graph 'pick'", "node 'choose' (gather): index 5 is out of range for axis 0 of extent 3")) {
            try Reference.run(graph, inputs: [counting([3])])
        }
    }
}
