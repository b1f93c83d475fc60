import Foundation
import GraphIR
import ONNX
import Reference
import Testing

/// How the importer reads files: tensor encodings, external data, inputs and batch, metadata,
/// local functions.
struct ModelReadingTests {
    /// A model returning initializer `w` through Identity, so the decoded tensor is the output.
    static func returning(_ tensor: TensorSpec) -> ModelSpec {
        var model = ModelSpec()
        model.initializers = [tensor]
        model.outputs = [PortSpec("y", [])]
        model.nodes = [NodeSpec("Identity", [tensor.name], ["y"])]
        return model
    }

    static func decoded(_ tensor: TensorSpec) throws -> Tensor {
        let graph = try importModel(returning(tensor))
        return try #require(graph.tensors[graph.outputs[0]])
    }

    @Test func typedFieldsAndWidenedElementTypes() throws {
        #expect(try Self.decoded(TensorSpec(name: "w", dims: [2], dataType: 1, floatData: [1.5, -2])).floats == [1.5, -2])
        #expect(try Self.decoded(TensorSpec(name: "w", dims: [2], dataType: 7, int64Data: [1 << 40, -3])).int64s == [1 << 40, -3])
        #expect(try Self.decoded(TensorSpec(name: "w", dims: [2], dataType: 11, doubleData: [0.1, 1e39])).floats == [0.1, .infinity])
        #expect(try Self.decoded(TensorSpec(name: "w", dims: [3], dataType: 3, int32Data: [-128, 0, 127])).int64s == [-128, 0, 127])
        #expect(try Self.decoded(TensorSpec(name: "w", dims: [2], dataType: 9, int32Data: [0, 1])).bools == [false, true])
        #expect(try Self.decoded(TensorSpec(name: "w", dims: [2], dataType: 13, uint64Data: [0, 1 << 63 - 1])).int64s == [0, Int64.max])
        // float16 bit patterns: 0x3C00 = 1, 0xC000 = -2 (in int32_data and in raw_data).
        #expect(try Self.decoded(TensorSpec(name: "w", dims: [2], dataType: 10, int32Data: [0x3C00, 0xC000])).floats == [1, -2])
        #expect(try Self.decoded(TensorSpec(name: "w", dims: [2], dataType: 10, raw: [0x00, 0x3C, 0x00, 0xC0])).floats == [1, -2])
        #expect(try Self.decoded(TensorSpec(name: "w", dims: [2], dataType: 2, raw: [255, 7])).int64s == [255, 7])
        #expect(try Self.decoded(TensorSpec(name: "w", dims: [0, 3], dataType: 1)).shape == [0, 3])
    }

    @Test func unsupportedElementTypesAndOverflowingValuesAreRejected() throws {
        let string = message { _ = try Self.decoded(TensorSpec(name: "w", dims: [1], dataType: 8)) }
        #expect(string?.hasSuffix("initializer 'w': element type string is not supported (serkd reads float, integer and bool tensors)") == true)
        let huge = message { _ = try Self.decoded(TensorSpec(name: "w", dims: [1], dataType: 13, uint64Data: [UInt64.max])) }
        #expect(huge?.hasSuffix("initializer 'w': value 18446744073709551615 does not fit in int64") == true)
    }

