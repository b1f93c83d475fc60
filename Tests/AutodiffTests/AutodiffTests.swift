import Autodiff
import GraphIR
import Reference
import Testing

@Suite("Autodiff: which nodes get gradients, naming, accumulation, errors")
struct AutodiffTests {
    /// Student and frozen teacher read the same input; the loss compares them. The teacher has a
    /// reduce_max, which has no gradient rule: it must not matter.
    static let distillation = """
        graph "distill" {
          input %x: f32[2,4]
          param %ws: f32[4,3] = [0.5, -0.25, 0.75, 1, 0.125, -0.5, -1, 0.25, 0.375, 0.625, -0.75, 0.875]
          const %wt: f32[4,3] = [1, 0, -1, 0.5, 0.5, 0.5, -0.25, 0.75, 0, 1, 1, -1]
          %s: f32[2,3] = matmul(%x, %ws) {transpose_a=0, transpose_b=0} @"student"
          %t0: f32[2,3] = matmul(%x, %wt) {transpose_a=0, transpose_b=0} @"teacher"
          %tm: f32[2,1] = reduce_max(%t0) {axes=[1], keep_dims=1} @"teacher_max"
          %t: f32[2,3] = sub(%t0, %tm) @"teacher_shift"
          %d: f32[2,3] = sub(%s, %t) @"difference"
          %y: f32[2,3] = mul(%d, %d) @"square"
          output %y
        }
        """

    @Test("the frozen teacher gets no backward nodes and keeps nothing for backward")
    func frozenTeacher() throws {
        let checked = try checkGradients(try GradientCase(text: Self.distillation), withRespectTo: ["ws"])
        let backward = checked.graph.nodes[checked.forwardNodeCount...]
        #expect(!backward.contains { $0.name.hasPrefix("grad/teacher") })
        let teacherValues = Set(["x", "wt", "t0", "tm", "t"].compactMap { checked.graph.value(named: $0) })
        let backwardReads = Set(backward.flatMap(\.inputs))
        #expect(backwardReads.intersection(teacherValues) == [checked.graph.value(named: "x")!], "only the student's matmul reads x")
        let keptNodes = checked.gradients.keptValues.keys.map { checked.graph.nodes[$0].name }.sorted()
        #expect(keptNodes == ["check/weighted", "square", "student"])
    }

    @Test("gradients are named after their values and backward nodes after their forward nodes")
    func naming() throws {
        let checked = try checkGradients(try GradientCase(text: Self.distillation), withRespectTo: ["ws"])
        let gradient = try #require(checked.gradients[checked.graph.value(named: "ws")!])
        #expect(checked.graph[gradient].name == "grad/ws")
        // s − t passes dY through unchanged, so the gradient of s is the value named grad/d.
        #expect(checked.graph.value(named: "grad/y") != nil && checked.graph.value(named: "grad/d") != nil)
        #expect(checked.graph.value(named: "grad/s") == nil)
        #expect(checked.graph.nodes[checked.forwardNodeCount...].allSatisfy { $0.name.hasPrefix("grad/") })
    }

    @Test("a parameter used twice receives the sum of both contributions")
    func accumulation() throws {
        let checked = try checkGradients(try GradientCase(text: """
            graph "twice" {
              input %x: f32[3,2]
              param %w: f32[3,3] = [0.5, -0.25, 0.75, 1, 0.125, -0.5, -1, 0.25, 0.375]
              %h: f32[3,2] = matmul(%w, %x) {transpose_a=0, transpose_b=0} @"first"
              %y: f32[3,2] = matmul(%w, %h) {transpose_a=0, transpose_b=0} @"second"
              output %y
            }
            """), withRespectTo: ["w", "x"])
        let gradient = try #require(checked.gradients[checked.graph.value(named: "w")!])
        let producer = try #require(checked.graph.nodes.first { $0.outputs.contains(gradient) })
        #expect(producer.op == .binary(.add) && producer.name == "grad/w/sum" && checked.graph[gradient].name == "grad/w")
    }

