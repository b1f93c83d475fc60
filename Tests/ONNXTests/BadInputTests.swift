import Foundation
import GraphIR
import ONNX
import Testing

/// Every broken or hostile file gives one line naming the file and the problem, never a crash.
struct BadInputTests {
    /// Writes `bytes` as model.onnx in a scratch folder and returns the import error.
    static func importError(_ bytes: [UInt8]) throws -> String? {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let path = folder.file("model.onnx")
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return message { _ = try ONNXImport.graph(fromFile: path) }.map { $0.replacingOccurrences(of: path, with: "model.onnx") }
    }

    static let valid = singleNode("Relu", inputs: [("x", [2])])

    @Test func missingFile() {
        #expect(message { _ = try ONNXImport.graph(fromFile: "/nonexistent/model.onnx") } == "/nonexistent/model.onnx: no such file")
    }

    @Test func truncatedFile() throws {
        let bytes = Self.valid.serialized()
        let error = try Self.importError(Array(bytes.prefix(bytes.count - 5)))
        #expect(error == "model.onnx: not an ONNX model (the protobuf data is truncated or malformed)")
    }

    @Test func randomBytesAndEmptyFiles() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let error = try Self.importError((0..<200).map { _ in UInt8.random(in: 0...255, using: &generator) })
            #expect(error?.hasPrefix("model.onnx: not an ONNX model") == true, "\(error ?? "imported")")
        }
        #expect(try Self.importError([]) == "model.onnx: empty file, not an ONNX model")
    }

    @Test func tensorDimsDisagreeingWithItsData() throws {
        let raw = ModelReadingTests.returning(TensorSpec(name: "w", dims: [2, 3], dataType: 1, raw: [UInt8](repeating: 0, count: 20)))
        #expect(try Self.importError(raw.serialized()) == "model.onnx: initializer 'w': raw_data holds 20 bytes, but float32[2,3] needs 24")
        let typed = ModelReadingTests.returning(TensorSpec(name: "w", dims: [2, 2], dataType: 1, floatData: [1, 2, 3]))
        #expect(try Self.importError(typed.serialized()) == "model.onnx: initializer 'w': float_data holds 3 values, but float32[2,2] needs 4")
        let empty = ModelReadingTests.returning(TensorSpec(name: "w", dims: [4], dataType: 7))
        #expect(try Self.importError(empty.serialized()) == "model.onnx: initializer 'w': has no data")
        let negative = ModelReadingTests.returning(TensorSpec(name: "w", dims: [-1, 3], dataType: 1, raw: []))
        #expect(try Self.importError(negative.serialized()) == "model.onnx: initializer 'w': dims [-1, 3] have a negative extent")
        let overflow = ModelReadingTests.returning(TensorSpec(name: "w", dims: [1 << 32, 1 << 32], dataType: 1, raw: []))
        #expect(try Self.importError(overflow.serialized()) == "model.onnx: initializer 'w': dims [4294967296,4294967296] are too large")
    }

    @Test func unsupportedOpsAreAllListedTogether() throws {
        var model = ModelSpec(opset: 17, otherOpsets: [("com.foo", 1)])
        model.inputs = [PortSpec("x", [1, 3, 4, 4])]
        model.outputs = [PortSpec("z", [])]
        model.nodes = [
            NodeSpec("Resize", ["x"], ["a"], name: "Resize_12"),
            NodeSpec("Resize", ["x"], ["b"], name: "Resize_13"),
            NodeSpec("Relu", ["a"], ["c"], name: "after_resize"),
            NodeSpec("MyOp", ["x"], ["d"], name: "x", domain: "com.foo"),
            NodeSpec("Conv", ["x", "x"], ["e"], [.string("auto_pad", "SAME_SIDEWAYS")], name: "conv"),
            NodeSpec("Mod", ["c", "c"], ["f"], name: "mod_after_resize"),
            NodeSpec("Sum", ["b", "c", "d", "e", "f"], ["z"]),
        ]
        // Relu and Sum, downstream of unsupported nodes, are supported and so not listed; Mod is.
        #expect(try Self.importError(model.serialized()) == "model.onnx: 4 unsupported ops: "
                + "node 'Resize_12' Resize (ai.onnx opset 17) (and 1 more like it); node 'x' MyOp (com.foo opset 1); "
                + "node 'conv' Conv (ai.onnx opset 17): auto_pad 'SAME_SIDEWAYS'; node 'mod_after_resize' Mod (ai.onnx opset 17)")
    }

    @Test func malformedGraphs() throws {
        var undefined = Self.valid
        undefined.nodes[0].inputs = ["nowhere"]
        #expect(try Self.importError(undefined.serialized())
                == "model.onnx: node 'node' (Relu): input 'nowhere' is not produced by an earlier node, an initializer or a graph input")
        var shapes = singleNode("Add", inputs: [("a", [2]), ("b", [3])])
        shapes.nodes[0].name = "add"
        #expect(try Self.importError(shapes.serialized()) == "model.onnx: node 'add' (Add): add: cannot broadcast [2] with [3]")
        var opset = Self.valid
        opset.opset = 99
        #expect(try Self.importError(opset.serialized()) == "model.onnx: default-domain opset 99 is outside the opsets serkd reads (1–25)")
    }
}
