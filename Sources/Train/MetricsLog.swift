import Foundation
import Tensor

/// The run's metrics as JSON lines (`metrics.jsonl`): one object per logged step or evaluation,
/// appended and flushed as they happen, so a crashed run keeps everything up to the crash.
public final class MetricsLog {
    /// The file written.
    public let path: String
    private let handle: FileHandle

    /// Opens `path` for appending (creating it).
    public init(path: String, truncate: Bool) throws {
        self.path = path
        if truncate || !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else { throw InvalidInput(path, "cannot create file") }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw InvalidInput(path, "cannot open for writing") }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    deinit { handle.closeFile() }

    /// Appends one record; numbers are written with enough digits to round-trip.
    public func append(_ record: [(String, Any)]) {
        let fields = record.map { key, value -> String in
            let rendered: String
            switch value {
            case let number as Double: rendered = number.isFinite ? "\(number)" : "null"
            case let number as Float: rendered = number.isFinite ? "\(number)" : "null"
            case let number as Int: rendered = "\(number)"
            case let text as String: rendered = "\"\(text)\""
            default: rendered = "\"\(value)\""
            }
            return "\"\(key)\": \(rendered)"
        }
        handle.write(Data(("{" + fields.joined(separator: ", ") + "}\n").utf8))
    }

    /// Reads every record of a metrics file as key → number (non-numbers skipped).
    public static func read(_ path: String) throws -> [[String: Double]] {
        let file = try MappedFile(path: path)
        let text = file.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        return try text.split(separator: "\n").enumerated().map { index, line in
            var record: [String: Double] = [:]
            guard case .object(let members) = try ConfigTree(json: String(line), source: "\(path) line \(index + 1)") else {
                throw InvalidInput(path, "line \(index + 1) is not a JSON object")
            }
            for (key, value) in members { if case .number(let number) = value { record[key] = number } }
            return record
        }
    }
}
