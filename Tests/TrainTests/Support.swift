import Foundation
import Train

/// A temporary folder per test, with a tiny synthetic CIFAR-10 (learnable: brightness encodes the label).
struct Workspace {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("serkd-train-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    /// CIFAR-10 binary files with `count` records each.
    func writeCIFAR(count: Int = 40) throws {
        var generator = SystemRandomNumberGenerator()
        for name in (1...5).map({ "data_batch_\($0).bin" }) + ["test_batch.bin"] {
            var bytes: [UInt8] = []
            for _ in 0..<count {
                let label = UInt8.random(in: 0..<10, using: &generator)
                bytes.append(label)
                for _ in 0..<3072 { bytes.append(UInt8.random(in: 0..<128, using: &generator) &+ label &* 12) }
            }
            try Foundation.Data(bytes).write(to: URL(fileURLWithPath: file(name)))
        }
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    /// A config training the fixture ViT student from the fixture ViT teacher on the synthetic data.
    func config(_ extra: String = "", output: String = "run") -> String {
        """
        {
          "name": "test", "method": "serkd", "seed": 7,
          "student": {"model": "\(Self.fixtures)/training/vit_student.onnx"},
          "teacher": {"model": "\(Self.fixtures)/training/vit_teacher.onnx"},
          "data": {"dataset": "cifar10", "root": "\(path)", "image_size": 32, "channels": 3, "classes": 10, "workers": 2,
                   "augmentation": {"random_resized_crop": false, "rand_augment": "rand-m9-mstd0.5-inc1", "mixup": 0.8, "cutmix": 1.0}},
          "batch": 4, "eval_batch": 4, "epochs": 1, "log_every": 100, "checkpoint_every": 3,
          "schedule": {"lr": 0.002, "warmup_epochs": 0.1},
          "output": "\(file(output))"\(extra)
        }
        """
    }

    func writeConfig(_ text: String, name: String = "run.json") throws -> String {
        try text.write(toFile: file(name), atomically: true, encoding: .utf8)
        return file(name)
    }
}
