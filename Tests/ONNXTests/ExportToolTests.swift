import Foundation
import GraphIR
import ONNX
import Testing

/// `serkd-convert export`, run as a user would: output lines, exit status and the files left behind.
struct ExportToolTests {
    static let student = """
        graph student {
          meta labels = "a,b,c"
          input %x: f32[2,4]
          param %w: f32[3,4] = \(literal(12))
          param %b: f32[3] = [0.1, 0.2, 0.3]
          %h: f32[2,3] = matmul(%x, %w) {transpose_a=0, transpose_b=1} @fc
          %y: f32[2,3] = add(%h, %b) @bias
          output %y
        }
        """

    /// Writes `text` as a `.serkd` model in `folder`.
    static func model(_ text: String, in folder: ScratchFolder, named name: String) throws -> String {
        let path = folder.file(name)
        try ModelFile.write(try Graph(text: text), to: path)
        return path
    }

    @Test func exportsONNXWithASymbolicBatchAndSafeTensors() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let source = try Self.model(Self.student, in: folder, named: "s.serkd")
        let onnx = try ConvertToolTests.convert(["export", source, "-o", folder.file("s.onnx")])
        #expect(onnx.status == 0, "\(onnx.error)")
        #expect(onnx.output == "\(source) → \(folder.file("s.onnx")): 2 ONNX nodes, 2 initializers, opset 17, batch N (symbolic)\n")
        #expect(onnx.error.isEmpty)
        let imported = try ONNXImport.graph(fromFile: folder.file("s.onnx"), options: .init(batch: 5))
        #expect(imported.type(of: imported.outputs[0]) == TensorType(.float32, [5, 3]))
        #expect(imported.metadata["labels"] == "a,b,c")

        let fixed = try ConvertToolTests.convert(["export", source, "--output", folder.file("f.onnx"), "--fixed-batch", "--opset", "13"])
        #expect(fixed.output == "\(source) → \(folder.file("f.onnx")): 2 ONNX nodes, 2 initializers, opset 13, batch 2 (fixed)\n")

        let weights = try ConvertToolTests.convert(["export", source, "-o", folder.file("s.safetensors")])
        #expect(weights.status == 0, "\(weights.error)")
        #expect(weights.output == "\(source) → \(folder.file("s.safetensors")): 2 tensors (60 B)\n")
        #expect(try SafeTensors.read(folder.file("s.safetensors")).metadata["labels"] == "a,b,c")
    }

    @Test func aGraphThatMixesSamplesKeepsItsBatchWithANote() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let source = try Self.model("""
            graph pooled {
              input %x: f32[2,4]
              %y: f32[4] = reduce_mean(%x) {axes=[0], keep_dims=0} @batch_mean
              output %y
            }
            """, in: folder, named: "m.serkd")
        let result = try ConvertToolTests.convert(["export", source, "-o", folder.file("m.onnx")])
        #expect(result.status == 0)
        #expect(result.error == "serkd-convert: note: \(folder.file("m.onnx")) keeps the fixed batch 2: "
                + "node 'batch_mean' (reduce_mean) reduces over the batch axis\n")
        #expect(result.output.hasSuffix("batch 2 (fixed)\n"))
    }

    @Test func failuresExitNonZeroWithOneLineAndLeaveNoOutput() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let source = try Self.model(Self.student, in: folder, named: "s.serkd")
        var training = Graph(name: "training")
        let x = training.addInput("x", TensorType(.float32, [2, 3]))
        let step = training.addConstant("step", Tensor(scalar: Int64(1)))
        training.outputs = [try training.apply(.dropout(ratio: 0.5, seed: 1, perSample: false), [x, step], name: "drop")[0]]
        try ModelFile.write(training, to: folder.file("t.serkd"))
        let existing = folder.file("existing.onnx")
        try Data("old".utf8).write(to: URL(fileURLWithPath: existing))

        let cases: [([String], String)] = [
            (["export", folder.file("t.serkd"), "-o", existing],
             "\(folder.file("t.serkd")): node 'drop' (dropout) is a training op; export takes inference graphs"),
            (["export", source, "-o", "/nonexistent-folder/s.onnx"], "/nonexistent-folder/s.onnx: cannot create file (No such file or directory)"),
            (["export", source, "-o", folder.file("s.pt")], "\(folder.file("s.pt")): unknown output format (the name must end in .onnx or .safetensors)"),
            (["export", source], "missing output file (-o OUT.onnx or OUT.safetensors)"),
            (["export", source, "-o", folder.file("s.onnx"), "--opset", "12"], "--opset: expected an integer in 13…21, got '12'"),
            (["export", source, "-o", folder.file("s.safetensors"), "--fixed-batch"], "--fixed-batch: applies to .onnx output only"),
            (["export", folder.file("missing.serkd"), "-o", folder.file("s.onnx")], "\(folder.file("missing.serkd")): no such file"),
            (["export", folder.file("existing.onnx"), "-o", folder.file("s.onnx")], "\(existing): not a serkd model file (bad magic)"),
        ]
        for (arguments, message) in cases {
            let result = try ConvertToolTests.convert(arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.error == "serkd-convert: \(message)\n")
            #expect(result.output.isEmpty, "\(arguments)")
        }
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "old")
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(left == ["existing.onnx", "s.serkd", "t.serkd"])
    }

    @Test func helpDescribesTheCommand() throws {
        let result = try ConvertToolTests.convert(["export", "--help"])
        #expect(result.status == 0)
        #expect(result.output.hasPrefix("usage: serkd-convert export IN.serkd -o OUT.onnx|OUT.safetensors [--opset N] [--fixed-batch]\n"))
        #expect(try ConvertToolTests.convert(["--help"]).output.contains("export IN.serkd -o OUT.onnx|OUT.safetensors"))
    }
}
