import Tensor

extension Graph {
    /// Parses the text form written by `text`. Intermediate value types are checked against shape
    /// inference, so a test can state the shapes it expects.
    public init(text: String) throws {
        var scanner = TextScanner(text)
        try scanner.expectWord("graph")
        self.init(name: try scanner.name())
        try scanner.expect("{")
        while true {
            scanner.skipSpace()
            if scanner.consume("}") { break }
            if scanner.consume("%") {
                try parseNode(&scanner)
                continue
            }
            let keyword = try scanner.word()
            switch keyword {
            case "meta":
                let key = try scanner.name()
                try scanner.expect("=")
                metadata[key] = try scanner.name()
            case "input", "param", "const", "state":
                try scanner.expect("%")
                let name = try scanner.name()
                try scanner.expect(":")
                let type = try scanner.type()
                if keyword == "input" {
                    addInput(name, type)
                } else {
                    try scanner.expect("=")
                    let tensor = try scanner.literal(type)
                    switch keyword {
                    case "param": _ = addParameter(name, tensor)
                    case "state": _ = addState(name, tensor)
                    default: _ = addConstant(name, tensor)
                    }
                }
            case "output":
                repeat {
                    try scanner.expect("%")
                    outputs.append(try lookup(try scanner.name(), &scanner))
                } while scanner.consume(",")
            default:
                throw scanner.error("unexpected '\(keyword)'")
            }
        }
        try Verifier.verify(self)
    }

    private func lookup(_ name: String, _ scanner: inout TextScanner) throws -> ValueID {
        guard let id = value(named: name) else { throw scanner.error("unknown value %\(name)") }
        return id
    }

    private mutating func parseNode(_ scanner: inout TextScanner) throws {
        var declared: [(String, TensorType)] = []
        repeat {
            if !declared.isEmpty { try scanner.expect("%") }
            let name = try scanner.name()
            try scanner.expect(":")
            declared.append((name, try scanner.type()))
        } while scanner.consume(",")
        try scanner.expect("=")
        let kind = try scanner.word()
        try scanner.expect("(")
        var inputs: [ValueID] = []
        if !scanner.consume(")") {
            repeat {
                try scanner.expect("%")
                inputs.append(try lookup(try scanner.name(), &scanner))
            } while scanner.consume(",")
            try scanner.expect(")")
        }
        var attributes: [String: AttributeValue] = [:]
        if scanner.consume("{") {
            repeat {
                let key = try scanner.word()
                try scanner.expect("=")
                attributes[key] = try scanner.attributeValue()
            } while scanner.consume(",")
            try scanner.expect("}")
        }
        try scanner.expect("@")
        let nodeName = try scanner.name()
        let op: Op
        do { op = try Op(kindName: kind, attributes: attributes) } catch let e as InvalidInput { throw scanner.error(e.problem) }
        let outputs = try apply(op, inputs, name: nodeName, outputNames: declared.map(\.0))
        for (output, (name, type)) in zip(outputs, declared) where self.type(of: output) != type {
            throw scanner.error("%\(name) is declared \(type), inferred \(self.type(of: output))")
        }
        guard outputs.count == declared.count else { throw scanner.error("\(kind) has \(outputs.count) outputs, \(declared.count) declared") }
    }
}

/// A cursor over the text form.
struct TextScanner {
    private let characters: [Character]
    private var position = 0

    init(_ text: String) { characters = Array(text) }

    func error(_ message: String) -> InvalidInput {
        let line = characters[..<min(position, characters.count)].filter { $0 == "\n" }.count + 1
        return InvalidInput("graph text line \(line)", message)
    }

    mutating func skipSpace() {
        while position < characters.count {
            if characters[position].isWhitespace {
                position += 1
            } else if characters[position] == "#" {
                while position < characters.count && characters[position] != "\n" { position += 1 }
            } else {
                break
            }
        }
    }

    mutating func consume(_ token: Character) -> Bool {
        skipSpace()
        guard position < characters.count, characters[position] == token else { return false }
        position += 1
        return true
    }

    mutating func expect(_ token: Character) throws {
        guard consume(token) else { throw error("expected '\(token)'") }
    }

    mutating func expectWord(_ expected: String) throws {
        guard try word() == expected else { throw error("expected '\(expected)'") }
    }

    /// A run of name characters; a ':' ends it when followed by a space (the type separator).
    mutating func word() throws -> String {
        skipSpace()
        var result = ""
        while position < characters.count, TextName.isBare(characters[position]) {
            if characters[position] == ":" && (position + 1 == characters.count || characters[position + 1].isWhitespace) { break }
            result.append(characters[position])
            position += 1
        }
        guard !result.isEmpty else { throw error("expected a name") }
        return result
    }

    /// A bare or double-quoted name.
    mutating func name() throws -> String {
        skipSpace()
        guard position < characters.count, characters[position] == "\"" else { return try word() }
        position += 1
        var result = ""
        while position < characters.count && characters[position] != "\"" {
            if characters[position] == "\\" { position += 1 }
            guard position < characters.count else { break }
            result.append(characters[position])
            position += 1
        }
        guard position < characters.count else { throw error("unterminated string") }
        position += 1
        return result
    }

    /// `f32[2,3]`
    mutating func type() throws -> TensorType {
        let dtypeName = try word()
        guard let dtype = DType(shortName: dtypeName) else { throw error("unknown dtype '\(dtypeName)'") }
        return TensorType(dtype, Shape(try intList()))
    }

    mutating func intList() throws -> [Int] {
        try expect("[")
        var values: [Int] = []
        if consume("]") { return values }
        repeat {
            let token = try word()
            guard let value = Int(token) else { throw error("expected an integer, got '\(token)'") }
            values.append(value)
        } while consume(",")
        try expect("]")
        return values
    }

    mutating func literal(_ type: TensorType) throws -> Tensor {
        skipSpace()
        if position < characters.count && characters[position] == "<" { throw error("data is elided; only inline literals can be parsed") }
        try expect("[")
        var tokens: [String] = []
        if !consume("]") {
            repeat { tokens.append(try word()) } while consume(",")
            try expect("]")
        }
        guard tokens.count == type.shape.elementCount else {
            throw error("\(tokens.count) values for \(type)")
        }
        if type.dtype == .int64 {
            // Parsed as integers: doubles would round values beyond 2^53 (INT64_MAX slice ends).
            let values = try tokens.map { token -> Int64 in
                guard let value = Int64(token) else { throw error("expected an integer, got '\(token)'") }
                return value
            }
            return Tensor(values, shape: type.shape)
        }
        let values = try tokens.map { token -> Double in
            guard let value = Double(token) else { throw error("expected a number, got '\(token)'") }
            return value
        }
        return Tensor(doubles: values, dtype: type.dtype, shape: type.shape)
    }

    mutating func attributeValue() throws -> AttributeValue {
        skipSpace()
        if position < characters.count && characters[position] == "[" { return .ints(try intList()) }
        let token = try word()
        if let value = Int(token) { return .int(value) }
        if let value = Float(token) { return .float(value) }
        return .string(token)
    }
}
