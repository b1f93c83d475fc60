import Tensor

/// A command line split into positionals, valued `--options` and boolean `--flags`.
///
/// A command names its flags up front (so `--dump model.serkd` is unambiguous), takes what it
/// understands, then calls `finish()`, which rejects anything left over: a misspelt option is an
/// error rather than silently ignored.
public struct Arguments {
    private var positionals: [String] = []
    private var values: [(name: String, value: String)] = []
    private var flags: [String] = []
    private var taken: Set<String> = []
    private var nextPositional = 0

    /// Splits `arguments` (without the program name). Options take their value as `--name=value` or
    /// `--name value`; names in `flags` take none; `-o` is short for `--output`. `--` ends option
    /// parsing.
    public init(_ arguments: [String], flags flagNames: Set<String> = []) throws {
        let arguments = arguments.map { $0 == "-o" ? "--output" : $0 }
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard !optionsEnded, argument.hasPrefix("--") else {
                positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            let body = argument.dropFirst(2)
            if let equals = body.firstIndex(of: "=") {
                values.append((String(body[..<equals]), String(body[body.index(after: equals)...])))
            } else if flagNames.contains(String(body)) {
                flags.append(String(body))
            } else if index < arguments.count {
                values.append((String(body), arguments[index]))
                index += 1
            } else {
                throw InvalidInput(argument, flagNames.isEmpty ? "needs a value" : "needs a value (or is not a known flag)")
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

    /// Whether the flag `--name` is present.
    public mutating func flag(_ name: String) -> Bool {
        taken.insert(name)
        return flags.contains(name)
    }

    /// Throws if any option, flag or positional was not consumed.
    public func finish() throws {
        if let unknown = (values.map(\.name) + flags).first(where: { !taken.contains($0) }) {
            throw InvalidInput("--\(unknown)", "unknown option")
        }
        if nextPositional < positionals.count {
            throw InvalidInput(nil, "unexpected argument '\(positionals[nextPositional])'")
        }
    }
}
