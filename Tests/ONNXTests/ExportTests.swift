import Foundation
import GraphIR
@testable import ONNX
import Reference
import Testing

// Exporting a graph and importing the file back with serkd's own importer must give a graph that
// computes the same outputs: at the saved batch directly, and (when the batch is exported symbolic)
// at other batches sample by sample.

/// Exports `graph` with `options`, then imports the file at `batch` (nil: the file's own batch).
func exportAndImport(_ graph: Graph, options: ONNXExport.Options = .init(), batch: Int? = nil) throws -> (graph: Graph, summary: ONNXExport.Summary) {
    let folder = try ScratchFolder()
    defer { folder.remove() }
    let path = folder.file("model.onnx")
    let summary = try ONNXExport.write(graph, to: path, options: options)
    return (try ONNXImport.graph(fromFile: path, options: .init(batch: batch)), summary)
}

/// Deterministic, distinct inputs for `graph` with axis 0 of every input set to `batch`.
func sampleInputs(for graph: Graph, batch: Int, seed: Double = 0) -> [Tensor] {
    graph.inputs.enumerated().map { position, input in
        var shape = graph.type(of: input).shape
        shape[0] = batch
        let values = (0..<shape.elementCount).map { index -> Double in
            let i = Double(index)
            let wave: Double = 2 * sin(0.37 * i + 1.3 * Double(position) + seed)
            return wave + 0.25 * cos(0.11 * i * i)
        }
        switch graph.type(of: input).dtype {
        case .int64: return Tensor(doubles: values.map { ($0 + 2.5).rounded(.down) }, dtype: .int64, shape: shape)
        case .bool: return Tensor(values.map { $0 > 0 }, shape: shape)
        case let dtype: return Tensor(doubles: values, dtype: dtype, shape: shape)
        }
    }
}

/// Sample `index` (along axis 0) of `tensor`.
func sample(_ tensor: Tensor, _ index: Int) -> [Double] {
    let size = tensor.elementCount / tensor.shape[0]
    return Array(tensor.doubles[(index * size)..<((index + 1) * size)])
}

/// `tensor` with its axis 0 holding `count` copies of sample `index`.
func repeated(_ tensor: Tensor, sample index: Int, count: Int) -> Tensor {
    var shape = tensor.shape
    shape[0] = count
    let values = sample(tensor, index)
    return Tensor(doubles: Array((0..<count).map { _ in values }.joined()), dtype: tensor.dtype, shape: shape)
}

/// Expects equal values within `tolerance`·(1 + |expected|), NaN matching NaN.
func expectClose(_ actual: [Double], _ expected: [Double], tolerance: Double, _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
    for (index, (a, e)) in zip(actual, expected).enumerated() where !(abs(a - e) <= tolerance * (1 + abs(e)) || (a.isNaN && e.isNaN)) {
        Issue.record("\(what) element \(index): \(a), expected \(e)", sourceLocation: sourceLocation)
        return
    }
}

/// Expects `exported` (imported back at `batch`) to compute what `original` computes for each
/// sample: `original` runs at its own batch on copies of one sample at a time. Every output must
/// carry the batch on axis 0.
func expectSamePerSample(_ original: Graph, _ exported: Graph, batch: Int, tolerance: Double,
                         sourceLocation: SourceLocation = #_sourceLocation) throws {
    let savedBatch = original.type(of: original.inputs[0]).shape[0]
    let inputs = sampleInputs(for: exported, batch: batch, seed: 0.5)
    let outputs = try Reference.run(exported, inputs: inputs)
    for index in 0..<batch {
        let expected = try Reference.run(original, inputs: inputs.map { repeated($0, sample: index, count: savedBatch) })
        for (position, (actual, wanted)) in zip(outputs, expected).enumerated() {
            expectClose(sample(actual, index), sample(wanted, 0), tolerance: tolerance,
                        "output \(position) sample \(index) at batch \(batch)", sourceLocation: sourceLocation)
        }
    }
}

