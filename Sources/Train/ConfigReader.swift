import Tensor

/// Reads one JSON object of a configuration, remembering which keys were read, so that `finish()`
/// can reject the rest: a misspelt key is an error, never a silently ignored setting.
public final class ConfigReader {
    /// The dotted path of this object ("" for the root), for messages.
    public let path: String
    /// The file the configuration came from, for messages.
    public let source: String
    /// The `--set key.path=value` assignments applied to the file, so a problem with a value one
    /// of them set is blamed on it rather than on the file.
    public let overrides: [String]
    private let members: [(key: String, value: ConfigTree)]
    private var read: Set<String> = []
    private var children: [ConfigReader] = []

    /// A reader of `tree`, which must be an object (or null, read as empty).
    public init(_ tree: ConfigTree, path: String = "", source: String, overrides: [String] = []) throws {
        self.path = path
        self.source = source
        self.overrides = overrides
        switch tree {
        case .object(let members): self.members = members
        case .null: self.members = []
        default:
            throw InvalidInput(Self.subject(path, source: source, overrides: overrides),
                               "\(path.isEmpty ? "the configuration" : path): expected an object, got \(tree.brief)")
        }
    }

    func error(_ key: String, _ problem: String) -> InvalidInput {
        InvalidInput(Self.subject(qualified(key), source: source, overrides: overrides), "\(qualified(key)): \(problem)")
    }

    /// What a problem at `keyPath` is blamed on: the last `--set` that wrote it (or inside it, or
    /// created it), else the file.
    static func subject(_ keyPath: String, source: String, overrides: [String]) -> String {
        guard !keyPath.isEmpty else { return source }
        let blamed = overrides.last { assignment in
            let target = String(assignment.prefix { $0 != "=" })
            return target == keyPath || target.hasPrefix(keyPath + ".") || keyPath.hasPrefix(target + ".")
        }
        return blamed.map { "--set \($0)" } ?? source
    }

    func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value of `key`, if present and not null.
    public func value(_ key: String) -> ConfigTree? {
        read.insert(key)
        guard let value = members.first(where: { $0.key == key })?.value, value != .null else { return nil }
        return value
    }

    /// A nested object (empty when absent).
    public func object(_ key: String) throws -> ConfigReader {
        let child = try ConfigReader(value(key) ?? .null, path: qualified(key), source: source, overrides: overrides)
        children.append(child)
        return child
    }

    /// Whether a nested object is present.
    public func has(_ key: String) -> Bool { value(key) != nil }

    /// A number, or `fallback` when absent; checked against `range`.
    public func number(_ key: String, default fallback: Double, in range: ClosedRange<Double> = -.greatestFiniteMagnitude ... .greatestFiniteMagnitude) throws -> Double {
        guard let value = value(key) else { return fallback }
        guard case .number(let number) = value else { throw error(key, "expected a number, got \(value.brief)") }
        guard range.contains(number) else { throw error(key, "\(number) is outside \(range.lowerBound)…\(range.upperBound)") }
        return number
    }

    /// A float, or `fallback`.
    public func float(_ key: String, default fallback: Float, in range: ClosedRange<Double> = -.greatestFiniteMagnitude ... .greatestFiniteMagnitude) throws -> Float {
        Float(try number(key, default: Double(fallback), in: range))
    }

    /// An optional number.
    public func optionalNumber(_ key: String, in range: ClosedRange<Double> = -.greatestFiniteMagnitude ... .greatestFiniteMagnitude) throws -> Double? {
        value(key) == nil ? nil : try number(key, default: 0, in: range)
    }

    /// An integer, or `fallback`.
    public func integer(_ key: String, default fallback: Int, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int {
        guard let value = value(key) else { return fallback }
        guard case .number(let number) = value, number == number.rounded(), abs(number) < 9e15 else {
            throw error(key, "expected an integer, got \(value.brief)")
        }
        guard range.contains(Int(number)) else { throw error(key, "\(Int(number)) is outside \(range.lowerBound)…\(range.upperBound)") }
        return Int(number)
    }

    /// An optional integer.
    public func optionalInteger(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max) throws -> Int? {
        value(key) == nil ? nil : try integer(key, default: 0, in: range)
    }

    /// A boolean, or `fallback`.
    public func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let value = value(key) else { return fallback }
        guard case .bool(let flag) = value else { throw error(key, "expected true or false, got \(value.brief)") }
        return flag
    }

    /// A string, or `fallback`.
    public func string(_ key: String, default fallback: String) throws -> String {
        try optionalString(key) ?? fallback
    }

    /// An optional string.
    public func optionalString(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw error(key, "expected a string, got \(value.brief)") }
        return text
    }

    /// One of `choices`, or `fallback`.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, default fallback: T) throws -> T where T.RawValue == String {
        guard let text = try optionalString(key) else { return fallback }
        guard let choice = T(rawValue: text) else {
            throw error(key, "'\(text)' is not one of \(T.allCases.map { $0.rawValue }.joined(separator: ", "))")
        }
        return choice
    }

    /// A list of numbers, or `fallback`.
    public func numbers(_ key: String, default fallback: [Double]) throws -> [Double] {
        guard let value = value(key) else { return fallback }
        guard case .array(let items) = value else { throw error(key, "expected a list of numbers, got \(value.brief)") }
        return try items.map { item in
            guard case .number(let number) = item else { throw error(key, "expected a list of numbers, got \(value.brief)") }
            return number
        }
    }

    /// A list of integers, or `fallback`.
    public func integers(_ key: String, default fallback: [Int]) throws -> [Int] {
        try numbers(key, default: fallback.map(Double.init)).map { number in
            guard number == number.rounded() else { throw error(key, "expected integers, got \(number)") }
            return Int(number)
        }
    }

    /// A list of strings, or `fallback`.
    public func strings(_ key: String, default fallback: [String]) throws -> [String] {
        guard let value = value(key) else { return fallback }
        guard case .array(let items) = value else { throw error(key, "expected a list of strings, got \(value.brief)") }
        return try items.map { item in
            guard case .string(let text) = item else { throw error(key, "expected a list of strings, got \(value.brief)") }
            return text
        }
    }

    /// Throws for the first key of this object, or of any nested object read, that nobody read.
    public func finish() throws {
        if let unknown = members.first(where: { !read.contains($0.key) }) {
            throw InvalidInput(Self.subject(qualified(unknown.key), source: source, overrides: overrides), "unknown key '\(qualified(unknown.key))'")
        }
        for child in children { try child.finish() }
    }
}
