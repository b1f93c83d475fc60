import Tensor

/// The CIFAR-10 and CIFAR-100 binary formats: fixed-size records of label byte(s) then a 32×32 RGB
/// image stored as three 1024-byte planes (R, G, B, each row-major). CIFAR-10 records carry one
/// label; CIFAR-100 records carry the coarse (20-class) label, then the fine (100-class) one.
///
/// Files stay memory-mapped and records are read on access.
public struct CIFARDataset: LabeledImageSource {
    /// Which labels the records carry and which one to use.
    public enum Labels: Sendable, Hashable {
        /// CIFAR-10: one label byte, 10 classes.
        case cifar10
        /// CIFAR-100's fine label (100 classes), the usual benchmark.
        case cifar100Fine
        /// CIFAR-100's coarse label (20 superclasses).
        case cifar100Coarse

        var labelBytes: Int { self == .cifar10 ? 1 : 2 }
        var labelOffset: Int { self == .cifar100Fine ? 1 : 0 }
        var classes: Int {
            switch self {
            case .cifar10: 10
            case .cifar100Fine: 100
            case .cifar100Coarse: 20
            }
        }
    }

    /// Bytes of one record's image (three 32×32 planes).
    public static let imageBytes = 32 * 32 * 3

    public let count: Int
    public let classCount: Int
    /// Which labels the records carry and which one `sample(at:)` returns.
    public let labelKind: Labels
    private let files: [MappedFile]
    /// The first global index held by each file, plus the total at the end.
    private let firstIndex: [Int]

    /// Opens the record files `paths` (in order) and checks every file's size and every label.
    public init(files paths: [String], labels: Labels) throws {
        guard !paths.isEmpty else { throw InvalidInput(nil, "no CIFAR files given") }
        let recordBytes = labels.labelBytes + Self.imageBytes
        var files: [MappedFile] = []
        var firstIndex = [0]
        for path in paths {
            let file = try MappedFile(path: path)
            guard file.byteCount > 0 else { throw InvalidInput(path, "empty CIFAR file") }
            guard file.byteCount % recordBytes == 0 else {
                let last = file.byteCount / recordBytes * recordBytes
                throw InvalidInput(path, "partial record at byte \(last): file has \(file.byteCount) bytes, not a multiple of the \(recordBytes)-byte record (\(file.byteCount - last) bytes left over)")
            }
            let records = file.byteCount / recordBytes
            try file.withUnsafeBytes { bytes in
                for record in 0..<records {
                    let offset = record * recordBytes + labels.labelOffset
                    guard Int(bytes[offset]) < labels.classes else {
                        throw InvalidInput(path, "label \(bytes[offset]) at byte \(offset) (record \(record)) is not below \(labels.classes)")
                    }
                }
            }
            files.append(file)
            firstIndex.append(firstIndex.last! + records)
        }
        self.files = files
        self.firstIndex = firstIndex
        count = firstIndex.last!
        classCount = labels.classes
        labelKind = labels
    }

    /// CIFAR-10's training (`data_batch_1.bin` … `data_batch_5.bin`) or test (`test_batch.bin`)
    /// split in `directory` (the extracted `cifar-10-batches-bin`).
    public static func cifar10(directory: String, train: Bool) throws -> CIFARDataset {
        let names = train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]
        return try CIFARDataset(files: names.map { directory + "/" + $0 }, labels: .cifar10)
    }

    /// CIFAR-100's `train.bin` or `test.bin` in `directory` (the extracted `cifar-100-binary`).
    public static func cifar100(directory: String, train: Bool, labels: Labels = .cifar100Fine) throws -> CIFARDataset {
        precondition(labels != .cifar10, "CIFAR-100 files carry cifar100Fine or cifar100Coarse labels")
        return try CIFARDataset(files: [directory + "/" + (train ? "train.bin" : "test.bin")], labels: labels)
    }

    public func sample(at index: Int) throws -> (image: Image, label: Int) {
        precondition((0..<count).contains(index), "sample \(index) out of 0..<\(count)")
        var fileIndex = 0
        while firstIndex[fileIndex + 1] <= index { fileIndex += 1 }
        let recordBytes = labelKind.labelBytes + Self.imageBytes
        let offset = (index - firstIndex[fileIndex]) * recordBytes
        return files[fileIndex].withUnsafeBytes { bytes in
            let label = Int(bytes[offset + labelKind.labelOffset])
            let planes = offset + labelKind.labelBytes
            var pixels = [UInt8](repeating: 0, count: Self.imageBytes)
            for i in 0..<1024 {
                for c in 0..<3 { pixels[i * 3 + c] = bytes[planes + c * 1024 + i] }
            }
            return (Image(width: 32, height: 32, channels: 3, pixels: pixels), label)
        }
    }
}
