import Tensor

/// Images and labels in IDX files, the format of MNIST and Fashion-MNIST (raw or gzip-compressed,
/// recognised by content): a header `0x00 0x00 type rank`, `rank` big-endian 32-bit extents, then the
/// elements. Images are N×H×W (or N×H×W×C) unsigned bytes, labels N unsigned bytes.
///
/// Fashion-MNIST from Debian's `dataset-fashion-mnist`:
/// `IDXDataset(images: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz",
///             labels: "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz")`.
public struct IDXDataset: LabeledImageSource {
    public let count: Int
    public let classCount: Int
    /// Image extents shared by every sample.
    public let width: Int, height: Int, channels: Int
    private let pixels: [UInt8]
    private let labelValues: [Int]

    /// Reads both files whole and checks them against each other. `classCount` defaults to the
    /// largest label + 1; given, every label must be below it.
    public init(images imagesPath: String, labels labelsPath: String, classCount: Int? = nil) throws {
        let images = try IDXArray(path: imagesPath)
        guard images.dims.count == 3 || (images.dims.count == 4 && [1, 3].contains(images.dims[3])) else {
            throw InvalidInput(imagesPath, "IDX images must have shape N×H×W or N×H×W×C (C 1 or 3), found \(images.dims.map(String.init).joined(separator: "×"))")
        }
        let labels = try IDXArray(path: labelsPath)
        guard labels.dims.count == 1 else {
            throw InvalidInput(labelsPath, "IDX labels must have one dimension, found \(labels.dims.count)")
        }
        guard labels.dims[0] == images.dims[0] else {
            throw InvalidInput(labelsPath, "\(labels.dims[0]) labels for \(images.dims[0]) images in \(imagesPath)")
        }
        try Image.validateDimensions(width: images.dims[2], height: images.dims[1], channels: images.dims.count == 4 ? images.dims[3] : 1)
        count = images.dims[0]
        height = images.dims[1]
        width = images.dims[2]
        channels = images.dims.count == 4 ? images.dims[3] : 1
        pixels = images.bytes
        labelValues = labels.bytes.map(Int.init)
        self.classCount = try resolveClassCount(labelValues, declared: classCount, subject: labelsPath)
    }

    public func sample(at index: Int) throws -> (image: Image, label: Int) {
        precondition((0..<count).contains(index), "sample \(index) out of 0..<\(count)")
        let size = width * height * channels
        let image = Image(width: width, height: height, channels: channels, pixels: Array(pixels[(index * size)..<((index + 1) * size)]))
        return (image, labelValues[index])
    }

    public func labels() -> [Int] { labelValues }
}

/// One IDX file's extents and unsigned-byte elements, validated against the bytes present.
struct IDXArray {
    let dims: [Int]
    let bytes: [UInt8]

    private static let typeNames: [UInt8: String] = [
        0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64",
    ]

    init(path: String) throws {
        let (data, compressed) = try readPossiblyCompressed(path)
        do {
            (dims, bytes) = try data.withUnsafeBytes { raw in
                var cursor = ByteCursor(raw)
                try cursor.require(4, for: "IDX header")
                guard raw[0] == 0, raw[1] == 0, let typeName = Self.typeNames[raw[2]] else {
                    throw InvalidInput(nil, "not an IDX file (bad magic \(raw[0..<4].map { String($0, radix: 16) }.joined(separator: " ")) at byte 0)")
                }
                guard raw[2] == 0x08 else { throw InvalidInput(nil, "IDX element type \(typeName) is not supported (expected unsigned byte)") }
                let rank = Int(raw[3])
                guard rank >= 1 else { throw InvalidInput(nil, "IDX file declares rank 0 at byte 3") }
                cursor.offset = 4
                var dims: [Int] = []
                for axis in 0..<rank { dims.append(Int(try cursor.uint32BigEndian(for: "IDX extent \(axis)"))) }
                guard let count = Shape(dims).checkedElementCount else { throw InvalidInput(nil, "IDX extents \(dims) overflow") }
                guard cursor.remaining == count else {
                    let shape = dims.map(String.init).joined(separator: "×")
                    if cursor.remaining < count {
                        throw InvalidInput(nil, "truncated IDX data at byte \(raw.count): header declares \(shape) = \(count) bytes from byte \(cursor.offset), \(cursor.remaining) present")
                    }
                    throw InvalidInput(nil, "IDX file has \(cursor.remaining - count) bytes after the \(shape) data ending at byte \(cursor.offset + count)")
                }
                return (dims, Array(raw[cursor.offset...]))
            }
        } catch let error as InvalidInput {
            throw InvalidInput(path, error.problem + (compressed ? " (offsets in the gunzipped data)" : ""))
        }
    }
}
