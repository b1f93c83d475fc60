import Tensor

/// A dataset of labelled images addressed by index: what a loader draws batches from.
///
/// Sources read lazily where the format allows (image folders decode on access, CIFAR reads
/// records from a mapped file) and validate everything about their files' layout when opened, so
/// `sample(at:)` fails only on a corrupt image, and then names its file.
public protocol LabeledImageSource: Sendable {
    /// Number of samples.
    var count: Int { get }
    /// Number of classes; every label is in 0..<classCount.
    var classCount: Int { get }
    /// The image and label at `index` (0..<count).
    func sample(at index: Int) throws -> (image: Image, label: Int)
    /// All labels, in index order.
    func labels() throws -> [Int]
}

extension LabeledImageSource {
    /// All labels, by decoding every sample (sources that hold labels apart answer directly).
    public func labels() throws -> [Int] {
        try (0..<count).map { try sample(at: $0).label }
    }
}

/// Reads the file at `path` whole into memory, inflating it first when it starts with the gzip
/// magic (so `x.gz` and `x` are read the same way).
func readPossiblyCompressed(_ path: String) throws -> (bytes: [UInt8], compressed: Bool) {
    let file = try MappedFile(path: path)
    do {
        return try file.withUnsafeBytes { bytes in
            if bytes.count >= 2, bytes[0] == 0x1f, bytes[1] == 0x8b {
                return (try Compression.inflate(bytes, framing: .gzip), true)
            }
            return (Array(bytes), false)
        }
    } catch let error as InvalidInput {
        throw error.about(path)
    }
}

/// The most classes a dataset may have (2^20): a label beyond it is a corrupt file, and would
/// otherwise size every batch's target matrix.
let maximumClassCount = 1 << 20

/// Checks labels against a class count given by the user, or infers it as the largest label + 1.
func resolveClassCount(_ labels: [Int], declared: Int?, subject: String) throws -> Int {
    if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= maximumClassCount }) {
        throw InvalidInput(subject, "label \(labels[bad]) of sample \(bad) is \(labels[bad] < 0 ? "negative" : "beyond \(maximumClassCount) classes")")
    }
    let inferred = (labels.max() ?? -1) + 1
    guard let declared else { return inferred }
    guard declared > 0, declared <= maximumClassCount else {
        throw InvalidInput(subject, "class count must be in 1…\(maximumClassCount), got \(declared)")
    }
    if let bad = labels.firstIndex(where: { $0 >= declared }) {
        throw InvalidInput(subject, "label \(labels[bad]) of sample \(bad) is not below the class count \(declared)")
    }
    return declared
}
