import CProto
import Foundation
import GraphIR
@testable import ONNX
import Reference
import Testing

/// The symbolic batch: followed through the graph when no node mixes samples, else the saved
/// batch is kept with a reason naming the node.
struct ExportBatchTests {
    /// Tokens flattened into one matrix for a weight product, then split back and transposed:
    /// the batch is a leading factor of the flattened axis and moves with the transpose.
    static let tokens = """
        graph tokens {
          input %x: f32[2,3,4]
          param %w: f32[4,5] = \(literal(20))
          %f: f32[6,4] = reshape(%x) {shape=[6,4]} @flatten
          %p: f32[6,5] = matmul(%f, %w) {transpose_a=0, transpose_b=0} @project
          %u: f32[2,3,5] = reshape(%p) {shape=[2,3,5]} @unflatten
          %t: f32[3,2,5] = transpose(%u) {permutation=[1,0,2]} @swap
          %s: f32[1,2,5] = slice(%t) {starts=[1,0,0], ends=[2,2,5], steps=[1,1,1]} @second
          %y: f32[2,5] = reshape(%s) {shape=[2,5]} @squeeze
          output %y
        }
        """

    @Test func batchAxisFollowsReshapesTransposesAndProducts() throws {
        let graph = try Graph(text: Self.tokens)
        let analysis = BatchAnalysis(graph)
        #expect(analysis.failure == nil)
        func axis(_ name: String) -> BatchAxis? { analysis.axes[graph.value(named: name)!] }
        #expect(axis("f") == BatchAxis(axis: 0, factor: 3))
        #expect(axis("p") == BatchAxis(axis: 0, factor: 3))
        #expect(axis("u") == BatchAxis(axis: 0, factor: 1))
        #expect(axis("t") == BatchAxis(axis: 1, factor: 1))
        #expect(axis("s") == BatchAxis(axis: 1, factor: 1))
        #expect(axis("y") == BatchAxis(axis: 0, factor: 1))
        #expect(axis("w") == nil)
        try expectRoundTrip(graph)
    }

    @Test func symbolicExtentsAreNamedNAndReshapeTargetsInferTheBatch() throws {
        let (bytes, summary) = try ONNXExport.serialized(try Graph(text: Self.tokens))
        #expect(summary.dynamicBatch)
        let model = try #require(bytes.withUnsafeBufferPointer { onnx__model_proto__unpack(nil, $0.count, $0.baseAddress) })
        defer { onnx__model_proto__free_unpacked(model, nil) }
        let graph = model.pointee.graph.pointee
        func dims(_ port: UnsafeMutablePointer<Onnx__ValueInfoProto>) -> [String] {
            let shape = port.pointee.type.pointee.tensor_type.pointee.shape.pointee
            return (0..<shape.n_dim).map { index in
                let dim = shape.dim[index]!.pointee
                return dim.value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? String(cString: dim.dim_param) : String(dim.dim_value)
            }
        }
        #expect(dims(graph.input[0]!) == ["N", "3", "4"])
        #expect(dims(graph.output[0]!) == ["N", "5"])
        var targets: [[Int64]] = []
        for index in 0..<graph.n_initializer {
            let tensor = graph.initializer[index]!.pointee
            if String(cString: tensor.name).hasSuffix("/shape") {
                let data = UnsafeRawBufferPointer(start: tensor.raw_data.data, count: tensor.raw_data.len)
                targets.append((0..<Int(tensor.dims[0])).map { data.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self) })
            }
        }
        #expect(targets == [[-1, 4], [-1, 3, 5], [-1, 5]])
    }

    @Test func aClassTokenBroadcastToTheBatchTakesTheRunTimeBatch() throws {
        let graph = try Graph(text: """
            graph vit {
              input %x: f32[2,3,4]
              param %cls: f32[1,1,4] = [0.5, -0.5, 1.0, 2.0]
              param %pos: f32[1,4,4] = \(literal(16))
              %c: f32[2,1,4] = expand(%cls) {shape=[2,1,4]} @broadcast
              %j: f32[2,4,4] = concat(%c, %x) {axis=1} @join
              %y: f32[2,4,4] = add(%j, %pos) @position
              output %y
            }
            """)
        let analysis = BatchAnalysis(graph)
        #expect(analysis.replicatingExpands == [0])
        try expectRoundTrip(graph)
    }

    @Test func atBatchOneFixedConcatOperandsAreReplicated() throws {
        let graph = try Graph(text: """
            graph vit {
              input %x: f32[1,3,4]
              param %cls: f32[1,1,4] = [0.5, -0.5, 1.0, 2.0]
              %j: f32[1,4,4] = concat(%cls, %x) {axis=1} @join
              %y: f32[1,4] = reduce_mean(%j) {axes=[1], keep_dims=0} @pool
              output %y
            }
            """)
        let analysis = BatchAnalysis(graph)
        #expect(analysis.replicatedOperands == [0: [0]])
        try expectRoundTrip(graph)
    }

    /// Graphs whose nodes mix samples, and the reason the export gives.
    static let mixing: [(text: String, reason: String)] = [
        ("%y: f32[3] = reduce_sum(%x) {axes=[0], keep_dims=0} @total", "node 'total' (reduce_sum) reduces over the batch axis"),
        ("%y: f32[2,3] = softmax(%x) {axis=0} @across", "node 'across' (softmax) normalises over the batch axis"),
        ("%y: f32[4,3] = concat(%x, %x) {axis=0} @stack", "node 'stack' (concat) concatenates along the batch axis"),
        ("%y: f32[2,3] = add(%x, %w) @bias", "node 'bias' (add) combines 'w', whose extent 2 on the batch axis is fixed"),
        ("%y: f32[1,3] = slice(%x) {starts=[1,0], ends=[2,3], steps=[1,1]} @last", "node 'last' (slice) slices the batch axis"),
        ("%y: f32[3,3] = matmul(%x, %x) {transpose_a=1, transpose_b=0} @gram", "node 'gram' (matmul) contracts over the batch axis"),
        ("%t: f32[3,2] = transpose(%x) {permutation=[1,0]} @swap\n  %y: f32[6] = reshape(%t) {shape=[6]} @flat",
         "node 'flat' (reshape) reshapes across the batch axis"),
    ]

    @Test(arguments: mixing.indices)
    func graphsThatMixSamplesKeepTheSavedBatch(_ index: Int) throws {
        let graph = try Graph(text: """
            graph mixing {
              input %x: f32[2,3]
              param %w: f32[2,3] = \(literal(6))
              \(Self.mixing[index].text)
              output %y
            }
            """)
        let summary = try ONNXExport.serialized(graph).summary
        #expect(!summary.dynamicBatch)
        #expect(summary.fixedBatchReason == Self.mixing[index].reason)
        try expectRoundTrip(graph, dynamic: false)
        #expect(throws: InvalidInput.self) { try exportAndImport(graph, batch: 3) }
    }

    @Test func fixedBatchOptionKeepsTheSavedBatchWithoutAReason() throws {
        let graph = try Graph(text: Self.tokens)
        let (imported, summary) = try exportAndImport(graph, options: .init(dynamicBatch: false))
        #expect(!summary.dynamicBatch)
        #expect(summary.fixedBatchReason == nil)
        #expect(imported.type(of: imported.inputs[0]).shape == [2, 3, 4])
        #expect(throws: InvalidInput.self) { try exportAndImport(graph, options: .init(dynamicBatch: false), batch: 3) }
    }
}
