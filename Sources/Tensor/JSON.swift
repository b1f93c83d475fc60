/// A JSON document as a tree, object keys in file order.
///
/// serkd reads every JSON it meets (run configurations, `metrics.jsonl`, safetensors headers) with the
/// one strict reader here (RFC 8259): duplicate keys, invalid UTF-8, lone surrogates, unknown escapes,
/// non-finite or malformed numbers and excessive nesting are errors naming the line and column, so a
/// hostile file cannot reach a reader half-understood.
public indirect enum JSON: Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    case object([(key: String, value: JSON)])

    /// What a reader accepts beyond the grammar: formats that hold less than JSON allows say so here.
    public struct Limits: Sendable {
        /// Containers may nest this deep.
        public var maxDepth: Int
        /// Numbers must be non-negative integers written without fraction or exponent, exact in a
        /// `Double` and below 2^64; `true`, `false` and `null` are refused.
        public var integersOnly: Bool

        /// Limits for general documents (configurations, metrics).
        public static let document = Limits(maxDepth: 64, integersOnly: false)

        /// Creates limits.
        public init(maxDepth: Int, integersOnly: Bool) {
            self.maxDepth = maxDepth
            self.integersOnly = integersOnly
        }
    }

    public static func == (a: JSON, b: JSON) -> Bool { a.description == b.description }

    /// Parses `text`, which must hold one value and nothing after it but whitespace; errors name `source`.
    public init(json text: String, source: String, limits: Limits = .document) throws {
        self = try Array(text.utf8).withUnsafeBytes { try JSON(bytes: $0, source: source, limits: limits) }
    }

    /// Parses UTF-8 `bytes`, which must hold one value and nothing after it but whitespace.
    public init(bytes: UnsafeRawBufferPointer, source: String?, limits: Limits = .document) throws {
        var parser = JSONParser(bytes: bytes, source: source, limits: limits)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.offset == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        self = value
    }

    /// JSON text, keys in their order, two-space indentation; an object or array that fits on one
    /// line of `lineWidth` characters is written on one, and short members share lines, so a
    /// resolved config reads at a glance.
    public var description: String { render(indent: "", column: 0) }

    /// Width of a line `description` fills before breaking an object or array over several.
    static let lineWidth = 100

    /// The value starting at `column` of a line indented by `indent`.
    private func render(indent: String, column: Int) -> String {
        let inline = renderInline()
        return column + inline.count <= Self.lineWidth ? inline : renderBroken(indent: indent)
    }

    /// The whole value on one line.
    private func renderInline() -> String {
        switch self {
        case .array(let values): return "[" + values.map { $0.renderInline() }.joined(separator: ", ") + "]"
        case .object(let members):
            return members.isEmpty ? "{}" : "{" + members.map { "\(JSON.quoted($0.key)): \($0.value.renderInline())" }.joined(separator: ", ") + "}"
        case .null, .bool, .number, .string: return renderBroken(indent: "")
        }
    }

    /// Objects and arrays of objects over several lines, their members rendered by `render`.
    private func renderBroken(indent: String) -> String {
        switch self {
        case .null: return "null"
        case .bool(let value): return value ? "true" : "false"
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
            return String(value)
        case .string(let value): return JSON.quoted(value)
        case .array(let values):
            if values.allSatisfy({ if case .object = $0 { return false } else { return true } }) {
                return "[" + values.map { $0.renderInline() }.joined(separator: ", ") + "]"
            }
            let inner = indent + "  "
            return "[\n" + values.map { inner + $0.render(indent: inner, column: inner.count) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let members):
            if members.isEmpty { return "{}" }
            let inner = indent + "  "
            // Members that fit on one line share lines, filled up to the width; the others stand alone.
            var lines: [String] = []
            for member in members {
                let key = JSON.quoted(member.key)
                let piece = "\(key): " + member.value.render(indent: inner, column: inner.count + key.count + 2)
                if let last = lines.last, !last.contains("\n"), !piece.contains("\n"), inner.count + last.count + 2 + piece.count <= Self.lineWidth {
                    lines[lines.count - 1] += ", " + piece
                } else {
                    lines.append(piece)
                }
            }
            return "{\n" + lines.map { inner + $0 }.joined(separator: ",\n") + "\n\(indent)}"
        }
    }

    /// `text` as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

