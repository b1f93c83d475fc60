import Tensor

/// What a command accepts on its command line: boolean flags, options taking one value, and list
/// options taking every value up to the next option (`--image a.png b.png`).
///
/// Declaring these up front lets parsing name a misspelt option as such (`--confg: unknown option
/// (did you mean --config?)`) before the command looks for what it needs.
public struct Syntax: Sendable {
    /// Names that take no value (`--dump`).
    public var flags: Set<String>
    /// Names that take one value (`--config run.json`); repeating one gives several.
    public var options: Set<String>
    /// Names that take every value up to the next option (`--image a.png b.png`).
    public var lists: Set<String>

    /// `help` is a flag of every command.
    public init(flags: Set<String> = [], options: Set<String> = [], lists: Set<String> = []) {
        self.flags = flags.union(["help"])
        self.options = options
        self.lists = lists
    }

    /// Every name this syntax accepts.
    var names: Set<String> { flags.union(options).union(lists) }

    /// The accepted name closest to `name` within two edits, for a "did you mean" hint.
    func suggestion(for name: String) -> String? {
        let scored = names.map { ($0, editDistance($0, name)) }.filter { $0.1 <= 2 }
        return scored.min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }?.0
    }
}

/// Levenshtein distance between `a` and `b`.
private func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for (i, x) in a.enumerated() {
        var current = [i + 1]
        for (j, y) in b.enumerated() {
            current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
        }
        previous = current
    }
    return previous[b.count]
}

/// A command line split into positionals, valued `--options` and boolean `--flags`, checked against
/// a command's `Syntax`.
///
/// A command takes what it understands, then calls `finish()`, which rejects a positional left
/// over or an option this mode of the command does not use.
public struct Arguments {
    private var positionals: [String] = []
    private var values: [(name: String, value: String)] = []
    private var flags: [String] = []
    private var taken: Set<String> = []
    private var nextPositional = 0

    /// Splits `arguments` (without the program and command names). Options take their value as
    /// `--name=value` or `--name value`; list options take every following value up to the next
    /// option; `-o` is short for `--output` and `-h` for `--help`; `--` ends option parsing. A name
    /// `syntax` does not accept is an error naming it.
    public init(_ arguments: [String], syntax: Syntax) throws {
        var index = 0
        var optionsEnded = false
        func isOption(_ argument: String) -> Bool { argument.hasPrefix("--") || argument == "-o" || argument == "-h" }
        while index < arguments.count {
            var argument = arguments[index]
            index += 1
            if argument == "-o" { argument = "--output" }
            if argument == "-h" { argument = "--help" }
            if !optionsEnded, argument.count > 1, argument.hasPrefix("-"), !argument.hasPrefix("--"), Double(argument) == nil {
                throw InvalidInput(argument, "unknown option")
            }
            guard !optionsEnded, argument.hasPrefix("--") else {
                positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            let body = argument.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            let inlineValue = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
            guard syntax.names.contains(name) else {
                throw InvalidInput("--" + name, "unknown option" + (syntax.suggestion(for: name).map { " (did you mean --\($0)?)" } ?? ""))
            }
            if syntax.flags.contains(name) {
                guard inlineValue == nil else { throw InvalidInput("--" + name, "takes no value") }
                flags.append(name)
            } else if let inlineValue {
                values.append((name, inlineValue))
            } else if syntax.lists.contains(name) {
                let start = index
                while index < arguments.count, !isOption(arguments[index]) {
                    values.append((name, arguments[index]))
                    index += 1
                }
                guard index > start else { throw InvalidInput("--" + name, "needs a value") }
            } else {
                guard index < arguments.count, !isOption(arguments[index]) || Double(arguments[index]) != nil else {
                    throw InvalidInput("--" + name, "needs a value")
                }
                values.append((name, arguments[index]))
                index += 1
            }
        }
    }

    /// The next positional argument, or an error naming what was expected.
    public mutating func positional(_ what: String) throws -> String {
        guard let value = optionalPositional() else { throw InvalidInput(nil, "missing \(what)") }
        return value
    }

    /// The next positional argument, if any.
    public mutating func optionalPositional() -> String? {
        guard nextPositional < positionals.count else { return nil }
        nextPositional += 1
        return positionals[nextPositional - 1]
    }

    /// The value of `--name`, if given (the last one wins).
    public mutating func option(_ name: String) -> String? {
        taken.insert(name)
        return values.last { $0.name == name }?.value
    }

    /// All values of a repeatable `--name`, in order.
    public mutating func options(_ name: String) -> [String] {
        taken.insert(name)
        return values.filter { $0.name == name }.map(\.value)
    }

    /// The value of `--name` as an integer in `range`.
    public mutating func intOption(_ name: String, in range: ClosedRange<Int> = 1...Int.max) throws -> Int? {
        guard let text = option(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw InvalidInput("--\(name)", "expected an integer in \(range.lowerBound)…\(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// The value of `--name` as a byte count such as `512MiB` or `2GiB` (see `ByteSize`).
    public mutating func byteSizeOption(_ name: String) throws -> Int? {
        guard let text = option(name) else { return nil }
        do {
            return try ByteSize.parse(text)
        } catch let error as InvalidInput {
            throw error.about("--\(name)")
        }
    }

    /// Whether the flag `--name` is present.
    public mutating func flag(_ name: String) -> Bool {
        taken.insert(name)
        return flags.contains(name)
    }

    /// Throws if an option or flag this mode of the command does not use, or a positional, was left over.
    public func finish() throws {
        if let unused = (values.map(\.name) + flags).first(where: { !taken.contains($0) }) {
            throw InvalidInput("--\(unused)", "does not apply here")
        }
        if nextPositional < positionals.count {
            throw InvalidInput(nil, "unexpected argument '\(positionals[nextPositional])'")
        }
    }
}
