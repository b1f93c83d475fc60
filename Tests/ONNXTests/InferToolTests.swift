import BuiltTools
import Foundation
import Tensor
import Testing

/// `serkd-run infer --image` and `serkd-convert inspect` on a model that carries its own
/// preprocessing: the normalisation and class names in its metadata are what it runs with.
@Suite struct InferToolTests {
    /// A "classifier" whose logits are its normalised 2×2 grey input, flattened: the printed
    /// probabilities are the softmax of the normalised pixels, so they show the normalisation used.
    static func model(metadata: [(String, String)]) -> ModelSpec {
        var model = singleNode("Flatten", inputs: [("x", [nil, 1, 2, 2])], [.int("axis", 1)])
        model.metadata = metadata
        return model
    }

    static let ownPreprocessing = [("normalization.mean", "0.5"), ("normalization.std", "0.25"), ("labels", "a,b,c,d")]

    /// An 8-bit greyscale PNG of `width × height` pixels, deflate-stored (no compression).
    static func png(width: Int, height: Int, pixels: [UInt8]) -> [UInt8] {
        func be(_ value: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8((value >> $0) & 0xff) } }
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return be(data.count) + body + be(Int(body.withUnsafeBytes { CRC32.checksum($0) }))
        }
        var raw: [UInt8] = []
        for row in 0..<height { raw += [0] + pixels[(row * width)..<((row + 1) * width)] }
        var (a, b) = (1, 0)
        for byte in raw { (a, b) = ((a + Int(byte)) % 65521, (b + (a + Int(byte)) % 65521) % 65521) }
        let stored: [UInt8] = [0x78, 0x01, 0x01, UInt8(raw.count & 0xff), UInt8(raw.count >> 8), UInt8(~raw.count & 0xff), UInt8((~raw.count >> 8) & 0xff)]
            + raw + be(b << 16 | a)
        return [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] + chunk("IHDR", be(width) + be(height) + [8, 0, 0, 0, 0])
            + chunk("IDAT", stored) + chunk("IEND", [])
    }

    func infer(_ folder: ScratchFolder, metadata: [(String, String)], _ extra: [String] = []) throws -> (status: Int32, output: String, error: String) {
        try Self.model(metadata: metadata).write(to: folder.file("m.onnx"))
        try Data(Self.png(width: 2, height: 2, pixels: [0, 64, 128, 255])).write(to: URL(fileURLWithPath: folder.file("x.png")))
        return try BuiltTool.run("serkd-run", ["infer", folder.file("m.onnx"), "--image", folder.file("x.png"), "--crop-fraction", "1"] + extra)
    }

    @Test("--image is normalised as the model's metadata says and shown as named softmax probabilities")
    func ownNormalisationAndLabels() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let result = try infer(folder, metadata: Self.ownPreprocessing)
        #expect(result.status == 0, "\(result.error)")
        // Logits (v/255 − 0.5)/0.25 = −2, −0.996, 0.008, 2.
        #expect(result.output.hasSuffix("\n  [0] d 83.01%, c 11.32%, b 4.15%, a 1.52%\n"))
    }

    @Test("--mean/--std override the model's normalisation; --labels names the classes")
    func flagsOverride() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        try "zero\none\ntwo\nthree\n\n".write(toFile: folder.file("labels.txt"), atomically: true, encoding: .utf8)
        let result = try infer(folder, metadata: Self.ownPreprocessing, ["--mean", "0", "--std", "1", "--labels", folder.file("labels.txt")])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.hasSuffix("\n  [0] three 40.84%, two 24.82%, one 19.31%, zero 15.03%\n"))
    }

    @Test("preprocessing flags with --input are refused rather than ignored")
    func preprocessingNeedsImages() throws {
        let result = try BuiltTool.run("serkd-run", ["infer", "m.onnx", "--input", "x.npy", "--mean", "0.5"])
        #expect(result.status == 1)
        #expect(result.error == "serkd-run: --mean: applies to --image only (--input is fed as it is)\n")
    }

    @Test("a --labels file naming the wrong number of classes is refused")
    func wrongLabelCount() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        try "cat\ndog\n".write(toFile: folder.file("labels.txt"), atomically: true, encoding: .utf8)
        let result = try infer(folder, metadata: Self.ownPreprocessing, ["--labels", folder.file("labels.txt")])
        #expect(result.status == 1)
        #expect(result.error == "serkd-run: \(folder.file("labels.txt")): names 2 classes, the model has 4\n")
    }

    @Test("a 1-channel model with no normalisation asks for --mean and --std instead of misapplying ImageNet's")
    func noNormalisation() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let result = try infer(folder, metadata: [])
        #expect(result.status == 1)
        #expect(result.error == "serkd-run: the model records no input normalisation and takes 1 channels: give --mean and --std\n")
        let given = try infer(folder, metadata: [], ["--mean", "0.5", "--std", "0.25"])
        #expect(given.output.hasSuffix("\n  [0] class 3 83.01%, class 2 11.32%, class 1 4.15%, class 0 1.52%\n"))
    }

    @Test("inspect lists the metadata of an ONNX model and of its import")
    func inspectShowsMetadata() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        try Self.model(metadata: Self.ownPreprocessing).write(to: folder.file("m.onnx"))
        let onnx = try BuiltTool.run("serkd-convert", ["inspect", folder.file("m.onnx")])
        #expect(onnx.output.hasSuffix("\nmetadata:\n  labels: a,b,c,d\n  normalization.mean: 0.5\n  normalization.std: 0.25\n"))
        _ = try BuiltTool.run("serkd-convert", ["import", folder.file("m.onnx"), folder.file("m.serkd")])
        let serkd = try BuiltTool.run("serkd-convert", ["inspect", folder.file("m.serkd")])
        #expect(serkd.output.contains("\nmetadata:\n"))
        #expect(serkd.output.contains("\n  normalization.mean: 0.5\n  normalization.std: 0.25\n"))
        #expect(serkd.output.contains("\n  labels: a,b,c,d\n"))
    }

    @Test("a compiled plan keeps the model's normalisation and labels")
    func planKeepsPreprocessing() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        _ = try infer(folder, metadata: Self.ownPreprocessing)
        let compiled = try BuiltTool.run("serkd-compile", ["model", folder.file("m.onnx"), "-o", folder.file("m.plan")])
        #expect(compiled.status == 0, "\(compiled.error)")
        let result = try BuiltTool.run("serkd-run", ["infer", folder.file("m.plan"), "--image", folder.file("x.png"), "--crop-fraction", "1"])
        #expect(result.output.hasSuffix("\n  [0] d 83.01%, c 11.32%, b 4.15%, a 1.52%\n"), "\(result.error)")
    }

    @Test("the shipped Fashion-MNIST teacher runs on an image as it is, with the example's labels")
    func shippedTeacher() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let example = root.appendingPathComponent("examples/fashion-mnist").path
        let image = root.appendingPathComponent("Tests/Fixtures/data/astronaut_gray.png").path
        let result = try BuiltTool.run("serkd-run", ["infer", example + "/teacher.onnx", "--image", image, "--labels", example + "/labels.txt", "--top", "3"])
        #expect(result.status == 0, "\(result.error)")
        let line = try #require(result.output.split(separator: "\n").last)
        let names = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        let shown = line.dropFirst(6).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(line.hasPrefix("  [0] ") && shown.count == 3)
        for entry in shown {
            #expect(names.contains { entry.hasPrefix($0 + " ") } && entry.hasSuffix("%"), "\(entry)")
        }
    }

    @Test("without --crop-fraction, the crop fraction the model records is used")
    func ownCropFraction() throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        // 8×8 pixels: timm's 0.875 resizes to 9 and crops, 1 keeps the image as it is.
        let pixels = (0..<64).map { UInt8($0 * 4) }
        try Data(Self.png(width: 8, height: 8, pixels: pixels)).write(to: URL(fileURLWithPath: folder.file("x.png")))
        func run(_ metadata: [(String, String)], _ extra: [String]) throws -> Data {
            var model = singleNode("Flatten", inputs: [("x", [nil, 1, 8, 8])], [.int("axis", 1)])
            model.metadata = [("normalization.mean", "0"), ("normalization.std", "1")] + metadata
            try model.write(to: folder.file("m.onnx"))
            let result = try BuiltTool.run("serkd-run", ["infer", folder.file("m.onnx"), "--image", folder.file("x.png"), "--output", folder.file("y.npy")] + extra)
            #expect(result.status == 0, "\(result.error)")
            return try Data(contentsOf: URL(fileURLWithPath: folder.file("y.npy")))
        }
        let uncropped = try run([], ["--crop-fraction", "1"]), timm = try run([], [])
        #expect(uncropped != timm)
        #expect(try run([("preprocessing.crop_fraction", "1")], []) == uncropped)
        #expect(try run([("preprocessing.crop_fraction", "1")], ["--crop-fraction", "0.875"]) == timm)
    }
}