/// The reader behind `JSON(bytes:)`: recursive descent over the bytes, errors by line and column.
private struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    let source: String?
    let limits: JSON.Limits
    var offset = 0

    init(bytes: UnsafeRawBufferPointer, source: String?, limits: JSON.Limits) {
        self.bytes = bytes
        self.source = source
        self.limits = limits
    }

    func error(_ problem: String) -> InvalidInput {
        let end = min(offset, bytes.count)
        var line = 1, lineStart = 0
        for index in 0..<end where bytes[index] == 0x0A { line += 1; lineStart = index + 1 }
        return InvalidInput(source, "invalid JSON at line \(line), column \(end - lineStart + 1): \(problem)")
    }

    mutating func skipWhitespace() {
        while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
    }

    mutating func expect(_ byte: UInt8) throws {
        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == byte else {
            throw error(offset < bytes.count ? "expected '\(Character(Unicode.Scalar(byte)))'" : "unexpected end of input")
        }
        offset += 1
    }

    mutating func value(depth: Int) throws -> JSON {
        guard depth < limits.maxDepth else { throw error("nested too deeply") }
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end of input") }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            offset += 1
            var members: [(key: String, value: JSON)] = []
            var keys = Set<String>()
            skipWhitespace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
                offset += 1
                return .object(members)
            }
            repeat {
                skipWhitespace()
                let keyStart = offset
                let key = try string()
                guard keys.insert(key).inserted else {
                    offset = keyStart
                    throw error("key \"\(key)\" appears twice")
                }
                try expect(UInt8(ascii: ":"))
                members.append((key, try value(depth: depth + 1)))
            } while try separator(closing: UInt8(ascii: "}"))
            return .object(members)
        case UInt8(ascii: "["):
            offset += 1
            var elements: [JSON] = []
            skipWhitespace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
                offset += 1
                return .array(elements)
            }
            repeat {
                elements.append(try value(depth: depth + 1))
            } while try separator(closing: UInt8(ascii: "]"))
            return .array(elements)
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try number())
        case UInt8(ascii: "-") where !limits.integersOnly:
            return .number(try number())
        case UInt8(ascii: "t") where !limits.integersOnly: try literal("true"); return .bool(true)
        case UInt8(ascii: "f") where !limits.integersOnly: try literal("false"); return .bool(false)
        case UInt8(ascii: "n") where !limits.integersOnly: try literal("null"); return .null
        default:
            throw error(limits.integersOnly ? "expected an object, array, string or non-negative integer" : "unexpected character")
        }
    }

    /// Consumes "," (more follows) or the closing bracket (done).
    mutating func separator(closing: UInt8) throws -> Bool {
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end of input") }
        if bytes[offset] == UInt8(ascii: ",") {
            offset += 1
            return true
        }
        try expect(closing)
        return false
    }

    mutating func literal(_ word: StaticString) throws {
        let expected = UnsafeRawBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard offset + expected.count <= bytes.count, expected.indices.allSatisfy({ bytes[offset + $0] == expected[$0] }) else {
            throw error("unexpected character")
        }
        offset += expected.count
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, finite.
    mutating func number() throws -> Double {
        let start = offset
        func digits() -> Int {
            let first = offset
            while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) { offset += 1 }
            return offset - first
        }
        if bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        let integerStart = offset
        guard digits() > 0 else { throw error("unexpected character") }
        guard offset - integerStart == 1 || bytes[integerStart] != UInt8(ascii: "0") else {
            offset = integerStart
            throw error("number with a leading zero")
        }
        if offset < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[offset]) {
            guard !limits.integersOnly else { throw error("expected an integer") }
            if bytes[offset] == UInt8(ascii: ".") {
                offset += 1
                guard digits() > 0 else { throw error("expected a digit after '.'") }
            }
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
                offset += 1
                if offset < bytes.count, bytes[offset] == UInt8(ascii: "+") || bytes[offset] == UInt8(ascii: "-") { offset += 1 }
                guard digits() > 0 else { throw error("expected a digit in the exponent") }
            }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { offset = start; throw error("number \(text) is out of range") }
        if limits.integersOnly, UInt64(text).flatMap({ Double(exactly: $0) }) == nil { offset = start; throw error("integer too large") }
        return value
    }

    mutating func string() throws -> String {
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw error("expected a string") }
        offset += 1
        var utf8: [UInt8] = []
        while true {
            guard offset < bytes.count else { throw error("unterminated string") }
            let byte = bytes[offset]
            offset += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: utf8, as: UTF8.self) else { throw error("string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                guard offset < bytes.count else { throw error("unterminated string") }
                let escape = bytes[offset]
                offset += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
                case UInt8(ascii: "n"): utf8.append(0x0A)
                case UInt8(ascii: "r"): utf8.append(0x0D)
                case UInt8(ascii: "t"): utf8.append(0x09)
                case UInt8(ascii: "b"): utf8.append(0x08)
                case UInt8(ascii: "f"): utf8.append(0x0C)
                case UInt8(ascii: "u"):
                    var code = try hex4()
                    if (0xD800..<0xDC00).contains(code) {
                        guard offset + 1 < bytes.count, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate")
                        }
                        offset += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                    utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw error("invalid escape")
                }
            case 0..<0x20:
                throw error("control character in a string")
            default:
                utf8.append(byte)
            }
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard offset + 4 <= bytes.count else { throw error("unterminated \\u escape") }
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Character(Unicode.Scalar(bytes[offset])).hexDigitValue else { throw error("invalid \\u escape") }
            code = code * 16 + UInt32(digit)
            offset += 1
        }
        return code
    }
}
