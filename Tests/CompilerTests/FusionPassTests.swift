import Compiler
import Foundation
import GraphIR
import Reference
import Runtime
import Testing

/// Shared checks of the pass tests: a graph compiled with every pass computes what the reference
/// evaluator computes on the graph as written.
enum PassCheck {
    /// Deterministic pseudo-random inputs for `graph`, in [-range, range].
    static func inputs(for graph: Graph, seed: UInt64 = 1, range: Double = 2) -> [Tensor] {
        var state = seed
        return graph.inputs.map { id in
            let type = graph.type(of: id)
            let values = (0..<type.shape.elementCount).map { _ -> Double in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return (Double(state >> 11) / Double(1 << 53) * 2 - 1) * range
            }
            return Tensor(doubles: values, dtype: type.dtype, shape: type.shape)
        }
    }

    /// Outputs of `graph` compiled with all passes but `disabled`.
    static func compiled(_ graph: Graph, _ inputs: [Tensor], disabled: Set<String> = []) throws -> [Tensor] {
        let result = try Pipeline.compile(graph, options: .init(disabledPasses: disabled, verifyEachPass: true))
        return try Executor(result.plan).run(inputs)
    }

    /// The largest |a − b| over the largest |b|, so one tolerance fits outputs of any scale.
    static func relativeError(_ ours: Tensor, _ theirs: Tensor) -> Double {
        let a = ours.doubles, b = theirs.doubles
        let scale = max(b.map(abs).max() ?? 0, 1e-30)
        return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }

    /// The op kind names of the graph's nodes.
    static func kinds(_ graph: Graph) -> [String] { graph.nodes.map(\.op.kindName) }
}