    @Test func externalDataInsideTheModelFolderIsRead() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        try FileManager.default.createDirectory(atPath: folder.file("weights"), withIntermediateDirectories: true)
        let values: [Float] = [1, 2, 3, 4, 5, 6]
        let bytes = [UInt8](repeating: 0xEE, count: 8) + values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }
        try Data(bytes).write(to: URL(fileURLWithPath: folder.file("weights/w.bin")))
        let tensor = TensorSpec(name: "w", dims: [2, 3], dataType: 1, external: [("location", "weights/w.bin"), ("offset", "8"), ("length", "24")])
        try Self.returning(tensor).write(to: folder.file("model.onnx"))
        let graph = try ONNXImport.graph(fromFile: folder.file("model.onnx"))
        #expect(graph.tensors[graph.outputs[0]]?.floats == values)
        #expect(graph.metadata["weights"] == "initializers: 0 raw_data, 0 typed fields, 1 external (1 files); Constant nodes: 0")
    }

    @Test func externalDataOutsideTheFolderOrTooShortIsRejected() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        try Data(count: 16).write(to: URL(fileURLWithPath: folder.file("short.bin")))
        try FileManager.default.createSymbolicLink(atPath: folder.file("escape.bin"), withDestinationPath: "/etc/hostname")
        let cases: [([(String, String)], String)] = [
            ([("location", "../x")], "external data location '../x' "),
            ([("location", "/etc/passwd")], "external data location '/etc/passwd' is an absolute path; it must be relative to the model's folder"),
            ([("location", "escape.bin")], "external data location 'escape.bin' is outside the model's folder"),
            ([("location", "missing.bin")], "external data location 'missing.bin' does not exist"),
            ([("location", "short.bin"), ("offset", "8")], "external data 'short.bin' is 16 bytes, too short for 24 bytes at offset 8"),
            ([("location", "short.bin"), ("length", "12")], "external data 'short.bin' has length 12, but float32[2,3] needs 24 bytes"),
            ([("location", "short.bin"), ("offset", "-1")], "external data has an invalid offset '-1'"),
        ]
        let path = folder.file("model.onnx")
        for (entries, problem) in cases {
            try Self.returning(TensorSpec(name: "w", dims: [2, 3], dataType: 1, external: entries)).write(to: path)
            let text = message { _ = try ONNXImport.graph(fromFile: path) }
            #expect(text?.hasPrefix("\(path): initializer 'w': \(problem)") == true, "\(text ?? "no error")")
        }
        // `../x` is refused whether or not the file exists outside.
        try Data(count: 24).write(to: URL(fileURLWithPath: folder.path + "-outside.bin"))
        defer { try? FileManager.default.removeItem(atPath: folder.path + "-outside.bin") }
        let outside = "../" + (folder.path as NSString).lastPathComponent + "-outside.bin"
        try Self.returning(TensorSpec(name: "w", dims: [2, 3], dataType: 1, external: [("location", outside)])).write(to: path)
        #expect(message { _ = try ONNXImport.graph(fromFile: path) }?.hasSuffix("is outside the model's folder") == true)
    }

    @Test func symbolicBatchTakesTheOptionElseOne() throws {
        var model = singleNode("Relu", inputs: [("x", [nil, 3])])
        #expect(try importModel(model).type(of: ValueID(0)) == TensorType(.float32, [1, 3]))
        let batched = try importModel(model, options: .init(batch: 4))
        #expect(batched.type(of: batched.inputs[0]).shape == [4, 3])
        #expect(batched.metadata["batch"] == "4")
        model.inputs[0].dims = [2, 3]
        #expect(try importModel(model).metadata["batch"] == "2")
        #expect(message { _ = try importModel(model, options: .init(batch: 4)) }?
            .hasSuffix("the model's inputs have a fixed batch of 2; a batch of 4 cannot apply") == true)
        model.inputs[0] = PortSpec("x", [2, nil], symbol: "width")
        #expect(message { _ = try importModel(model) }?
            .hasSuffix("input 'x' axis 1 is symbolic ('width'); serkd needs static shapes and only sets the leading (batch) axis") == true)
    }

    @Test func initializersListedAsInputsAreConstantsWithDefaults() throws {
        var model = singleNode("Add", inputs: [("x", [2]), ("b", [2])], initializers: [.floats("b", [2], [10, 20])])
        model.inputs.append(PortSpec("b", [2]))
        let graph = try importModel(model)
        #expect(graph.inputs.count == 1)
        expectClose(try run(model, [Tensor([1, 2], shape: [2])])[0], [11, 22], shape: [2])
        let bound = try run(model, [Tensor([1, 2], shape: [2])], options: .init(bindings: ["b": Tensor([0, 1], shape: [2])]))[0]
        expectClose(bound, [1, 3], shape: [2])
    }

    @Test func metadataRecordsWhereTheModelCameFrom() throws {
        var model = singleNode("Add", inputs: [("x", [nil, 2]), ("b", [2])], initializers: [.floats("b", [2], [1, 2])])
        model.nodes.insert(NodeSpec("Constant", [], ["c"], [.tensor("value", .floats("c", [2], [1, 1]))]), at: 0)
        model.nodes.append(NodeSpec("Add", ["y", "c"], ["z"]))
        model.outputs = [PortSpec("z", [])]
        let graph = try importModel(model, options: .init(batch: 3))
        #expect(graph.metadata["source"] == "model.onnx")
        #expect(graph.metadata["producer"] == "serkd tests")
        #expect(graph.metadata["ir_version"] == "8")
        #expect(graph.metadata["opsets"] == "ai.onnx:17")
        #expect(graph.metadata["batch"] == "3")
        #expect(graph.metadata["weights"] == "initializers: 1 raw_data, 0 typed fields, 0 external (0 files); Constant nodes: 1")
        #expect(graph.nodes.map(\.name) == ["node", "z"])
        #expect(graph[graph.nodes[0].outputs[0]].name == "y")
    }

    @Test func localFunctionsAreInlinedWithAttributeReferences() throws {
        var model = ModelSpec(opset: 17, otherOpsets: [("custom", 1)])
        model.inputs = [PortSpec("x", [3])]
        model.outputs = [PortSpec("y", [])]
        model.functions = [FunctionSpec(name: "ScaledLeak", domain: "custom", inputs: ["a"], outputs: ["b"], attributes: ["slope"], nodes: [
            NodeSpec("LeakyRelu", ["a"], ["t"], [.reference("alpha", to: "slope", type: 1)]),
            NodeSpec("Add", ["t", "t"], ["b"]),
        ])]
        model.nodes = [NodeSpec("ScaledLeak", ["x"], ["y"], [.float("slope", 0.5)], name: "call", domain: "custom")]
        let graph = try importModel(model)
        #expect(graph.nodes.map(\.name) == ["call/t", "call/b"])
        expectClose(try Reference.run(graph, inputs: [Tensor([-2, 0, 3], shape: [3])])[0], [-2, 0, 6], shape: [3])
    }
}
