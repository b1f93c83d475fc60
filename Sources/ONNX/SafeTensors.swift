import GraphIR

/// Reads and writes safetensors files, Hugging Face's format for model weights: an 8-byte
/// little-endian header size, a JSON header giving each tensor's dtype, shape and byte range
/// (`data_offsets`, relative to the end of the header), an optional `__metadata__` map of strings,
/// then the tensor bytes, little-endian and row-major.
///
/// The writer follows the reference implementation's layout: the header is padded with spaces so
/// data starts 8-byte aligned, and tensors are stored largest element first, so each starts aligned
/// to its element size with no gaps between them. The reader treats the file as hostile and checks
/// every number before use: the header size against a bound and the file, each range against its
/// dtype and shape and against the data, and the ranges against each other (sorted, they must
/// tile the data exactly: no overlap, no gap, nothing after the last, as the reference requires).
public enum SafeTensors {
    /// The tensors and metadata of a safetensors file.
    public struct Contents {
        /// Tensors in file order.
        public var tensors: [(name: String, tensor: Tensor)]
        /// The `__metadata__` strings.
        public var metadata: [String: String]

        /// The tensor called `name`.
        public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }
    }

    /// The largest header accepted (the reference implementation's bound).
    public static let maxHeaderSize = 100 << 20

    /// Writes `tensors` and `metadata` to `path` atomically.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to path: String) throws {
        var seen = Set<String>()
        for (name, tensor) in tensors {
            guard name != "__metadata__", seen.insert(name).inserted else {
                throw InvalidInput(path, "tensor name '\(name)' is \(name == "__metadata__" ? "reserved" : "used twice")")
            }
            guard tensor.dtype.safeTensorsName != nil else { throw InvalidInput(path, "tensor '\(name)' has dtype \(tensor.dtype.shortName), which safetensors files of serkd do not hold") }
        }
        // Largest elements first keeps every tensor aligned to its element size without padding.
        let ordered = tensors.enumerated().sorted {
            ($0.element.tensor.dtype.byteSize, $1.offset) > ($1.element.tensor.dtype.byteSize, $0.offset)
        }.map(\.element)
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { JSON.quoted($0) + ":" + JSON.quoted(metadata[$0]!) }
            entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, tensor) in ordered {
            let shape = tensor.shape.dims.map(String.init).joined(separator: ",")
            entries.append(JSON.quoted(name) + ":{\"dtype\":\"\(tensor.dtype.safeTensorsName!)\",\"shape\":[\(shape)],"
                           + "\"data_offsets\":[\(offset),\(offset + tensor.byteCount)]}")
            offset += tensor.byteCount
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        header += Array(repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)

        let file = try AtomicFile(path: path)
        var prefix: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { prefix += $0 }
        try file.write(prefix + header)
        for (_, tensor) in ordered where tensor.byteCount > 0 {
            try file.write(tensor.rawPointer, count: tensor.byteCount)
        }
        try file.commit()
    }

    /// Writes the weights of `graph` (its parameters and state, named by value name) with the
    /// graph's metadata, and returns how many tensors and bytes were written.
    @discardableResult
    public static func write(weightsOf graph: Graph, to path: String) throws -> (count: Int, bytes: Int) {
        let weights = graph.dataValues.filter { [.parameter, .state].contains(graph[$0].kind) }.map { (graph[$0].name, graph.tensors[$0]!) }
        try write(weights, metadata: graph.metadata, to: path)
        return (weights.count, weights.reduce(0) { $0 + $1.1.byteCount })
    }

    /// Reads the file at `path`. Tensors are used in place from a private copy-on-write mapping
    /// where they are aligned, else copied. Errors are `InvalidInput`s naming the file.
    public static func read(_ path: String) throws -> Contents {
        let file = try MappedFile(path: path, writable: true)
        do {
            return try file.withUnsafeBytes { try decode($0, keeping: file) }
        } catch let error as InvalidInput {
            throw error.about(path)
        }
    }

    /// Decodes a whole file held in `bytes`; tensors alias `bytes` when `file` (which owns them)
    /// is given, else they are copies.
    static func decode(_ bytes: UnsafeRawBufferPointer, keeping file: MappedFile? = nil) throws -> Contents {
        guard bytes.count >= 8 else { throw InvalidInput(nil, "truncated: \(bytes.count) bytes, shorter than the 8-byte header size") }
        let declared = bytes.loadUnaligned(as: UInt64.self).littleEndian
        guard declared <= UInt64(maxHeaderSize) else {
            throw InvalidInput(nil, "header size \(declared) exceeds the \(maxHeaderSize >> 20) MiB limit")
        }
        let headerSize = Int(declared)
        guard headerSize <= bytes.count - 8 else {
            throw InvalidInput(nil, "truncated: header of \(headerSize) bytes, but only \(bytes.count - 8) follow the size")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerSize)])
        guard headerBytes.first == UInt8(ascii: "{") else { throw InvalidInput(nil, "header does not start with '{'") }
        guard case .object(let members) = try JSON(bytes: headerBytes, source: nil, limits: Self.headerLimits) else { preconditionFailure("an object starts with '{'") }
        let dataStart = 8 + headerSize
        let dataSize = bytes.count - dataStart

        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (key, value) in members {
            if key == "__metadata__" {
                metadata = try Self.metadata(value)
            } else {
                entries.append(try Entry(name: key, value, dataSize: dataSize))
            }
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var end = 0
        for (index, entry) in entries.enumerated() {
            if entry.begin < end { throw InvalidInput(nil, "tensors '\(entries[index - 1].name)' and '\(entry.name)' overlap") }
            if entry.begin > end { throw InvalidInput(nil, "\(entry.begin - end) bytes before tensor '\(entry.name)' belong to no tensor") }
            end = entry.end
        }
        guard end == dataSize else { throw InvalidInput(nil, "\(dataSize - end) bytes after the last tensor belong to no tensor") }

        let tensors = try entries.map { entry -> (String, Tensor) in
            let source = bytes.baseAddress! + dataStart + entry.begin
            let count = entry.end - entry.begin
            if entry.dtype == .bool, let bad = UnsafeRawBufferPointer(start: source, count: count).first(where: { $0 > 1 }) {
                throw InvalidInput(nil, "tensor '\(entry.name)' is BOOL but holds the byte \(bad)")
            }
            if let file, count > 0, Int(bitPattern: source) % entry.dtype.byteSize == 0 {
                let storage = TensorStorage(adopting: UnsafeMutableRawPointer(mutating: source), byteCount: count) { _ in withExtendedLifetime(file) {} }
                return (entry.name, Tensor(dtype: entry.dtype, shape: entry.shape, storage: storage))
            }
            let tensor = Tensor(zeros: entry.dtype, entry.shape)
            if count > 0 { tensor.rawPointer.copyMemory(from: source, byteCount: count) }
            return (entry.name, tensor)
        }
        return Contents(tensors: tensors, metadata: metadata)
    }

    /// A header holds objects, arrays, strings and non-negative integers, nested three deep
    /// (header → entry → shape); anything else is not a header.
    private static let headerLimits = JSON.Limits(maxDepth: 4, integersOnly: true)

    private static func metadata(_ value: JSON) throws -> [String: String] {
        guard case .object(let pairs) = value else { throw InvalidInput(nil, "__metadata__ must be an object of strings") }
        var result: [String: String] = [:]
        for (key, value) in pairs {
            guard case .string(let text) = value else { throw InvalidInput(nil, "__metadata__ entry '\(key)' is not a string") }
            result[key] = text
        }
        return result
    }

    /// One tensor's header entry, checked against the data size.
    private struct Entry {
        var name: String
        var dtype: DType
        var shape: Shape
        var begin: Int
        var end: Int

        init(name: String, _ value: JSON, dataSize: Int) throws {
            func fail(_ problem: String) -> InvalidInput { InvalidInput(nil, "tensor '\(name)': \(problem)") }
            guard case .object(let fields) = value else { throw fail("entry is not an object") }
            var dtypeName: String?, dims: [Int]?, offsets: [Int]?
            func integers(_ value: JSON, _ field: String) throws -> [Int] {
                guard case .array(let elements) = value else { throw fail("\(field) is not an array of integers") }
                return try elements.map {
                    guard case .number(let number) = $0 else { throw fail("\(field) is not an array of integers") }
                    return Int(number)
                }
            }
            for (key, field) in fields {
                switch key {
                case "dtype":
                    guard case .string(let text) = field else { throw fail("dtype is not a string") }
                    dtypeName = text
                case "shape": dims = try integers(field, "shape")
                case "data_offsets": offsets = try integers(field, "data_offsets")
                default: throw fail("unknown field '\(key)'")
                }
            }
            guard let dtypeName, let dims, let offsets else { throw fail("needs dtype, shape and data_offsets") }
            guard let dtype = DType(safeTensorsName: dtypeName) else {
                throw fail("dtype \(dtypeName) is not supported (serkd reads F32, I64, BOOL and BF16)")
            }
            let shape = Shape(dims)
            guard let count = shape.checkedElementCount, count <= ShapeLimits.maxElements else { throw fail("shape \(dims) is too large") }
            guard offsets.count == 2, offsets[0] <= offsets[1] else { throw fail("data_offsets \(offsets) are not [begin, end]") }
            let byteCount = count * dtype.byteSize
            guard offsets[1] - offsets[0] == byteCount else {
                throw fail("\(dtypeName)\(shape) needs \(byteCount) bytes, data_offsets \(offsets) span \(offsets[1] - offsets[0])")
            }
            guard offsets[1] <= dataSize else { throw fail("data_offsets \(offsets) lie outside the \(dataSize) bytes of data (truncated?)") }
            self.name = name
            self.dtype = dtype
            self.shape = shape
            (begin, end) = (offsets[0], offsets[1])
        }
    }
}

extension DType {
    /// The safetensors dtype name.
    var safeTensorsName: String? {
        switch self {
        case .float32: "F32"
        case .int64: "I64"
        case .bool: "BOOL"
        case .bfloat16: "BF16"
        }
    }

    init?(safeTensorsName: String) {
        guard let match = DType.allCases.first(where: { $0.safeTensorsName == safeTensorsName }) else { return nil }
        self = match
    }
}
