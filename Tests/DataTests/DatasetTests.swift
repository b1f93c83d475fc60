import Foundation
import Testing
@testable import Data
import Tensor

@Suite struct DatasetTests {
    let folder: String

    init() throws { folder = try Fixtures.temporaryDirectory("datasets") }

    static func bigEndian(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * (3 - $0))) } }

    static func idx(dims: [Int], data: [UInt8], type: UInt8 = 0x08) -> [UInt8] {
        [0, 0, type, UInt8(dims.count)] + dims.flatMap(bigEndian) + data
    }

    /// Three 2×3 images with pixel values 10·i + position and labels 4, 0, 9.
    func writeIDX(gzip: Bool) throws -> (images: String, labels: String) {
        let pixels = (0..<3).flatMap { i in (0..<6).map { UInt8(10 * i + $0) } }
        var images = Self.idx(dims: [3, 2, 3], data: pixels)
        var labels = Self.idx(dims: [3], data: [4, 0, 9])
        if gzip { images = Fixtures.gzip(images); labels = Fixtures.gzip(labels) }
        let suffix = gzip ? ".gz" : ""
        try Fixtures.write(images, to: folder + "/images-idx3-ubyte" + suffix)
        try Fixtures.write(labels, to: folder + "/labels-idx1-ubyte" + suffix)
        return (folder + "/images-idx3-ubyte" + suffix, folder + "/labels-idx1-ubyte" + suffix)
    }

    @Test(arguments: [false, true])
    func idxFilesReadRawOrGzipped(gzip: Bool) throws {
        let paths = try writeIDX(gzip: gzip)
        let dataset = try IDXDataset(images: paths.images, labels: paths.labels)
        #expect(dataset.count == 3 && dataset.classCount == 10 && dataset.width == 3 && dataset.height == 2)
        let (image, label) = try dataset.sample(at: 2)
        #expect(label == 9 && image.channels == 1 && image.pixels == [20, 21, 22, 23, 24, 25])
        #expect(try IDXDataset(images: paths.images, labels: paths.labels, classCount: 12).classCount == 12)
        #expect(throws: InvalidInput.self) { try IDXDataset(images: paths.images, labels: paths.labels, classCount: 5) }
    }

    @Test func truncatedIDXDataNamesTheFileAndOffsets() throws {
        let path = folder + "/short-idx3-ubyte"
        try Fixtures.write(Self.idx(dims: [3, 2, 3], data: [UInt8](repeating: 1, count: 10)), to: path)
        let labels = try writeIDX(gzip: false).labels
        let error = try #require(throws: InvalidInput.self) { try IDXDataset(images: path, labels: labels) }
        #expect(error.subject == path)
        #expect(error.problem == "truncated IDX data at byte 26: header declares 3×2×3 = 18 bytes from byte 16, 10 present")
    }

    @Test func truncatedGzippedIDXSaysOffsetsAreInTheInflatedData() throws {
        let path = folder + "/short-idx3-ubyte.gz"
        try Fixtures.write(Fixtures.gzip(Self.idx(dims: [3, 2, 3], data: [UInt8](repeating: 1, count: 10))), to: path)
        let error = try #require(throws: InvalidInput.self) { try IDXArray(path: path) }
        #expect(error.problem.hasSuffix("(offsets in the gunzipped data)"))
        // A gzip stream cut short is reported as such.
        let whole = Fixtures.gzip(Self.idx(dims: [3], data: [1, 2, 3]))
        try Fixtures.write(Array(whole[0..<(whole.count - 10)]), to: path)
        let cut = try #require(throws: InvalidInput.self) { try IDXArray(path: path) }
        #expect(cut.subject == path && cut.problem.contains("ends early"))
    }

    @Test func wrongIDXMagicTypeAndCountsAreRefused() throws {
        let labels = try writeIDX(gzip: false).labels
        let bad = folder + "/bad"
        try Fixtures.write([1, 0, 8, 3] + [UInt8](repeating: 0, count: 20), to: bad)
        #expect(try #require(throws: InvalidInput.self) { try IDXArray(path: bad) }.problem.contains("bad magic"))
        try Fixtures.write(Self.idx(dims: [1, 1, 1], data: [0, 0, 0, 0], type: 0x0D), to: bad)
        #expect(try #require(throws: InvalidInput.self) { try IDXArray(path: bad) }.problem.contains("float32 is not supported"))
        try Fixtures.write(Self.idx(dims: [2, 1, 1], data: [0, 0, 0]), to: bad)
        #expect(try #require(throws: InvalidInput.self) { try IDXArray(path: bad) }.problem.contains("1 bytes after"))
        try Fixtures.write(Self.idx(dims: [2, 1, 1], data: [0, 0]), to: bad)
        let mismatch = try #require(throws: InvalidInput.self) { try IDXDataset(images: bad, labels: labels) }
        #expect(mismatch.problem == "3 labels for 2 images in \(bad)")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")))
    func readsTheRealFashionMNISTTestSet() throws {
        let root = "/usr/share/datasets/fashion-mnist/"
        let dataset = try IDXDataset(images: root + "t10k-images-idx3-ubyte.gz", labels: root + "t10k-labels-idx1-ubyte.gz")
        #expect(dataset.count == 10_000 && dataset.classCount == 10 && dataset.width == 28 && dataset.height == 28)
        // The first test image is an ankle boot (class 9); every class has 1000 test images.
        #expect(try dataset.sample(at: 0).label == 9)
        #expect(Dictionary(grouping: dataset.labels(), by: { $0 }).values.allSatisfy { $0.count == 1000 })
    }

    @Test(arguments: [false, true])
    func csvRowsAreLabelThenPixels(gzip: Bool) throws {
        let text = "label,p0,p1,p2,p3\n3,0,255,7,8\r\n1, 9,10,11,12\n\n"
        let path = folder + "/digits.csv" + (gzip ? ".gz" : "")
        try Fixtures.write(gzip ? Fixtures.gzip(Array(text.utf8)) : Array(text.utf8), to: path)
        let dataset = try CSVDataset(path: path, width: 2, height: 2)
        #expect(dataset.count == 2 && dataset.classCount == 4)
        let (image, label) = try dataset.sample(at: 0)
        #expect(label == 3 && image.width == 2 && image.pixels == [0, 255, 7, 8])
        #expect(try dataset.sample(at: 1).image.pixels == [9, 10, 11, 12])
    }

    @Test func malformedCSVLinesNameTheLineAndField() throws {
        let path = folder + "/bad.csv"
        try Fixtures.write(Array("1,2,3,4,5\n2,3,4,5\n".utf8), to: path)
        let short = try #require(throws: InvalidInput.self) { try CSVDataset(path: path, width: 2, height: 2) }
        #expect(short.subject == path && short.problem == "line 2 (byte 10) has 4 fields, expected 5 (a label and 2×2 pixels)")
        try Fixtures.write(Array("1,2,3,4,5\n2,3,x4,5,6\n".utf8), to: path)
        let text = try #require(throws: InvalidInput.self) { try CSVDataset(path: path, width: 2, height: 2) }
        #expect(text.problem == "line 2 (byte 14): field 3 'x4' is not a non-negative integer")
        try Fixtures.write(Array("1,2,3,4,256\n".utf8), to: path)
        let range = try #require(throws: InvalidInput.self) { try CSVDataset(path: path, width: 2, height: 2) }
        #expect(range.problem == "line 1 (byte 8): field 5 '256' is not a pixel value 0–255")
        // A corrupt label would size every batch's targets: more than 2^20 classes is refused.
        try Fixtures.write(Array("5000000,2,3,4,5\n".utf8), to: path)
        let label = try #require(throws: InvalidInput.self) { try CSVDataset(path: path, width: 2, height: 2) }
        #expect(label.problem == "label 5000000 of sample 0 is beyond 1048576 classes")
    }

    /// A CIFAR record: label byte(s), then R, G and B planes of 1024 bytes each.
    static func cifarRecord(labels: [UInt8], seed: Int) -> [UInt8] {
        labels + (0..<3072).map { UInt8(($0 * 7 + seed * 31) % 256) }
    }

    @Test func cifar10RecordsBecomeInterleavedRGBImages() throws {
        for (name, labels) in [("data_batch_1.bin", [3, 7]), ("data_batch_2.bin", [0]), ("data_batch_3.bin", [9]),
                               ("data_batch_4.bin", [1]), ("data_batch_5.bin", [2, 2]), ("test_batch.bin", [5])] {
            try Fixtures.write(labels.enumerated().flatMap { Self.cifarRecord(labels: [UInt8($1)], seed: $0) }, to: folder + "/" + name)
        }
        let train = try CIFARDataset.cifar10(directory: folder, train: true)
        #expect(train.count == 7 && train.classCount == 10)
        #expect(try (0..<7).map { try train.sample(at: $0).label } == [3, 7, 0, 9, 1, 2, 2])
        let (image, _) = try train.sample(at: 1)
        // Pixel (x 1, y 0) takes byte 1 of each plane.
        let record = Self.cifarRecord(labels: [7], seed: 1)
        #expect(image.width == 32 && image.channels == 3)
        #expect([image[1, 0, 0], image[1, 0, 1], image[1, 0, 2]] == [record[2], record[1026], record[2050]])
        #expect(try CIFARDataset.cifar10(directory: folder, train: false).count == 1)
    }

    @Test func cifar100UsesTheFineLabelByDefault() throws {
        try Fixtures.write(Self.cifarRecord(labels: [11, 87], seed: 0) + Self.cifarRecord(labels: [19, 99], seed: 1), to: folder + "/train.bin")
        let fine = try CIFARDataset.cifar100(directory: folder, train: true)
        #expect(fine.classCount == 100)
        #expect(try fine.sample(at: 1).label == 99)
        let coarse = try CIFARDataset.cifar100(directory: folder, train: true, labels: .cifar100Coarse)
        #expect(coarse.classCount == 20)
        #expect(try coarse.sample(at: 0).label == 11)
    }

    @Test func aPartialCIFARRecordIsReportedWithItsOffset() throws {
        let path = folder + "/data_batch_1.bin"
        try Fixtures.write(Self.cifarRecord(labels: [1], seed: 0) + Array(Self.cifarRecord(labels: [2], seed: 1).prefix(100)), to: path)
        let error = try #require(throws: InvalidInput.self) { try CIFARDataset(files: [path], labels: .cifar10) }
        #expect(error.subject == path)
        #expect(error.problem == "partial record at byte 3073: file has 3173 bytes, not a multiple of the 3073-byte record (100 bytes left over)")
        try Fixtures.write(Self.cifarRecord(labels: [10], seed: 0), to: path)
        let label = try #require(throws: InvalidInput.self) { try CIFARDataset(files: [path], labels: .cifar10) }
        #expect(label.problem == "label 10 at byte 0 (record 0) is not below 10")
    }

    @Test func npzArchivesFromNumpyReadStoredAndDeflated() throws {
        let stored = try NumPyDataset(archive: Fixtures.path("tiny_images.npz"))
        #expect(stored.count == 5 && stored.classCount == 3 && stored.width == 3 && stored.height == 4 && stored.channels == 3)
        #expect(stored.labels() == [0, 2, 1, 2, 0])
        let archive = try ZipArchive(path: Fixtures.path("tiny_images.npz"))
        let images = try archive.contents(of: "images.npy").withUnsafeBytes { try NumPyFile.decode($0) }
        #expect(try stored.sample(at: 4).image.pixels == Array(images.int64s[(4 * 36)...].map { UInt8($0) }))

        let compressed = try NumPyDataset(archive: Fixtures.path("tiny_images_compressed.npz"))
        let members = try ZipArchive(path: Fixtures.path("tiny_images_compressed.npz")).entries
        #expect(members.allSatisfy { $0.method == 8 })
        #expect(compressed.channels == 1 && compressed.labels() == [1, 0, 1, 1, 0])
        // Floats in [0, 1] that were k/255 quantise back to k exactly.
        let floats = try ZipArchive(path: Fixtures.path("tiny_images_compressed.npz")).contents(of: "images.npy")
            .withUnsafeBytes { try NumPyFile.decode($0) }.floats
        #expect(try compressed.sample(at: 0).image.pixels == floats[0..<12].map { UInt8(($0 * 255).rounded()) })
    }

    @Test func corruptOrTruncatedNpzIsReported() throws {
        let bytes = try Fixtures.bytes(Fixtures.path("tiny_images_compressed.npz"))
        let path = folder + "/bad.npz"
        try Fixtures.write(Array(bytes[0..<(bytes.count - 30)]), to: path)
        let cut = try #require(throws: InvalidInput.self) { try NumPyDataset(archive: path) }
        #expect(cut.subject == path)
        // Flip a byte inside the first member's deflated data: inflate or the CRC check must notice.
        var flipped = bytes
        flipped[120] ^= 0x55
        try Fixtures.write(flipped, to: path)
        let corrupt = try #require(throws: InvalidInput.self) { try NumPyDataset(archive: path) }
        #expect(corrupt.subject == path && corrupt.problem.contains("member 'images.npy'"))
        let missing = try #require(throws: InvalidInput.self) { try NumPyDataset(archive: Fixtures.path("tiny_images.npz"), imagesKey: "x_train") }
        #expect(missing.problem.contains("no member 'x_train.npy'"))
    }

    @Test func npyPairsCheckShapesAndRanges() throws {
        let images = Tensor([0, 0.5, 1, 0.25, 0, 0, 1, 1], shape: [2, 2, 2])
        try NumPyFile.write(images, to: folder + "/x.npy")
        try NumPyFile.write(Tensor([Int64(1), 0], shape: [2]), to: folder + "/y.npy")
        let dataset = try NumPyDataset(images: folder + "/x.npy", labels: folder + "/y.npy")
        // round(0.5 · 255) = 127.5 → 128 (half to even), round(0.25 · 255) = 63.75 → 64.
        #expect(try dataset.sample(at: 0).image.pixels == [0, 128, 255, 64])
        try NumPyFile.write(Tensor([0, 1.5, 0, 0], shape: [1, 2, 2]), to: folder + "/x.npy")
        try NumPyFile.write(Tensor([Int64(0)], shape: [1]), to: folder + "/y.npy")
        let range = try #require(throws: InvalidInput.self) { try NumPyDataset(images: folder + "/x.npy", labels: folder + "/y.npy") }
        #expect(range.problem == "pixel 1 is 1.5, outside [0, 1]")
        #expect(try NumPyDataset(images: folder + "/x.npy", labels: folder + "/y.npy", floatRange: .byte).sample(at: 0).image.pixels == [0, 2, 0, 0])
        try NumPyFile.write(Tensor([Int64(0), 1], shape: [2]), to: folder + "/y.npy")
        #expect(throws: InvalidInput.self) { try NumPyDataset(images: folder + "/x.npy", labels: folder + "/y.npy") }
    }

    @Test func imageFoldersAreIndexedLikeTorchvision() throws {
        let root = folder + "/train"
        let manager = FileManager.default
        for directory in ["zebra", "Apple", "cat/nested", "cat"] {
            try manager.createDirectory(atPath: root + "/" + directory, withIntermediateDirectories: true)
        }
        let png = PNG.encode(Fixtures.picture(width: 5, height: 4, channels: 3))
        let jpeg = try Fixtures.bytes(Fixtures.path("coffee.jpg"))
        for name in ["zebra/b.png", "zebra/a.PNG", "Apple/x.jpg", "cat/nested/c.png", "cat/d.jpeg"] {
            try Fixtures.write(name.hasSuffix("g") && name.contains("jp") ? jpeg : png, to: root + "/" + name)
        }
        try Fixtures.write([1, 2, 3], to: root + "/zebra/notes.txt")
        let dataset = try ImageFolderDataset(root: root)
        // Classes sort by code point (upper case first); within a class, directories then names.
        #expect(dataset.classes == ["Apple", "cat", "zebra"])
        #expect(dataset.paths.map { String($0.dropFirst(root.count + 1)) } == ["Apple/x.jpg", "cat/d.jpeg", "cat/nested/c.png", "zebra/a.PNG", "zebra/b.png"])
        #expect(dataset.labels() == [0, 1, 1, 2, 2])
        let (image, label) = try dataset.sample(at: 0)
        #expect(label == 0 && image.width == 48 && image.height == 32)
    }

    @Test func imageFolderErrorsNameTheFolderOrFile() throws {
        let root = folder + "/train"
        try FileManager.default.createDirectory(atPath: root + "/empty", withIntermediateDirectories: true)
        let empty = try #require(throws: InvalidInput.self) { try ImageFolderDataset(root: root) }
        #expect(empty.subject == root + "/empty")
        try FileManager.default.createDirectory(atPath: root + "/cls", withIntermediateDirectories: true)
        try FileManager.default.removeItem(atPath: root + "/empty")
        let jpeg = try Fixtures.bytes(Fixtures.path("coffee.jpg"))
        try Fixtures.write(Array(jpeg.prefix(300)), to: root + "/cls/broken.jpg")
        let dataset = try ImageFolderDataset(root: root)
        let broken = try #require(throws: InvalidInput.self) { try dataset.sample(at: 0) }
        #expect(broken.subject == root + "/cls/broken.jpg")
        #expect(broken.problem.hasPrefix("truncated JPEG data at byte 300"))
    }
}