/// The whole round trip: same outputs at the saved batch, and, when the export is dynamic, at
/// batches 1 and 3 sample by sample.
func expectRoundTrip(_ graph: Graph, opset: Int = 17, tolerance: Double = 0, dynamic: Bool = true,
                     sourceLocation: SourceLocation = #_sourceLocation) throws {
    let options = ONNXExport.Options(opset: opset)
    let savedBatch = graph.type(of: graph.inputs[0]).shape[0]
    let (same, summary) = try exportAndImport(graph, options: options, batch: savedBatch)
    #expect(summary.dynamicBatch == dynamic, "\(summary.fixedBatchReason ?? "dynamic")", sourceLocation: sourceLocation)
    let inputs = sampleInputs(for: graph, batch: savedBatch)
    let expected = try Reference.run(graph, inputs: inputs), actual = try Reference.run(same, inputs: inputs)
    #expect(actual.map(\.shape) == expected.map(\.shape), sourceLocation: sourceLocation)
    #expect(actual.map(\.dtype) == expected.map(\.dtype), sourceLocation: sourceLocation)
    for (position, (a, e)) in zip(actual, expected).enumerated() {
        expectClose(a.doubles, e.doubles, tolerance: tolerance, "output \(position)", sourceLocation: sourceLocation)
    }
    guard summary.dynamicBatch else { return }
    for batch in [1, 3] {
        let resized = try exportAndImport(graph, options: options, batch: batch).graph
        try expectSamePerSample(graph, resized, batch: batch, tolerance: tolerance, sourceLocation: sourceLocation)
    }
}

/// `count` distinct literal values for a text-form tensor.
func literal(_ count: Int, scale: Double = 0.5) -> String {
    "[" + (0..<count).map { String(Float(scale * sin(Double($0) * 1.7 + 0.3))) }.joined(separator: ", ") + "]"
}

/// One exportable-op case: a text-form graph at batch 2.
struct OpCase: CustomStringConvertible, Sendable {
    var description: String
    var text: String
    /// Relative tolerance; 0 where the op maps to exactly the ops the importer reads back.
    var tolerance: Double = 0
    var opsets: [Int] = [17]
}

/// A graph applying one elementwise function to a [2,3,4] input.
func unaryCase(_ kind: String, _ attributes: String = "", tolerance: Double = 0, opsets: [Int] = [17]) -> OpCase {
    OpCase(description: kind + attributes, text: """
        graph unary {
          input %x: f32[2,3,4]
          %y: f32[2,3,4] = \(kind)(%x)\(attributes.isEmpty ? "" : " {\(attributes)}") @f
          output %y
        }
        """, tolerance: tolerance, opsets: opsets)
}

/// A graph applying a broadcasting binary op between a [2,3] input and a [3] weight.
func binaryCase(_ kind: String, output: String = "f32") -> OpCase {
    OpCase(description: kind, text: """
        graph binary {
          input %x: f32[2,3]
          param %w: f32[3] = [0.5, -1.25, 2.0]
          %y: \(output)[2,3] = \(kind)(%x, %w) @f
          output %y
        }
        """)
}

struct ExportOpTests {
    static let unaryCases: [OpCase] = [
        "neg", "abs", "exp", "log", "sqrt", "reciprocal", "sigmoid", "tanh", "erf", "relu", "hard_swish",
    ].map { unaryCase($0) } + [
        unaryCase("leaky_relu", "alpha=0.1"),
        unaryCase("hard_sigmoid", "alpha=0.3, beta=0.4"),
        unaryCase("clip", "min=-1.0, max=1.5"),
        unaryCase("clip", "min=-inf, max=6.0"),
        unaryCase("hard_swish", tolerance: 1e-6, opsets: [13]),
        unaryCase("gelu", tolerance: 1e-6, opsets: [13, 17]),
        unaryCase("gelu", opsets: [20, 21]),
        unaryCase("gelu_tanh", tolerance: 1e-6, opsets: [17]),
        unaryCase("gelu_tanh", opsets: [20]),
    ]

    static let elementwiseCases: [OpCase] = BinaryFunction.allCases.map { binaryCase($0.rawValue) }
        + Comparison.allCases.map { binaryCase($0.rawValue, output: "bool") } + [
            OpCase(description: "not, select", text: """
                graph logic {
                  input %x: f32[2,3]
                  param %w: f32[3] = [0.5, -1.25, 2.0]
                  %c: bool[2,3] = less(%x, %w) @less
                  %n: bool[2,3] = not(%c) @not
                  %y: f32[2,3] = select(%n, %x, %w) @select
                  output %c, %y
                }
                """),
            OpCase(description: "cast", text: """
                graph casts {
                  input %x: f32[2,3]
                  %i: i64[2,3] = cast(%x) {to=i64} @to_int
                  %b: bool[2,3] = cast(%x) {to=bool} @to_bool
                  %f: f32[2,3] = cast(%i) {to=f32} @to_float
                  %y: f32[2,3] = identity(%f) @same
                  output %i, %b, %y
                }
                """),
            OpCase(description: "int64 arithmetic", text: """
                graph integers {
                  input %i: i64[2,3]
                  const %k: i64[3] = [2, -1, 3]
                  %n: i64[2,3] = neg(%i) @neg
                  %a: i64[2,3] = abs(%n) @abs
                  %r: i64[2,3] = relu(%n) @relu
                  %m: i64[2,3] = mul(%a, %k) @mul
                  %s: i64[2,3] = max(%m, %r) @max
                  output %s
                }
                """, opsets: [13, 17]),
        ]