@Suite struct FusionPassTests {
    /// Runs one pass, checks the rewritten graph verifies and computes what the original computes
    /// (reference evaluator, float64 inside each op), and returns it.
    func apply(_ pass: (Graph) throws -> Graph, to text: String, tolerance: Double = 1e-6) throws -> Graph {
        let graph = try Graph(text: text)
        let rewritten = try pass(graph)
        try Verifier.verify(rewritten)
        let inputs = PassCheck.inputs(for: graph)
        let expected = try Reference.run(graph, inputs: inputs)
        let actual = try Reference.run(rewritten, inputs: inputs)
        for (a, e) in zip(actual, expected) { #expect(PassCheck.relativeError(a, e) <= tolerance) }
        let compiled = try PassCheck.compiled(graph, inputs)
        for (a, e) in zip(compiled, expected) { #expect(PassCheck.relativeError(a, e) <= 1e-5) }
        return rewritten
    }

    @Test func constantFoldingEvaluatesConstantChainsButNotParameters() throws {
        let graph = try apply({ try ConstantFolding.run($0) }, to: """
        graph "fold" {
          input %x: f32[2,3]
          const %w: f32[3,2] = [1, 2, 3, 4, 5, 6]
          param %p: f32[2] = [1, 1]
          %wt: f32[2,3] = transpose(%w) {permutation=[1,0]} @"wt"
          %ws: f32[2,3] = mul(%wt, %wt) @"ws"
          %y: f32[2,2] = matmul(%x, %ws) {transpose_a=0, transpose_b=1} @"y"
          %z: f32[2,2] = add(%y, %p) @"z"
          output %z
        }
        """)
        #expect(PassCheck.kinds(graph) == ["matmul", "add"])
        let folded = try #require(graph.value(named: "ws"))
        #expect(graph.tensors[folded]?.floats == [1, 9, 25, 4, 16, 36])
    }

    @Test func constantFoldingWithTheReferenceMatchesTheKernels() throws {
        let text = """
        graph "fold" {
          input %x: f32[3]
          const %c: f32[3] = [0.5, 1.5, 2.5]
          %e: f32[3] = exp(%c) @"e"
          %y: f32[3] = add(%x, %e) @"y"
          output %y
        }
        """
        let byKernels = try ConstantFolding.run(try Graph(text: text))
        let byReference = try ConstantFolding.run(try Graph(text: text), evaluate: Reference.evaluate)
        let a = byKernels.tensors[byKernels.value(named: "e")!]!, b = byReference.tensors[byReference.value(named: "e")!]!
        #expect(PassCheck.relativeError(a, b) <= 1e-6)
    }

    @Test func constantFoldingKeepsResultsLargerThanTheirInputs() throws {
        let graph = try apply({ try ConstantFolding.run($0) }, to: """
        graph "grow" {
          input %x: f32[4,4]
          const %c: f32[4] = [1, 2, 3, 4]
          %e: f32[4,4] = expand(%c) {shape=[4,4]} @"e"
          %y: f32[4,4] = add(%x, %e) @"y"
          output %y
        }
        """)
        #expect(PassCheck.kinds(graph) == ["expand", "add"])
    }

    @Test func cseMergesDuplicateNodesAndEqualConstantsButNotDropout() throws {
        let graph = try apply(CommonSubexpressionElimination.run, to: """
        graph "cse" {
          input %x: f32[2,3]
          const %a: f32[] = [0.5]
          const %b: f32[] = [0.5]
          %y1: f32[2,3] = mul(%x, %a) @"y1"
          %y2: f32[2,3] = mul(%x, %b) @"y2"
          %t1: f32[2,3] = tanh(%y1) @"t1"
          %t2: f32[2,3] = tanh(%y2) @"t2"
          %s: f32[2,3] = add(%t1, %t2) @"s"
          output %s
        }
        """)
        #expect(PassCheck.kinds(graph) == ["mul", "tanh", "add"])
        let dropout = CommonSubexpressionElimination.run(try Graph(text: """
        graph "dropout" {
          input %x: f32[4]
          input %step: i64[]
          %d1: f32[4], %m1: f32[4] = dropout(%x, %step) {ratio=0.5, seed=1, per_sample=0} @"d1"
          %d2: f32[4], %m2: f32[4] = dropout(%x, %step) {ratio=0.5, seed=1, per_sample=0} @"d2"
          %s: f32[4] = add(%d1, %d2) @"s"
          output %s
        }
        """))
        #expect(PassCheck.kinds(dropout) == ["dropout", "dropout", "add"])
    }

    @Test func batchNormFoldsIntoAConstantConvolution() throws {
        let graph = try apply(BatchNormFolding.run, to: """
        graph "bn" {
          input %x: f32[1,2,3,3]
          const %w: f32[2,2,1,1] = [1, 2, 3, 4]
          const %b: f32[2] = [0.5, -0.5]
          const %g: f32[2] = [2, 0.5]
          const %beta: f32[2] = [0.1, 0.2]
          const %mu: f32[2] = [1, -1]
          const %var: f32[2] = [4, 0.25]
          %c: f32[1,2,3,3] = conv(%x, %w, %b) {strides=[1,1], pads=[0,0,0,0], dilations=[1,1], groups=1} @"c"
          %y: f32[1,2,3,3] = batchnorm(%c, %g, %beta, %mu, %var) {epsilon=1e-05} @"bn"
          output %y
        }
        """)
        #expect(PassCheck.kinds(graph) == ["conv"])
    }

    @Test func batchNormAfterATrainableConvolutionStays() throws {
        let graph = BatchNormFolding.run(try Graph(text: """
        graph "bn" {
          input %x: f32[1,2,3,3]
          param %w: f32[2,2,1,1] = [1, 2, 3, 4]
          const %g: f32[2] = [2, 0.5]
          const %beta: f32[2] = [0.1, 0.2]
          const %mu: f32[2] = [1, -1]
          const %var: f32[2] = [4, 0.25]
          %c: f32[1,2,3,3] = conv(%x, %w) {strides=[1,1], pads=[0,0,0,0], dilations=[1,1], groups=1} @"c"
          %y: f32[1,2,3,3] = batchnorm(%c, %g, %beta, %mu, %var) {epsilon=1e-05} @"bn"
          output %y
        }
        """))
        #expect(PassCheck.kinds(graph) == ["conv", "batchnorm"])
    }

    @Test func linearLayerWithBiasAndGeluBecomesOneGemm() throws {
        let graph = try apply(LinearFusion.run, to: """
        graph "linear" {
          input %x: f32[2,3,4]
          const %w: f32[5,4] = <80 bytes>
          const %b: f32[5] = [0.1, 0.2, 0.3, 0.4, 0.5]
          %y: f32[2,3,5] = matmul(%x, %w) {transpose_a=0, transpose_b=1} @"y"
          %z: f32[2,3,5] = add(%y, %b) @"z"
          %a: f32[2,3,5] = gelu(%z) @"a"
          output %a
        }
        """.replacingOccurrences(of: "<80 bytes>", with: "[" + (0..<20).map { String(Double($0 % 7) / 7 - 0.4) }.joined(separator: ", ") + "]"))
        #expect(graph.nodes.map(\.op) == [.linear(MatMul(transposeB: true), bias: .column, activation: .gelu)])
    }

    @Test func rowBiasAndReluAfterAPlainProductFuse() throws {
        let graph = try apply(LinearFusion.run, to: """
        graph "rows" {
          input %a: f32[3,4]
          input %b: f32[4,2]
          const %r: f32[3,1] = [1, -1, 2]
          %y: f32[3,2] = matmul(%a, %b) {transpose_a=0, transpose_b=0} @"y"
          %z: f32[3,2] = add(%r, %y) @"z"
          %a2: f32[3,2] = relu(%z) @"a2"
          output %a2
        }
        """)
        #expect(graph.nodes.map(\.op) == [.linear(MatMul(), bias: .row, activation: .relu)])
    }

    @Test func activationReadByABackwardPassStaysSeparate() throws {
        // The pre-activation %z is also read by relu's gradient: only the bias fuses.
        let graph = try apply(LinearFusion.run, to: """
        graph "training" {
          input %x: f32[2,4]
          input %dy: f32[2,3]
          param %w: f32[4,3] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
          param %b: f32[3] = [0.1, -0.2, 0.3]
          %y: f32[2,3] = matmul(%x, %w) {transpose_a=0, transpose_b=0} @"y"
          %z: f32[2,3] = add(%y, %b) @"z"
          %a: f32[2,3] = relu(%z) @"a"
          %dz: f32[2,3] = relu_backward(%z, %dy) @"dz"
          output %a, %dz
        }
        """)
        #expect(PassCheck.kinds(graph) == ["linear", "relu", "relu_backward"])
    }

    @Test func convolutionTakesItsActivation() throws {
        let graph = try apply(LinearFusion.run, to: """
        graph "conv" {
          input %x: f32[2,2,4,4]
          const %w: f32[3,2,3,3] = <elided>
          %c: f32[2,3,2,2] = conv(%x, %w) {strides=[1,1], pads=[0,0,0,0], dilations=[1,1], groups=1} @"c"
          %y: f32[2,3,2,2] = hard_swish(%c) @"y"
          output %y
        }
        """.replacingOccurrences(of: "<elided>", with: "[" + (0..<54).map { String(Double($0 % 5) / 5 - 0.3) }.joined(separator: ", ") + "]"))
        #expect(PassCheck.kinds(graph) == ["conv_activation"])
    }

    @Test(arguments: [
        "%h: f32[2,5] = mul(%x, %half) @\"h\"\n  %y: f32[2,5] = mul(%h, %p) @\"y\"",
        "%h: f32[2,5] = mul(%p, %x) @\"h\"\n  %y: f32[2,5] = mul(%half, %h) @\"y\"",
        "%h: f32[2,5] = mul(%half, %p) @\"h\"\n  %y: f32[2,5] = mul(%x, %h) @\"y\"",
        "%h: f32[2,5] = mul(%half, %x) @\"h\"\n  %y: f32[2,5] = mul(%p, %h) @\"y\"",
    ])
    func erfGeluInAnyOrderBecomesOneOp(_ product: String) throws {
        let graph = try apply(GeluFusion.run, to: """
        graph "gelu" {
          input %x: f32[2,5]
          const %root2: f32[] = [1.4142135]
          const %one: f32[] = [1]
          const %half: f32[] = [0.5]
          %d: f32[2,5] = div(%x, %root2) @"d"
          %e: f32[2,5] = erf(%d) @"e"
          %p: f32[2,5] = add(%one, %e) @"p"
          \(product)
          output %y
        }
        """)
        #expect(graph.nodes.map(\.op) == [.unary(.gelu)])
    }

    @Test func tanhGeluBecomesOneOp() throws {
        let graph = try apply(GeluFusion.run, to: """
        graph "gelu_tanh" {
          input %x: f32[7]
          const %three: f32[] = [3]
          const %k: f32[] = [0.044715]
          const %c: f32[] = [0.7978846]
          const %one: f32[] = [1]
          const %half: f32[] = [0.5]
          %cube: f32[7] = pow(%x, %three) @"cube"
          %kc: f32[7] = mul(%k, %cube) @"kc"
          %inner: f32[7] = add(%x, %kc) @"inner"
          %arg: f32[7] = mul(%inner, %c) @"arg"
          %t: f32[7] = tanh(%arg) @"t"
          %p: f32[7] = add(%t, %one) @"p"
          %xp: f32[7] = mul(%x, %p) @"xp"
          %y: f32[7] = mul(%xp, %half) @"y"
          output %y
        }
        """)
        #expect(graph.nodes.map(\.op) == [.unary(.geluTanh)])
    }

    @Test func geluWhoseIntermediateIsReadElsewhereStays() throws {
        let graph = try apply(GeluFusion.run, to: """
        graph "shared" {
          input %x: f32[3]
          const %root2: f32[] = [1.4142135]
          const %one: f32[] = [1]
          const %half: f32[] = [0.5]
          %d: f32[3] = div(%x, %root2) @"d"
          %e: f32[3] = erf(%d) @"e"
          %p: f32[3] = add(%e, %one) @"p"
          %h: f32[3] = mul(%x, %half) @"h"
          %y: f32[3] = mul(%h, %p) @"y"
          output %y, %e
        }
        """)
        #expect(!PassCheck.kinds(graph).contains("gelu"))
    }

    static let decomposedLayerNorm = """
    graph "ln" {
      input %x: f32[2,3,8]
      const %two: f32[] = [2]
      const %eps: f32[] = [1e-05]
      const %g: f32[8] = [1, 2, 3, 4, 0.5, 0.25, -1, 1.5]
      const %b: f32[8] = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
      %m: f32[2,3,1] = reduce_mean(%x) {axes=[2], keep_dims=1} @"m"
      %d: f32[2,3,8] = sub(%x, %m) @"d"
      %p: f32[2,3,8] = pow(%d, %two) @"p"
      %v: f32[2,3,1] = reduce_mean(%p) {axes=[2], keep_dims=1} @"v"
      %e: f32[2,3,1] = add(%v, %eps) @"e"
      %s: f32[2,3,1] = sqrt(%e) @"s"
      %n: f32[2,3,8] = div(%d, %s) @"n"
      %y: f32[2,3,8] = mul(%n, %g) @"y"
      %z: f32[2,3,8] = add(%b, %y) @"z"
      output %z
    }
    """

    @Test func decomposedLayerNormBecomesOneOp() throws {
        let graph = try apply(LayerNormFusion.run, to: Self.decomposedLayerNorm, tolerance: 1e-5)
        #expect(graph.nodes.map(\.op) == [.layerNorm(axis: 2, epsilon: 1e-5)])
    }

    @Test func layerNormWhoseStatisticsAreReadElsewhereStays() throws {
        let text = Self.decomposedLayerNorm.replacingOccurrences(of: "output %z", with: "output %z, %v")
        let graph = try apply(LayerNormFusion.run, to: text)
        #expect(!PassCheck.kinds(graph).contains("layernorm"))
    }

    @Test(arguments: [
        // Scale on Q, K transposed by the matMul flag.
        """
        %qs: f32[2,3,5,4] = mul(%q, %scale) @"qs"
        %s: f32[2,3,5,5] = matmul(%qs, %k) {transpose_a=0, transpose_b=1} @"s"
        """,
        // Scale on the scores, K transposed explicitly.
        """
        %kt: f32[2,3,4,5] = transpose(%k) {permutation=[0,1,3,2]} @"kt"
        %raw: f32[2,3,5,5] = matmul(%q, %kt) {transpose_a=0, transpose_b=0} @"raw"
        %s: f32[2,3,5,5] = div(%raw, %root) @"s"
        """,
    ])
    func attentionChainsBecomeOneOp(_ scores: String) throws {
        let graph = try apply(AttentionFusion.run, to: """
        graph "attention" {
          input %q: f32[2,3,5,4]
          input %k: f32[2,3,5,4]
          input %v: f32[2,3,5,6]
          const %scale: f32[] = [0.5]
          const %root: f32[] = [2]
          \(scores)
          %p: f32[2,3,5,5] = softmax(%s) {axis=3} @"p"
          %o: f32[2,3,5,6] = matmul(%p, %v) {transpose_a=0, transpose_b=0} @"o"
          output %o
        }
        """)
        #expect(graph.nodes.map(\.op) == [.attention(scale: 0.5, keysTransposed: false)])
    }

    @Test func attentionWhoseProbabilitiesAreKeptStays() throws {
        let graph = try apply(AttentionFusion.run, to: """
        graph "kept" {
          input %q: f32[1,2,3,4]
          input %k: f32[1,2,3,4]
          input %v: f32[1,2,3,4]
          %s: f32[1,2,3,3] = matmul(%q, %k) {transpose_a=0, transpose_b=1} @"s"
          %p: f32[1,2,3,3] = softmax(%s) {axis=3} @"p"
          %o: f32[1,2,3,4] = matmul(%p, %v) {transpose_a=0, transpose_b=0} @"o"
          output %o, %p
        }
        """)
        #expect(!PassCheck.kinds(graph).contains("attention"))
    }

    @Test func elementwiseChainWithBroadcastingBecomesOneProgram() throws {
        let graph = try apply(ElementwiseFusion.run, to: """
        graph "chain" {
          input %x: f32[4,6,8]
          input %bias: f32[8]
          input %gate: f32[4,1,8]
          const %c: f32[] = [0.25]
          %a: f32[4,6,8] = add(%x, %bias) @"a"
          %g: f32[4,6,8] = gelu(%a) @"g"
          %m: f32[4,6,8] = mul(%g, %gate) @"m"
          %l: bool[4,6,8] = less(%m, %c) @"l"
          %s: f32[4,6,8] = select(%l, %c, %m) @"s"
          %y: f32[4,6,8] = sub(%s, %x) @"y"
          output %y
        }
        """)
        #expect(PassCheck.kinds(graph) == ["elementwise"])
        guard case .fused(.elementwise(let program)) = graph.nodes[0].op else { return }
        #expect(program.instructions.count == 6)
        #expect(graph.nodes[0].inputs.count == 4)
    }

    @Test func largeBroadcastChainsSplitAcrossThreadsAndBlocks() throws {
        // 2¹⁷ elements: several threads, each over many 512-element blocks and runs of 1000.
        let graph = try apply(ElementwiseFusion.run, to: """
        graph "large" {
          input %x: f32[131,1000]
          input %row: f32[131,1]
          input %column: f32[1000]
          %a: f32[131,1000] = mul(%x, %row) @"a"
          %b: f32[131,1000] = sub(%column, %a) @"b"
          %c: f32[131,1000] = gelu_tanh(%b) @"c"
          %d: f32[131,1000] = max(%c, %x) @"d"
          output %d
        }
        """)
        #expect(PassCheck.kinds(graph) == ["elementwise"])
    }

    @Test func elementwiseIntermediateReadOutsideTheChainEndsTheGroup() throws {
        let graph = try apply(ElementwiseFusion.run, to: """
        graph "split" {
          input %x: f32[16]
          %a: f32[16] = exp(%x) @"a"
          %b: f32[16] = neg(%a) @"b"
          %c: f32[16] = tanh(%b) @"c"
          %d: f32[16] = mul(%c, %c) @"d"
          output %d, %a
        }
        """)
        #expect(PassCheck.kinds(graph) == ["exp", "elementwise"])
    }

    @Test func fusedOpsRoundTripThroughTheTextForm() throws {
        let program = ElementwiseProgram(inputCount: 2, instructions: [.binary(.mul, 0, 1), .unary(.clip(min: -1, max: 6), 2),
                                                                       .compare(.less, 3, 1), .select(4, 3, 0),
                                                                       .unary(.leakyRelu(alpha: 0.01), 5)])
        let ops: [Op] = [.elementwise(program), .attention(scale: 0.125, keysTransposed: true),
                         .linear(MatMul(transposeA: true), bias: .row, activation: .hardSigmoid(alpha: 0.2, beta: 0.5)),
                         .linear(MatMul(), bias: .none, activation: nil),
                         .convActivation(Convolution(strides: [2, 2], pads: [1, 1, 1, 1]), activation: .relu)]
        for op in ops {
            let attributes = Dictionary(uniqueKeysWithValues: op.attributes.map { ($0.name, $0.value) })
            #expect(try Op(kindName: op.kindName, attributes: attributes) == op)
        }
    }
}