    @Test("every op without a gradient rule is reported at once, and the graph is left unchanged")
    func missingRules() throws {
        var graph = try Graph(text: """
            graph "unsupported" {
              input %x: f32[2,3]
              %m: f32[2,1] = reduce_max(%x) {axes=[1], keep_dims=1} @"peak"
              %p: f32[2,5] = pad(%x) {pads=[0,1,0,1], mode=reflect, value=0} @"mirror"
              %a: f32[2,3] = sub(%x, %m) @"shift"
              %r: f32[] = reduce_sum(%p) {axes=[0,1], keep_dims=0} @"sum_p"
              %s: f32[] = reduce_sum(%a) {axes=[0,1], keep_dims=0} @"sum_a"
              %loss: f32[] = add(%r, %s) @"total"
              output %loss
            }
            """)
        let before = graph.text
        #expect(throws: InvalidInput("graph 'unsupported'",
                                     "no gradient rule for 2 nodes between the parameters and the loss: 'peak' (reduce_max), 'mirror' (pad)")) {
            try Autodiff.gradients(of: graph.value(named: "loss")!, withRespectTo: [graph.inputs[0]], in: &graph)
        }
        #expect(graph.text == before)
    }

    @Test("gradients stop silently at integer values; values off every float path are reported unreached")
    func unreached() throws {
        var graph = try Graph(text: """
            graph "stops" {
              input %x: f32[2,3]
              param %p: f32[2,3] = [1, 5, 2, 7, 3, 4]
              param %unused: f32[3] = [1, 2, 3]
              %peak: f32[2,1] = reduce_max(%p) {axes=[1], keep_dims=1} @"peak"
              %winner: i64[1] = argmax(%peak) {axis=0, keep_dims=0, select_last_index=0} @"winner"
              %c: f32[1] = cast(%winner) {to=f32} @"as_float"
              %cs: f32[] = reshape(%c) {shape=[]} @"scalar"
              %sx: f32[] = reduce_sum(%x) {axes=[0,1], keep_dims=0} @"sum"
              %loss: f32[] = add(%sx, %cs) @"total"
              output %loss
            }
            """)
        let (x, p, unused) = (graph.value(named: "x")!, graph.value(named: "p")!, graph.value(named: "unused")!)
        let gradients = try Autodiff.gradients(of: graph.value(named: "loss")!, withRespectTo: [x, p, unused], in: &graph)
        #expect(gradients.unreached == [p, unused])
        #expect(gradients.values.keys.sorted() == [x])
        graph.outputs = [gradients[x]!]
        #expect(try Reference.run(graph, inputs: [Tensor(zeros: .float32, [2, 3])])[0].floats == [1, 1, 1, 1, 1, 1])
    }

    @Test("the loss must be an f32 scalar and differentiated values must be f32")
    func validation() throws {
        var graph = try Graph(text: """
            graph "bad" {
              input %x: f32[2]
              const %i: i64[2] = [1, 2]
              %y: f32[2] = relu(%x) @"act"
              output %y
            }
            """)
        let (x, i, y) = (graph.value(named: "x")!, graph.value(named: "i")!, graph.value(named: "y")!)
        #expect(throws: InvalidInput("loss 'y'", "must be an f32 scalar, got f32[2]")) {
            try Autodiff.gradients(of: y, withRespectTo: [x], in: &graph)
        }
        let loss = try graph.apply1(.reduce(.sum, axes: [0], keepDims: false), [y], name: "loss")
        #expect(throws: InvalidInput("value 'i'", "is i64[2]; only f32 values have gradients")) {
            try Autodiff.gradients(of: loss, withRespectTo: [i], in: &graph)
        }
    }

    @Test("a gradient reaching a layer-norm statistics output is refused")
    func statisticsGradient() throws {
        var graph = try Graph(text: """
            graph "stats" {
              input %x: f32[2,3]
              const %g: f32[3] = [1, 1, 1]
              %y: f32[2,3], %mean: f32[2,1], %r: f32[2,1] = layernorm(%x, %g) {axis=1, epsilon=0.00001} @"norm"
              %loss: f32[] = reduce_sum(%mean) {axes=[0,1], keep_dims=0} @"loss"
              output %loss
            }
            """)
        #expect(throws: InvalidInput("node 'norm'", "the loss depends on layernorm statistics output 'mean', which has no gradient")) {
            try Autodiff.gradients(of: graph.value(named: "loss")!, withRespectTo: [graph.inputs[0]], in: &graph)
        }
    }

    @Test("kept values: matMul keeps the operand opposite each needed gradient, tanh its input, softmax its output")
    func keptValues() throws {
        let checked = try checkGradients(try GradientCase(text: """
            graph "mlp" {
              input %x: f32[2,3]
              param %w1: f32[3,4] = [0.5, -0.25, 0.75, 1, 0.125, -0.5, -1, 0.25, 0.375, 0.625, -0.75, 0.875]
              param %b1: f32[4] = [0.1, -0.2, 0.3, 0]
              param %w2: f32[4,2] = [1, -1, 0.5, 0.25, -0.5, 0.75, 0.125, -0.375]
              %h: f32[2,4] = matmul(%x, %w1) {transpose_a=0, transpose_b=0} @"fc1"
              %hb: f32[2,4] = add(%h, %b1) @"bias1"
              %a: f32[2,4] = tanh(%hb) @"act"
              %o: f32[2,2] = matmul(%a, %w2) {transpose_a=0, transpose_b=0} @"fc2"
              %y: f32[2,2] = softmax(%o) {axis=1} @"probabilities"
              output %y
            }
            """), withRespectTo: ["w1", "b1", "w2"])
        let graph = checked.graph
        var kept: [String: [String]] = [:]
        for (index, values) in checked.gradients.keptValues { kept[graph.nodes[index].name] = values.map { graph[$0].name } }
        #expect(kept == ["fc1": ["x"], "act": ["hb"], "fc2": ["w2", "a"], "probabilities": ["y"], "check/weighted": ["check/weights"]])

        let fc1 = graph.nodes.first { $0.name == "fc1" }!
        #expect(Autodiff.keptValues(for: fc1, inputsNeedingGradient: [true, true])?.map { graph[$0].name } == ["x", "w1"])
        #expect(Autodiff.keptValues(for: graph.nodes.first { $0.name == "bias1" }!, inputsNeedingGradient: [true, true]) == [])
        #expect(Autodiff.keptValues(for: Node(op: .reduce(.max, axes: [0], keepDims: false), inputs: [], outputs: [], name: "m"),
                                    inputsNeedingGradient: [true]) == nil)
    }
}