    static let networkCases: [OpCase] = [
        OpCase(description: "matmul", text: """
            graph matmuls {
              input %x: f32[2,3]
              param %w: f32[3,4] = \(literal(12))
              param %v: f32[5,4] = \(literal(20))
              %y: f32[2,4] = matmul(%x, %w) {transpose_a=0, transpose_b=0} @plain
              %z: f32[2,5] = matmul(%y, %v) {transpose_a=0, transpose_b=1} @gemm
              output %z
            }
            """),
        OpCase(description: "batched matmul with transposes", text: """
            graph batched {
              input %x: f32[2,3,4]
              param %w: f32[5,3] = \(literal(15))
              %y: f32[2,4,5] = matmul(%x, %w) {transpose_a=1, transpose_b=1} @both
              %s: f32[2,4,4] = matmul(%y, %y) {transpose_a=0, transpose_b=1} @self
              output %s
            }
            """),
        OpCase(description: "conv", text: """
            graph convolutions {
              input %x: f32[2,2,5,5]
              param %w: f32[3,2,3,3] = \(literal(54))
              param %b: f32[3] = [0.1, -0.2, 0.3]
              param %g: f32[4,1,2,2] = \(literal(16))
              %y: f32[2,3,3,3] = conv(%x, %w, %b) {strides=[2,1], pads=[1,0,1,2], dilations=[1,2], groups=1} @conv
              %z: f32[2,4,6,6] = conv(%x, %g) {strides=[1,1], pads=[1,1,1,1], dilations=[1,1], groups=2} @grouped
              output %y, %z
            }
            """),
        OpCase(description: "pooling", text: """
            graph pools {
              input %x: f32[2,2,5,6]
              %m: f32[2,2,3,3] = maxpool(%x) {kernel=[3,2], strides=[2,2], pads=[1,0,1,1], dilations=[1,1], ceil_mode=1} @max
              %d: f32[2,2,3,4] = maxpool(%x) {kernel=[2,2], strides=[1,1], pads=[0,0,0,0], dilations=[2,2], ceil_mode=0} @dilated
              %a: f32[2,2,3,3] = avgpool(%x) {kernel=[3,2], strides=[2,2], pads=[1,0,1,1], dilations=[1,1], ceil_mode=1, count_include_pad=1} @avg_in
              %e: f32[2,2,3,3] = avgpool(%x) {kernel=[3,3], strides=[2,2], pads=[1,1,1,1], dilations=[1,1], ceil_mode=0, count_include_pad=0} @avg_ex
              %g: f32[2,2,1,1] = global_avgpool(%x) @gap
              %h: f32[2,2,1,1] = global_maxpool(%x) @gmp
              output %m, %d, %a, %e, %g, %h
            }
            """),
        OpCase(description: "dilated avgpool", text: """
            graph pool {
              input %x: f32[2,1,5,5]
              %a: f32[2,1,3,3] = avgpool(%x) {kernel=[2,2], strides=[1,1], pads=[0,0,0,0], dilations=[2,2], ceil_mode=0, count_include_pad=0} @avg
              output %a
            }
            """, opsets: [19]),
        OpCase(description: "batchnorm", text: """
            graph norm {
              input %x: f32[2,3,2,2]
              param %s: f32[3] = [1.0, 0.5, -2.0]
              param %b: f32[3] = [0.0, 0.25, 1.0]
              param %m: f32[3] = [0.1, -0.1, 0.3]
              param %v: f32[3] = [1.0, 2.0, 0.5]
              %y: f32[2,3,2,2] = batchnorm(%x, %s, %b, %m, %v) {epsilon=0.001} @bn
              output %y
            }
            """),
        OpCase(description: "layernorm", text: """
            graph norms {
              input %x: f32[2,3,4]
              param %s: f32[4] = [1.0, 0.5, -2.0, 1.5]
              param %b: f32[4] = [0.0, 0.25, 1.0, -0.5]
              param %t: f32[3,4] = \(literal(12))
              %y: f32[2,3,4], %mean: f32[2,3,1], %inv: f32[2,3,1] = layernorm(%x, %s, %b) {axis=2, epsilon=1e-05} @ln
              %z: f32[2,3,4], %m2: f32[2,1,1], %i2: f32[2,1,1] = layernorm(%y, %t) {axis=1, epsilon=0.001} @ln2
              output %y, %mean, %inv, %z
            }
            """, tolerance: 1e-5, opsets: [13, 17]),
        OpCase(description: "softmax", text: """
            graph softmaxes {
              input %x: f32[2,3,4]
              %y: f32[2,3,4] = softmax(%x) {axis=1} @softmax
              %z: f32[2,3,4] = log_softmax(%x) {axis=2} @log_softmax
              output %y, %z
            }
            """),
        OpCase(description: "reductions", text: """
            graph reductions {
              input %x: f32[2,3,4]
              %s: f32[2,1,1] = reduce_sum(%x) {axes=[1,2], keep_dims=1} @sum
              %m: f32[2,4] = reduce_mean(%x) {axes=[1], keep_dims=0} @mean
              %a: f32[2,3] = reduce_max(%x) {axes=[2], keep_dims=0} @max
              %b: f32[2,1,4] = reduce_min(%x) {axes=[1], keep_dims=1} @min
              %i: i64[2,4] = argmax(%x) {axis=1, keep_dims=0, select_last_index=1} @argmax
              %j: i64[2,3,1] = argmax(%x) {axis=2, keep_dims=1, select_last_index=0} @argmax_keep
              output %s, %m, %a, %b, %i, %j
            }
            """, opsets: [13, 17, 18]),
    ]

