import BuiltTools
import Foundation
import GraphIR
import Testing

/// `serkd-convert import` and `inspect`, run as a user would: the built executable in a
/// subprocess, checking output, exit status and the files left behind.
struct ConvertToolTests {
    /// The `serkd-convert` executable next to the test bundle in the build products folder.
    static let executable = BuiltTool.path("serkd-convert")

    /// Runs serkd-convert with `arguments`; returns exit status, stdout and stderr.
    static func convert(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        try BuiltTool.run("serkd-convert", arguments)
    }

    static let model: ModelSpec = {
        var model = singleNode("Gemm", inputs: [("x", [nil, 2]), ("w", [3, 2]), ("b", [3])], [.int("transB", 1)],
                               initializers: [.floats("w", [3, 2], [1, 0, 0, 1, 1, 1]), .floats("b", [3], [0, 0, 1])])
        model.nodes.append(NodeSpec("Relu", ["y"], ["z"], name: "relu"))
        model.outputs = [PortSpec("z", [])]
        return model
    }()

    @Test func executableIsBuilt() {
        #expect(FileManager.default.isExecutableFile(atPath: Self.executable), "build serkd-convert first: \(Self.executable)")
    }

    @Test func importWritesTheGraphAndSummarises() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        try Self.model.write(to: folder.file("m.onnx"))
        let result = try Self.convert(["import", folder.file("m.onnx"), folder.file("m.serkd"), "--batch", "4"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output == "\(folder.file("m.onnx")) → \(folder.file("m.serkd")): 3 nodes, 9 weights (36 B), batch 4\n")
        let graph = try ModelFile.read(folder.file("m.serkd"))
        #expect(graph.type(of: graph.inputs[0]) == TensorType(.float32, [4, 2]))
        #expect(graph.metadata["source"] == "m.onnx")
        let dump = try Self.convert(["import", folder.file("m.onnx"), folder.file("m2.serkd"), "--dump"])
        #expect(dump.output.contains("= matmul(%x, %w) {transpose_a=0, transpose_b=1} @node"))
    }

    @Test func failuresExitNonZeroWithOneLineAndNoOutputFile() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let output = folder.file("out.serkd")
        var unsupported = Self.model
        unsupported.nodes.append(NodeSpec("Resize", ["z"], ["r"], name: "resize"))
        unsupported.outputs = [PortSpec("r", [])]
        try unsupported.write(to: folder.file("unsupported.onnx"))
        try Data([0x08, 0x07, 0x12]).write(to: URL(fileURLWithPath: folder.file("truncated.onnx")))
        let cases: [([String], String)] = [
            (["import", folder.file("missing.onnx"), output], "serkd-convert: \(folder.file("missing.onnx")): no such file\n"),
            (["import", folder.file("truncated.onnx"), output],
             "serkd-convert: \(folder.file("truncated.onnx")): not an ONNX model (the protobuf data is truncated or malformed)\n"),
            (["import", folder.file("unsupported.onnx"), output],
             "serkd-convert: \(folder.file("unsupported.onnx")): 1 unsupported op: node 'resize' Resize (ai.onnx opset 17)\n"),
            (["import", folder.file("unsupported.onnx")], "serkd-convert: missing output file (OUT.serkd)\n"),
            (["import", "a", "b", "--batch", "0"], "serkd-convert: --batch: expected an integer in 1…\(Int.max), got '0'\n"),
            (["import", "a", "b", "--bacth", "2"], "serkd-convert: --bacth: unknown option (did you mean --batch?)\n"),
            (["inspect", folder.file("missing.onnx")], "serkd-convert: \(folder.file("missing.onnx")): no such file\n"),
            (["frobnicate"], "serkd-convert: frobnicate: unknown command (try serkd-convert --help)\n"),
        ]
        for (arguments, message) in cases {
            let result = try Self.convert(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.error == message)
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["truncated.onnx", "unsupported.onnx"],
                "no temporaries are left behind")
    }

    @Test func inspectDescribesOnnxAndSerkdFiles() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        try Self.model.write(to: folder.file("m.onnx"))
        let onnx = try Self.convert(["inspect", folder.file("m.onnx")])
        #expect(onnx.status == 0)
        #expect(onnx.output == """
            \(folder.file("m.onnx")): ONNX model, IR version 8, produced by serkd tests
            opsets: ai.onnx 17
            input  x: float32[N,2]
            output z: float32[]
            nodes: 2
              Gemm                     1
              Relu                     1
            parameters: 9 (36 B)
            weights: 2 raw_data, 0 typed-field, 0 external initializers; 0 Constant nodes

            """)
        _ = try Self.convert(["import", folder.file("m.onnx"), folder.file("m.serkd")])
        let serkd = try Self.convert(["inspect", folder.file("m.serkd")])
        #expect(serkd.status == 0)
        #expect(serkd.output.contains("input  x: f32[1,2]"))
        #expect(serkd.output.contains("  matmul                  1"))
        #expect(serkd.output.contains("parameters: 9 (36 B); constants: 0 (0 B)"))
    }

    @Test func versionAndHelp() throws {
        #expect(try Self.convert(["--version"]).output.hasPrefix("serkd-convert "))
        let help = try Self.convert(["import", "--help"])
        #expect(help.status == 0 && help.output.hasPrefix("usage: serkd-convert import IN.onnx OUT.serkd"))
        #expect(try Self.convert(["inspect", "--help"]).output.hasPrefix("usage: serkd-convert inspect FILE"))
        #expect(try Self.convert([]).status != 0)
    }
}
