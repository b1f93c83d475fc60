import BuiltTools
import Compiler
import Data
import Foundation
import GraphIR
import ONNX
import Testing
import Train
#if canImport(Glibc)
import Glibc
#endif

/// Files made to crash, hang or exhaust a reader (Tests/Fixtures/hostile: the hand-made cases of
/// issue 11 from scripts/make_hostile_fixtures.py, and every crasher the fuzzers in Fuzz/ found) are
/// refused with one line naming the file, by the library readers and by the built tools, with no
/// fuzzer involved.
@Suite struct HostileFileTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hostile").path
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models").path

    /// Every file in the folder (subfolders by reader: `plan/`, `onnx/`, … hold fuzzer crashers).
    static var files: [String] {
        let enumerator = FileManager.default.enumerator(atPath: folder)
        var paths: [String] = []
        while let name = enumerator?.nextObject() as? String {
            var isFolder: ObjCBool = false
            let path = folder + "/" + name
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue, !name.hasSuffix(".bin") {
                paths.append(path)
            }
        }
        return paths.sorted()
    }

    /// The reader a file goes to: by its subfolder for fuzzer crashers, else by its extension.
    static func kind(_ path: String) -> String {
        let relative = String(path.dropFirst(folder.count + 1))
        if let slash = relative.firstIndex(of: "/") { return String(relative[..<slash]) }
        return (path as NSString).pathExtension
    }

    /// Reads `path` with the library reader for its kind (a model is compiled too, as its fuzzer
    /// does); nil if it reads, else the refusal.
    static func read(_ path: String) throws -> InvalidInput? {
        do {
            switch kind(path) {
            case "onnx": _ = try ONNXImport.graph(fromFile: path)
            case "serkd": _ = try Pipeline.compile(try ModelFile.read(path))
            case "plan": _ = try PlanFile.read(path)
            case "npy": _ = try NumPyFile.read(path)
            case "png", "jpg", "image": _ = try Image(contentsOf: path)
            case "json", "config": _ = try RunConfig.load(path)
            case "safetensors": _ = try SafeTensors.read(path)
            case let other: Issue.record("no reader for \(other) files (\(path))")
            }
            return nil
        } catch let error as InvalidInput {
            return error
        }
    }

    /// The hand-made cases and the start of what each must be refused with.
    static let expected: [String: String] = [
        "conv_million_padding.onnx": "node 'conv' (Conv): pads [1000000, 1000000, 1000000, 1000000] exceed the input [4, 4] and the window [3, 3]",
        "huge_input.onnx": "input 'x' has an invalid shape",
        "recursive_function.onnx": "local function 'local/Self' calls itself",
        "mutually_recursive_functions.onnx": "local function 'local/Ping' calls itself (through local/Ping → local/Pong)",
        "png_16k_bomb.png": "image of 16384×16384 pixels exceeds the limit of 67108864 pixels",
        "png_8k_bomb.png": "26 bytes of image data cannot inflate to the 64008000 bytes a 8000×8000 image needs",
        "jpeg_16k.jpg": "image of 16384×16384 pixels exceeds the limit of 67108864 pixels",
        "npy_2_62_elements.npy": "array [4611686018427387904] of <f4 has more bytes than an address space holds",
    ]

    @Test("every hostile file is refused with one line naming it, or reads")
    func everyFileIsRefusedOrReads() throws {
        let files = Self.files
        #expect(files.count >= Self.expected.count)
        for path in files {
            let error = try Self.read(path)
            let name = (path as NSString).lastPathComponent
            if let prefix = Self.expected[name] {
                #expect(error?.problem.hasPrefix(prefix) == true, "\(name): \(error?.problem ?? "read")")
            }
            guard let error else { continue }
            #expect(error.subject?.hasPrefix(path) == true, "\(name): \(error)")
            #expect(!error.problem.contains("\n"), "\(name): \(error)")
        }
    }

    @Test("the built tools refuse every hostile file with one stderr line and exit code 1")
    func theToolsRefuseEveryFile() throws {
        for path in Self.files {
            let (tool, arguments): (String, [String]) = switch Self.kind(path) {
            case "onnx": ("serkd-convert", ["inspect", path])
            case "serkd": ("serkd-compile", ["model", path, "-o", NSTemporaryDirectory() + "serkd-hostile-\(UUID().uuidString).plan"])
            case "plan": ("serkd-compile", ["inspect", path])
            case "npy": ("serkd-run", ["infer", "\(Self.models)/tiny_resnet.onnx", "--input", path])
            case "png", "jpg", "image": ("serkd-run", ["infer", "\(Self.models)/tiny_resnet.onnx", "--image", path])
            case "json", "config": ("serkd-run", ["eval", "\(Self.models)/tiny_resnet.onnx", "--config", path])
            default: ("", [])
            }
            guard !tool.isEmpty else { continue }
            let result = try BuiltTool.run(tool, arguments)
            let lines = result.error.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
            #expect(result.status == 0 || (result.status == 1 && lines.count == 1 && lines[0].hasPrefix("\(tool): ")),
                    "\(tool) \(arguments.joined(separator: " ")): status \(result.status), \(result.error)")
        }
    }

    @Test("a FIFO is refused at once, never waited on: a model, its external data, a config, an array")
    func fifosAreRefused() throws {
        let folder = NSTemporaryDirectory() + "serkd-fifo-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for name in ["model.onnx", "run.json", "array.npy", "external_weight.bin"] { #expect(mkfifo(folder + "/" + name, 0o600) == 0) }
        try FileManager.default.copyItem(atPath: Self.folder + "/external_weight.onnx", toPath: folder + "/external_weight.onnx")
        #expect(throws: InvalidInput(folder + "/model.onnx", "not a regular file")) { try ONNXImport.graph(fromFile: folder + "/model.onnx") }
        #expect(throws: InvalidInput(folder + "/run.json", "not a regular file")) { try RunConfig.load(folder + "/run.json") }
        #expect(throws: InvalidInput(folder + "/array.npy", "not a regular file")) { try NumPyFile.read(folder + "/array.npy") }
        #expect(throws: InvalidInput(folder + "/external_weight.onnx", "initializer 'w': external data 'external_weight.bin' is not a regular file")) {
            try ONNXImport.graph(fromFile: folder + "/external_weight.onnx")
        }
    }

    @Test("device files are refused rather than read without end")
    func devicesAreRefused() throws {
        #expect(throws: InvalidInput("/dev/zero", "not a regular file")) { try NumPyFile.read("/dev/zero") }
        #expect(throws: InvalidInput("/dev/zero", "not a regular file")) { try RunConfig.load("/dev/zero") }
        #expect(throws: InvalidInput("/dev/zero", "not a regular file")) { try PlanFile.read("/dev/zero") }
        #expect(throws: InvalidInput("/dev/zero", "not a regular file")) { try Image(contentsOf: "/dev/zero") }
    }
}