    static let movementCases: [OpCase] = [
        OpCase(description: "reshape, transpose", text: """
            graph shapes {
              input %x: f32[2,3,4]
              %f: f32[2,12] = reshape(%x) {shape=[2,12]} @flatten
              %r: f32[2,4,3] = reshape(%f) {shape=[2,4,3]} @unflatten
              %t: f32[2,3,4] = transpose(%r) {permutation=[0,2,1]} @transpose
              %u: f32[1,2,3,4] = reshape(%t) {shape=[1,2,3,4]} @unsqueeze
              %v: f32[2,12] = reshape(%u) {shape=[2,12]} @squeeze
              output %v
            }
            """),
        OpCase(description: "slice", text: """
            graph slices {
              input %x: f32[2,5,4]
              %y: f32[2,2,4] = slice(%x) {starts=[0,1,3], ends=[2,5,-1], steps=[1,2,-1]} @strided
              %z: f32[2,5,4] = slice(%x) {starts=[0,0,0], ends=[2,5,4], steps=[1,1,1]} @whole
              %w: f32[2,2,2] = slice(%x) {starts=[0,4,1], ends=[2,0,3], steps=[1,-3,1]} @backwards
              output %y, %z, %w
            }
            """),
        OpCase(description: "concat, gather", text: """
            graph joins {
              input %x: f32[2,3,4]
              const %i: i64[3] = [2, 0, -1]
              const %j: i64[] = [1]
              %e: f32[2,3,4] = exp(%x) @exp
              %c: f32[2,6,4] = concat(%x, %e) {axis=1} @concat
              %g: f32[2,6,3] = gather(%c, %i) {axis=2} @gather
              %h: f32[2,3] = gather(%g, %j) {axis=1} @pick
              output %g, %h
            }
            """),
        OpCase(description: "expand, tile", text: """
            graph broadcasts {
              input %x: f32[2,1,3]
              %e: f32[2,4,3] = expand(%x) {shape=[2,4,3]} @expand
              %t: f32[2,2,9] = tile(%x) {repeats=[1,2,3]} @tile
              output %e, %t
            }
            """),
        OpCase(description: "pad", text: """
            graph pads {
              input %x: f32[2,3,4]
              %c: f32[2,4,7] = pad(%x) {pads=[0,1,2,0,0,1], mode=constant, value=1.5} @constant
              %r: f32[2,5,5] = pad(%x) {pads=[0,1,0,0,1,1], mode=reflect, value=0.0} @reflect
              %e: f32[2,3,6] = pad(%x) {pads=[0,0,2,0,0,0], mode=edge, value=0.0} @edge
              %k: f32[2,3,3] = pad(%x) {pads=[0,-1,0,0,1,-1], mode=constant, value=0.0} @crop
              output %c, %r, %e, %k
            }
            """),
    ]

    @Test(arguments: unaryCases + elementwiseCases + networkCases + movementCases)
    func exportRoundTrips(_ opCase: OpCase) throws {
        let graph = try Graph(text: opCase.text)
        for opset in opCase.opsets {
            try expectRoundTrip(graph, opset: opset, tolerance: opCase.tolerance)
        }
    }

