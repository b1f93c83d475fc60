import Foundation
import GraphIR
import ONNX
import Testing

/// safetensors: what the writer lays out, and a reader that rejects hostile files with one line.
struct ExportSafeTensorsTests {
    /// A file made of a declared header size, header text and data bytes.
    static func file(_ header: String, data: [UInt8] = [], declaredSize: UInt64? = nil) -> [UInt8] {
        let text = Array(header.utf8)
        return withUnsafeBytes(of: (declaredSize ?? UInt64(text.count)).littleEndian, Array.init) + text + data
    }

    /// Reads `bytes` from a scratch file.
    static func read(_ bytes: [UInt8]) throws -> SafeTensors.Contents {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        try Data(bytes).write(to: URL(fileURLWithPath: folder.file("w.safetensors")))
        return try SafeTensors.read(folder.file("w.safetensors"))
    }

    @Test func tensorsAndMetadataRoundTrip() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let path = folder.file("w.safetensors")
        let tensors: [(name: String, tensor: Tensor)] = [
            ("blocks.0.norm.weight", Tensor([1, -2.5, 3], shape: [3])),
            ("mask", Tensor([true, false], shape: [2, 1])),
            ("steps", Tensor([Int64(-7), 1 << 40], shape: [2])),
            ("scale", Tensor(scalar: Float(0.125))),
            ("empty", Tensor([Float](), shape: [0, 4])),
        ]
        let metadata = ["labels": "cat\n\"dog\"\\ü", "taps.logits": "head"]
        try SafeTensors.write(tensors, metadata: metadata, to: path)
        let contents = try SafeTensors.read(path)
        #expect(contents.metadata == metadata)
        #expect(Set(contents.tensors.map(\.name)) == Set(tensors.map(\.name)))
        for (name, tensor) in tensors { #expect(contents[name]?.bitwiseEqual(tensor) == true, "\(name)") }

        // Header padded to 8 bytes; int64 data first, then float32, then bool: each aligned, no gaps.
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let headerSize = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(headerSize % 8 == 0)
        #expect(bytes.count == 8 + Int(headerSize) + 16 + 12 + 4 + 2)
        #expect(contents.tensors.map(\.name) == ["steps", "blocks.0.norm.weight", "scale", "empty", "mask"])
    }

    @Test func graphWeightsAreItsParametersAndStateByValueName() throws {
        var graph = try Graph(text: """
            graph g {
              meta labels = "a,b"
              input %x: f32[2,3]
              param %w: f32[3] = [1.0, 2.0, 3.0]
              state %running: f32[3] = [0.5, 0.5, 0.5]
              const %k: f32[3] = [4.0, 5.0, 6.0]
              %y: f32[2,3] = mul(%x, %w) @scale
              %z: f32[2,3] = add(%y, %k) @shift
              %r: f32[2,3] = sub(%z, %running) @center
              output %r
            }
            """)
        graph.metadata["normalization.mean"] = "0.5"
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let written = try SafeTensors.write(weightsOf: graph, to: folder.file("w.safetensors"))
        #expect(written.count == 2 && written.bytes == 24)
        let contents = try SafeTensors.read(folder.file("w.safetensors"))
        #expect(contents.tensors.map(\.name).sorted() == ["running", "w"])
        #expect(contents["w"]?.floats == [1, 2, 3])
        #expect(contents.metadata == ["labels": "a,b", "normalization.mean": "0.5"])
    }

    static let entry = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#

