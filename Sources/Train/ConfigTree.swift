import Foundation
import Tensor

/// A JSON document held as a tree, read strictly: every key a reader does not ask for is an error,
/// every type mismatch names the key path ("loss.angle.weight: expected a number, got \"x\"").
///
/// Overrides (`--set loss.angle.weight=0.5`) are applied to the tree before reading, so they obey the
/// same checks as the file.
public indirect enum ConfigTree: Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([ConfigTree])
    case object([(key: String, value: ConfigTree)])

    public static func == (a: ConfigTree, b: ConfigTree) -> Bool { a.description == b.description }

    /// Parses JSON text; errors name `source` and the line and column.
    public init(json text: String, source: String) throws {
        var parser = JSONParser(Array(text.utf8), source: source)
        self = try parser.document()
    }

    /// A float32 setting as the shortest decimal that reads back as the same float (`0.286`, not
    /// the `0.28600001335144043` of its exact double).
    public static func float(_ value: Float) -> ConfigTree {
        value.isFinite ? .number(Double(String(value))!) : .number(Double(value))
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
            return members.isEmpty ? "{}" : "{" + members.map { "\"\($0.key)\": \($0.value.renderInline())" }.joined(separator: ", ") + "}"
        default: return renderBroken(indent: "")
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
        case .string(let value):
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "\"\(escaped)\""
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
                let piece = "\"\(member.key)\": " + member.value.render(indent: inner, column: inner.count + member.key.count + 4)
                if let last = lines.last, !last.contains("\n"), !piece.contains("\n"), inner.count + last.count + 2 + piece.count <= Self.lineWidth {
                    lines[lines.count - 1] += ", " + piece
                } else {
                    lines.append(piece)
                }
            }
            return "{\n" + lines.map { inner + $0 }.joined(separator: ",\n") + "\n\(indent)}"
        }
    }

    /// A short rendering for messages.
    var brief: String {
        let text = description.replacingOccurrences(of: "\n", with: " ")
        return text.count > 40 ? String(text.prefix(37)) + "…" : text
    }

    /// The tree with the value at the dotted `path` replaced (objects are created as needed).
    public func setting(_ path: [String], to value: ConfigTree) -> ConfigTree {
        guard let head = path.first else { return value }
        var members: [(key: String, value: ConfigTree)] = []
        if case .object(let existing) = self { members = existing }
        if let index = members.firstIndex(where: { $0.key == head }) {
            members[index].value = members[index].value.setting(Array(path.dropFirst()), to: value)
        } else {
            members.append((head, ConfigTree.null.setting(Array(path.dropFirst()), to: value)))
        }
        return .object(members)
    }

    /// Applies `key.path=value` (the value parsed as JSON when it is valid JSON, else as a string).
    public func overriding(_ assignment: String) throws -> ConfigTree {
        guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
            throw InvalidInput("--set \(assignment)", "expected key.path=value")
        }
        let path = assignment[..<equals].split(separator: ".").map(String.init)
        let text = String(assignment[assignment.index(after: equals)...])
        let value = (try? ConfigTree(json: text, source: "--set")) ?? .string(text)
        return setting(path, to: value)
    }
}

/// A strict JSON parser (RFC 8259) that keeps object keys in order and reports line and column.
struct JSONParser {
    private let bytes: [UInt8]
    private let source: String
    private var position = 0

    init(_ bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
    }

    mutating func document() throws -> ConfigTree {
        let value = try parseValue(depth: 0)
        skipSpace()
        guard position == bytes.count else { throw error("unexpected text after the JSON value") }
        return value
    }

    private func error(_ problem: String) -> InvalidInput {
        let before = bytes[..<min(position, bytes.count)]
        let line = before.filter { $0 == 10 }.count + 1
        let column = position - (before.lastIndex(of: 10).map { $0 + 1 } ?? 0) + 1
        return InvalidInput(source, "invalid JSON at line \(line), column \(column): \(problem)")
    }

    private mutating func skipSpace() {
        while position < bytes.count, [32, 9, 10, 13].contains(bytes[position]) { position += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws {
        skipSpace()
        guard position < bytes.count, bytes[position] == byte else { throw error("expected \(what)") }
        position += 1
    }

    private mutating func parseValue(depth: Int) throws -> ConfigTree {
        guard depth < 64 else { throw error("nested too deeply") }
        skipSpace()
        guard position < bytes.count else { throw error("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"):
            position += 1
            var members: [(key: String, value: ConfigTree)] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            repeat {
                skipSpace()
                let key = try parseString()
                if members.contains(where: { $0.key == key }) { throw error("key '\(key)' appears twice") }
                try expect(UInt8(ascii: ":"), "':'")
                members.append((key, try parseValue(depth: depth + 1)))
                skipSpace()
            } while try consumeSeparator(closing: UInt8(ascii: "}"))
            return .object(members)
        case UInt8(ascii: "["):
            position += 1
            var items: [ConfigTree] = []
            skipSpace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
            repeat {
                items.append(try parseValue(depth: depth + 1))
                skipSpace()
            } while try consumeSeparator(closing: UInt8(ascii: "]"))
            return .array(items)
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default:
            return .number(try parseNumber())
        }
    }

    /// After an item: true on ',', false on the closing bracket.
    private mutating func consumeSeparator(closing: UInt8) throws -> Bool {
        guard position < bytes.count else { throw error("unexpected end of input") }
        if bytes[position] == UInt8(ascii: ",") { position += 1; return true }
        if bytes[position] == closing { position += 1; return false }
        throw error("expected ',' or '\(Character(UnicodeScalar(closing)))'")
    }

    private mutating func literal(_ word: String) throws {
        let expected = Array(word.utf8)
        guard position + expected.count <= bytes.count, Array(bytes[position..<(position + expected.count)]) == expected else {
            throw error("unexpected character")
        }
        position += expected.count
    }

    private mutating func parseNumber() throws -> Double {
        let start = position
        while position < bytes.count, "+-0123456789.eE".utf8.contains(bytes[position]) { position += 1 }
        guard position > start, let text = String(bytes: bytes[start..<position], encoding: .utf8), let value = Double(text), value.isFinite else {
            position = start
            throw error("unexpected character")
        }
        return value
    }

    private mutating func parseString() throws -> String {
        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a string") }
        position += 1
        var scalars: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(bytes: scalars, encoding: .utf8) else { throw error("invalid UTF-8 in a string") }
                return text
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { break }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "n"): scalars.append(10)
                case UInt8(ascii: "t"): scalars.append(9)
                case UInt8(ascii: "r"): scalars.append(13)
                case UInt8(ascii: "b"): scalars.append(8)
                case UInt8(ascii: "f"): scalars.append(12)
                case UInt8(ascii: "u"):
                    guard position + 4 <= bytes.count, let code = UInt32(String(decoding: bytes[position..<(position + 4)], as: UTF8.self), radix: 16),
                          let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                    position += 4
                    scalars += Array(String(Character(scalar)).utf8)
                default: scalars.append(escape)
                }
            case 0..<32:
                throw error("control character in a string")
            default:
                scalars.append(byte)
            }
        }
        throw error("unterminated string")
    }
}
