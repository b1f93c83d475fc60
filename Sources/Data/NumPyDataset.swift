import Tensor

/// Images and labels as NumPy arrays: a pair of `.npy` files, or two members of an `.npz` archive
/// (`np.savez`/`np.savez_compressed`). Images are N×H×W or N×H×W×C (C = 1, 3 or 4), either integers
/// 0–255 or floats, which are quantised to 8 bits as `round(x · 255)` (half to even) for
/// `.unit` arrays or `round(x)` for `.byte` arrays; labels are N integers.
public struct NumPyDataset: LabeledImageSource {
    /// The range float pixel arrays are in.
    public enum FloatRange: Sendable, Hashable {
        /// [0, 1], as `ToTensor()` output and most preprocessed arrays.
        case unit
        /// [0, 255].
        case byte
    }

    public let count: Int
    public let classCount: Int
    /// Image extents shared by every sample.
    public let width: Int, height: Int, channels: Int
    private let pixels: [UInt8]
    private let labelValues: [Int]

    /// Reads `images` and `labels` `.npy` files.
    public init(images imagesPath: String, labels labelsPath: String, floatRange: FloatRange = .unit, classCount: Int? = nil) throws {
        try self.init(images: NumPyFile.read(imagesPath), imagesSubject: imagesPath,
                      labels: NumPyFile.read(labelsPath), labelsSubject: labelsPath,
                      floatRange: floatRange, classCount: classCount)
    }

    /// Reads the members `imagesKey` and `labelsKey` of the `.npz` archive at `path` (the keyword
    /// names given to `np.savez`, with or without `.npy`).
    public init(archive path: String, imagesKey: String = "images", labelsKey: String = "labels",
                floatRange: FloatRange = .unit, classCount: Int? = nil) throws {
        let archive = try ZipArchive(path: path)
        func member(_ key: String) throws -> Tensor {
            let name = key.hasSuffix(".npy") ? key : key + ".npy"
            let bytes = try archive.contents(of: name)
            do {
                return try bytes.withUnsafeBytes { try NumPyFile.decode($0) }
            } catch let error as InvalidInput {
                throw InvalidInput(path, "member '\(name)': \(error.problem)")
            }
        }
        try self.init(images: member(imagesKey), imagesSubject: "\(path) member '\(imagesKey)'",
                      labels: member(labelsKey), labelsSubject: "\(path) member '\(labelsKey)'",
                      floatRange: floatRange, classCount: classCount)
    }

    private init(images: Tensor, imagesSubject: String, labels: Tensor, labelsSubject: String,
                 floatRange: FloatRange, classCount: Int?) throws {
        let dims = images.shape.dims
        guard dims.count == 3 || (dims.count == 4 && [1, 3, 4].contains(dims[3])) else {
            throw InvalidInput(imagesSubject, "images must have shape (N, H, W) or (N, H, W, C) with C 1, 3 or 4; found \(images.shape)")
        }
        let channels = dims.count == 4 ? dims[3] : 1
        try Image.validateDimensions(width: dims[2], height: dims[1], channels: channels)
        guard labels.shape.rank == 1, labels.shape[0] == dims[0] else {
            throw InvalidInput(labelsSubject, "labels must have shape (\(dims[0]),) to match the images; found \(labels.shape)")
        }
        guard labels.dtype == .int64 else { throw InvalidInput(labelsSubject, "labels must be integers, found \(labels.dtype.shortName)") }

        var pixels = [UInt8](repeating: 0, count: images.elementCount)
        switch images.dtype {
        case .int64:
            let values = images.rawPointer.assumingMemoryBound(to: Int64.self)
            for i in 0..<pixels.count {
                guard let level = UInt8(exactly: values[i]) else {
                    throw InvalidInput(imagesSubject, "pixel \(i) is \(values[i]), outside 0–255")
                }
                pixels[i] = level
            }
        case .float32:
            let values = images.rawPointer.assumingMemoryBound(to: Float.self)
            let scale: Float = floatRange == .unit ? 255 : 1
            for i in 0..<pixels.count {
                let level = (values[i] * scale).rounded(.toNearestOrEven)
                guard level >= 0, level <= 255 else {
                    throw InvalidInput(imagesSubject, "pixel \(i) is \(values[i]), outside \(floatRange == .unit ? "[0, 1]" : "[0, 255]")")
                }
                pixels[i] = UInt8(level)
            }
        default:
            throw InvalidInput(imagesSubject, "images must be integers or floats, found \(images.dtype.shortName)")
        }
        let labelValues = labels.int64s.map { Int(clamping: $0) }
        count = dims[0]
        height = dims[1]
        width = dims[2]
        self.channels = channels
        self.pixels = pixels
        self.labelValues = labelValues
        self.classCount = try resolveClassCount(labelValues, declared: classCount, subject: labelsSubject)
    }

    public func sample(at index: Int) throws -> (image: Image, label: Int) {
        precondition((0..<count).contains(index), "sample \(index) out of 0..<\(count)")
        let size = width * height * channels
        return (Image(width: width, height: height, channels: channels, pixels: Array(pixels[(index * size)..<((index + 1) * size)])), labelValues[index])
    }

    public func labels() -> [Int] { labelValues }
}