    /// Hostile or broken files and the one-line problem each is reported with.
    static let hostile: [(description: String, bytes: [UInt8], problem: String)] = [
        ("shorter than the size", [1, 2, 3], "truncated: 3 bytes, shorter than the 8-byte header size"),
        ("header beyond the file", file(entry, declaredSize: 4096), "truncated: header of 4096 bytes, but only \(entry.utf8.count) follow the size"),
        ("header size beyond the bound", file(entry, declaredSize: UInt64(1) << 40), "header size 1099511627776 exceeds the 100 MiB limit"),
        ("truncated data", file(entry, data: [0, 0, 0]), "tensor 'w': data_offsets [0, 8] lie outside the 3 bytes of data (truncated?)"),
        ("offsets beyond the data", file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#, data: Array(repeating: 0, count: 8)),
         "tensor 'w': data_offsets [8, 16] lie outside the 8 bytes of data (truncated?)"),
        ("overlapping tensors", file(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                                     data: Array(repeating: 0, count: 8)), "tensors 'a' and 'b' overlap"),
        ("a gap", file(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: Array(repeating: 0, count: 8)),
         "4 bytes before tensor 'a' belong to no tensor"),
        ("trailing bytes", file(entry, data: Array(repeating: 0, count: 12)), "4 bytes after the last tensor belong to no tensor"),
        ("size not shape × dtype", file(#"{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#, data: Array(repeating: 0, count: 20)),
         "tensor 'w': F32[2,3] needs 24 bytes, data_offsets [0, 20] span 20"),
        ("unknown dtype", file(#"{"w":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, data: Array(repeating: 0, count: 4)),
         "tensor 'w': dtype F16 is not supported (serkd reads F32, I64, BOOL and BF16)"),
        ("overflowing shape", file(#"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)),
         "tensor 'w': shape [4611686018427387904, 4] is too large"),
        ("negative extent", file(#"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)),
         "invalid JSON at line 1, column 30: expected an object, array, string or non-negative integer"),
        ("fractional extent", file(#"{"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)),
         "invalid JSON at line 1, column 31: expected an integer"),
        ("duplicate name", file(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                                data: Array(repeating: 0, count: 8)), "invalid JSON at line 1, column 55: key \"w\" appears twice"),
        ("reversed offsets", file(#"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: Array(repeating: 0, count: 8)),
         "tensor 'w': data_offsets [8, 0] are not [begin, end]"),
        ("unknown field", file(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}}"#, data: Array(repeating: 0, count: 8)),
         "tensor 'w': unknown field 'extra'"),
        ("bool byte other than 0 or 1", file(#"{"m":{"dtype":"BOOL","shape":[2],"data_offsets":[0,2]}}"#, data: [1, 7]),
         "tensor 'm' is BOOL but holds the byte 7"),
        ("metadata that is not strings", file(#"{"__metadata__":{"epoch":3}}"#), "__metadata__ entry 'epoch' is not a string"),
        ("not an object", file(#"["w"]"#), "header does not start with '{'"),
        ("unterminated header", file(#"{"w":{"dtype":"F32""#), "invalid JSON at line 1, column 20: unexpected end of input"),
        ("deep nesting", file(#"{"w":{"dtype":[[[["F32"]]]]}}"#), "invalid JSON at line 1, column 17: nested too deeply"),
    ]

    @Test(arguments: hostile.indices)
    func hostileFilesAreRejectedWithOneLine(_ index: Int) throws {
        let (description, bytes, problem) = Self.hostile[index]
        let error = #expect(throws: InvalidInput.self, "\(description)") { try Self.read(bytes) }
        #expect(error?.problem == problem, "\(description)")
        #expect(error?.subject?.hasSuffix("w.safetensors") == true)
    }

    @Test func readerAcceptsWhatItsWriterAndThePaddingRuleProduce() throws {
        let header = #"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}   "#
        let contents = try Self.read(Self.file(header, data: withUnsafeBytes(of: (Float(1.5), Float(-2)), Array.init)))
        #expect(contents["w"]?.floats == [1.5, -2])
        #expect(contents.metadata == ["format": "pt"])
    }

    @Test func writerRefusesDuplicateAndReservedNames() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let path = folder.file("w.safetensors")
        #expect(throws: InvalidInput(path, "tensor name 'a' is used twice")) {
            try SafeTensors.write([("a", Tensor(scalar: Float(1))), ("a", Tensor(scalar: Float(2)))], to: path)
        }
        #expect(throws: InvalidInput(path, "tensor name '__metadata__' is reserved")) {
            try SafeTensors.write([("__metadata__", Tensor(scalar: Float(1)))], to: path)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
