import GraphIR

// The JSON of a safetensors header: a strict reader for exactly what the format uses (objects,
// arrays, strings, non-negative integers) and the writer's string quoting. Anything else
// (floats, literals, duplicate keys, deep nesting, invalid UTF-8) is an error naming the byte
// offset, so a hostile header cannot reach the rest of the reader half-understood.

/// A JSON value as a safetensors header may hold it.
enum HeaderJSON {
    case object([(key: String, value: HeaderJSON)])
    case array([HeaderJSON])
    case string(String)
    case integer(UInt64)

    /// Parses `bytes`, which must hold one value and nothing after it but whitespace.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws -> HeaderJSON {
        var parser = HeaderJSONParser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.offset == bytes.count else { throw parser.error("unexpected data after the header object") }
        return value
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String {
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

private struct HeaderJSONParser {
    let bytes: UnsafeRawBufferPointer
    var offset = 0
    /// Headers nest three deep (header → entry → shape); anything deeper is not a header.
    static let maxDepth = 4

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func error(_ problem: String) -> InvalidInput { InvalidInput(nil, "header JSON at byte \(offset): \(problem)") }

    mutating func skipWhitespace() {
        while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) { offset += 1 }
    }

    mutating func expect(_ byte: UInt8) throws {
        skipWhitespace()
        guard offset < bytes.count, bytes[offset] == byte else {
            throw error(offset < bytes.count ? "expected '\(Character(Unicode.Scalar(byte)))'" : "unexpected end")
        }
        offset += 1
    }

    mutating func value(depth: Int) throws -> HeaderJSON {
        guard depth < Self.maxDepth else { throw error("nested too deeply") }
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end") }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            offset += 1
            var members: [(key: String, value: HeaderJSON)] = []
            var keys = Set<String>()
            skipWhitespace()
            if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
                offset += 1
                return .object(members)
            }
            repeat {
                skipWhitespace()
                let key = try string()
                guard keys.insert(key).inserted else { throw error("key \"\(key)\" appears twice") }
                try expect(UInt8(ascii: ":"))
                members.append((key, try value(depth: depth + 1)))
            } while try separator(closing: UInt8(ascii: "}"))
            return .object(members)
        case UInt8(ascii: "["):
            offset += 1
            var elements: [HeaderJSON] = []
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
            return .integer(try integer())
        default:
            throw error("expected an object, array, string or non-negative integer")
        }
    }

    /// Consumes "," (more follows) or the closing bracket (done).
    mutating func separator(closing: UInt8) throws -> Bool {
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end") }
        if bytes[offset] == UInt8(ascii: ",") {
            offset += 1
            return true
        }
        try expect(closing)
        return false
    }

    mutating func integer() throws -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        while offset < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset]) {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(bytes[offset] - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw error("integer too large") }
            value = sum
            offset += 1
        }
        guard offset - start == 1 || bytes[start] != UInt8(ascii: "0") else { throw error("integer with a leading zero") }
        if offset < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[offset]) {
            throw error("expected an integer")
        }
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
