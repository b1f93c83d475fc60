import Tensor

/// An attribute value in the generic form shared by the text form and the `.serkd` file.
public enum AttributeValue: Hashable, Sendable, CustomStringConvertible {
    case int(Int)
    case ints([Int])
    case float(Float)
    case string(String)

    public var description: String {
        switch self {
        case .int(let v): String(v)
        case .ints(let v): "[" + v.map(String.init).joined(separator: ",") + "]"
        case .float(let v): String(v)
        case .string(let v): v
        }
    }
}

/// An op's kind name and attributes as read from a file, with typed accessors whose errors name the
/// op and the attribute.
struct AttributeReader {
    var kindName: String
    var attributes: [String: AttributeValue]

    func int(_ key: String) throws -> Int {
        guard case .int(let v) = attributes[key] else { throw InvalidInput(nil, "\(kindName) needs integer attribute '\(key)'") }
        return v
    }

    func ints(_ key: String) throws -> [Int] {
        switch attributes[key] {
        case .ints(let v): return v
        case .int(let v): return [v]
        default: throw InvalidInput(nil, "\(kindName) needs integer list attribute '\(key)'")
        }
    }

    func float(_ key: String) throws -> Float {
        switch attributes[key] {
        case .float(let v): return v
        case .int(let v): return Float(v)
        default: throw InvalidInput(nil, "\(kindName) needs float attribute '\(key)'")
        }
    }

    func string(_ key: String) throws -> String {
        guard case .string(let v) = attributes[key] else { throw InvalidInput(nil, "\(kindName) needs string attribute '\(key)'") }
        return v
    }

    func bool(_ key: String) throws -> Bool { try int(key) != 0 }
}
