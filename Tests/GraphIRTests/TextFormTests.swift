import Testing
@testable import GraphIR

@Suite struct TextFormTests {
    static let mlp = """
        graph mlp {
          meta batch = 2
          input %x: f32[2,3]
          param %w: f32[3,2] = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
          const %b: f32[2] = [0.5, -0.5]
          %h: f32[2,2] = matmul(%x, %w) {transpose_a=0, transpose_b=0} @fc
          %y: f32[2,2] = add(%h, %b) @bias
          %z: f32[2,2] = relu(%y) @act
          output %z
        }

        """

    @Test func textFormRoundTrips() throws {
        let graph = try Graph(text: Self.mlp)
        #expect(graph.text == Self.mlp)
        #expect(graph.nodes.map(\.op) == [.matMul(MatMul()), .binary(.add), .unary(.relu)])
        #expect(graph.metadata["batch"] == "2")
        #expect(graph[graph.value(named: "w")!].kind == .parameter)
    }

    @Test func namesOutsideTheBareAlphabetAreQuoted() throws {
        var graph = Graph(name: "odd names")
        let x = graph.addInput("/blocks.0/attn/Softmax_output_0", TensorType(.float32, [2]))
        let y = try graph.apply1(.unary(.clip(min: -1, max: 6)), [x], name: "node with \"quotes\"")
        graph.outputs = [y]
        let text = graph.text
        #expect(text.contains("input %/blocks.0/attn/Softmax_output_0: f32[2]"))
        #expect(text.contains("@\"node with \\\"quotes\\\"\""))
        #expect(try Graph(text: text).text == text)
    }

    @Test func declaredShapesAreCheckedAgainstInference() {
        let wrong = """
            graph g {
              input %x: f32[2,3]
              %y: f32[3,2] = relu(%x) @r
              output %y
            }
            """
        #expect(throws: InvalidInput("graph text line 3", "%y is declared f32[3,2], inferred f32[2,3]")) { try Graph(text: wrong) }
    }

    @Test func shapeErrorsNameTheNode() {
        let wrong = """
            graph g {
              input %a: f32[2,3]
              input %b: f32[4,5]
              %c: f32[2,5] = matmul(%a, %b) {transpose_a=0, transpose_b=0} @fc1
              output %c
            }
            """
        let error = #expect(throws: InvalidInput.self) { try Graph(text: wrong) }
        #expect(error?.problem == "node 'fc1' (matmul): inner extents differ: [2,3] · [4,5]")
    }
}

@Suite struct TextLiteralTests {
    @Test func int64ConstantsBeyondDoublePrecisionRoundTrip() throws {
        var graph = Graph(name: "ends")
        let ends = graph.addConstant("ends", Tensor([Int64.max, (1 << 53) + 1, Int64.min], shape: [3]))
        graph.outputs = [ends]
        let text = graph.text
        #expect(text.contains("[9223372036854775807, 9007199254740993, -9223372036854775808]"))
        #expect(try Graph(text: text).tensors[ends]!.int64s == [Int64.max, (1 << 53) + 1, Int64.min])
    }

    @Test func bfloat16RoundsToNearestEven() {
        // 1 + 2^-8 lies exactly between two bfloat16 values: ties go to the even one (1.0);
        // 1 + 3·2^-9 rounds up to 1 + 2^-7.
        let tensor = Tensor(doubles: [1 + 1.0 / 256, 1 + 3.0 / 512, -2.5], dtype: .bfloat16, shape: [3])
        #expect(tensor.doubles == [1, 1 + 1.0 / 128, -2.5])
    }
}