    @Test func everyInferenceOpIsCovered() throws {
        let cases = Self.unaryCases + Self.elementwiseCases + Self.networkCases + Self.movementCases
        let covered = Set(try cases.flatMap { try Graph(text: $0.text).nodes.map(\.op.kindName) })
        let inference = Set(["neg", "abs", "exp", "log", "sqrt", "reciprocal", "sigmoid", "tanh", "erf", "relu", "leaky_relu",
                             "gelu", "gelu_tanh", "hard_sigmoid", "hard_swish", "clip", "not", "select", "cast", "identity",
                             "matmul", "conv", "maxpool", "avgpool", "global_avgpool", "global_maxpool", "batchnorm", "layernorm",
                             "softmax", "log_softmax", "reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "argmax", "reshape",
                             "transpose", "slice", "concat", "gather", "expand", "pad", "tile"]
                            + BinaryFunction.allCases.map(\.rawValue) + Comparison.allCases.map(\.rawValue))
        #expect(inference.subtracting(covered).isEmpty, "not covered: \(inference.subtracting(covered).sorted())")
    }

    @Test func geluUsesTheOpsetsOwnOperatorWhenItHasOne() throws {
        let graph = try Graph(text: unaryCase("gelu").text)
        let composed = try ONNXExport.serialized(graph, options: .init(opset: 17)).summary
        let native = try ONNXExport.serialized(graph, options: .init(opset: 20)).summary
        #expect(composed.nodeCount == 5)
        #expect(native.nodeCount == 1)
    }

    @Test func trainingOpsAreRefusedByName() throws {
        var graph = Graph(name: "train")
        let x = graph.addInput("x", TensorType(.float32, [2, 3]))
        let step = graph.addConstant("step", Tensor(scalar: Int64(1)))
        let outputs = try graph.apply(.dropout(ratio: 0.1, seed: 7, perSample: false), [x, step], name: "drop")
        graph.outputs = [outputs[0]]
        let folder = try ScratchFolder()
        defer { folder.remove() }
        #expect(throws: InvalidInput(nil, "node 'drop' (dropout) is a training op; export takes inference graphs")) {
            try ONNXExport.write(graph, to: folder.file("m.onnx"))
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file("m.onnx")))
    }

    @Test func unsupportedOpsetsAndUnwritablePathsAreOneLineErrors() throws {
        let graph = try Graph(text: unaryCase("relu").text)
        #expect(throws: InvalidInput("opset", "12 is not supported (serkd writes opsets 13–21)")) {
            try ONNXExport.serialized(graph, options: .init(opset: 12))
        }
        let error = #expect(throws: InvalidInput.self) { try ONNXExport.write(graph, to: "/nonexistent-folder/m.onnx") }
        #expect(error?.subject == "/nonexistent-folder/m.onnx")
        let dilated = try Graph(text: Self.networkCases.first { $0.description == "dilated avgpool" }!.text)
        #expect(throws: InvalidInput(nil, "node 'avg' (avgpool) has dilations [2, 2], which AveragePool takes from opset 19 (use --opset 19)")) {
            try ONNXExport.serialized(dilated, options: .init(opset: 18))
        }
    }

    @Test func metadataBecomesMetadataPropsWithImportedKeysRestored() throws {
        var graph = try Graph(text: unaryCase("relu").text)
        graph.metadata = ["labels": "cat\ndog", "taps.logits": "y", "normalization.mean": "0.485,0.456,0.406",
                          "onnx.author": "someone", "onnx.labels": "stale"]
        let imported = try exportAndImport(graph).graph
        #expect(imported.metadata["labels"] == "cat\ndog")
        #expect(imported.metadata["onnx.labels"] == "cat\ndog")
        #expect(imported.metadata["onnx.taps.logits"] == "y")
        #expect(imported.metadata["onnx.normalization.mean"] == "0.485,0.456,0.406")
        #expect(imported.metadata["onnx.author"] == "someone")
        #expect(imported.metadata["producer"] == "serkd")
        #expect(imported.metadata["opsets"] == "ai.onnx:17")
    }

    @Test func weightOutputsAndUnusedStatisticsExportCleanly() throws {
        let graph = try Graph(text: """
            graph g {
              input %x: f32[2,4]
              param %s: f32[4] = [1.0, 2.0, 3.0, 4.0]
              %y: f32[2,4], %m: f32[2,1], %i: f32[2,1] = layernorm(%x, %s) {axis=1, epsilon=1e-05} @ln
              output %y, %s
            }
            """)
        let imported = try exportAndImport(graph, batch: 2).graph
        #expect(imported.outputs.map { imported[$0].name } == ["y", "s"])
        let outputs = try Reference.run(imported, inputs: sampleInputs(for: imported, batch: 2))
        #expect(outputs[1].floats == [1, 2, 3, 4])
    }
}
