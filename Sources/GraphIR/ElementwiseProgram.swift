import Tensor

/// A straight-line program of elementwise instructions over float32 registers: the body of a fused
/// elementwise op, which evaluates a whole chain of unary and binary ops in one pass over memory.
///
/// Registers `0..<inputCount` hold the op's inputs (broadcast to the output shape); instruction `j`
/// writes register `inputCount + j`; the last instruction's register is the result. Comparisons
/// yield 1 or 0, and `select` takes any nonzero condition as true, so bool values only ever live
/// inside a program.
public struct ElementwiseProgram: Hashable, Sendable, Codable {
    /// One step of the program; operands are register numbers.
    public enum Instruction: Hashable, Sendable, Codable {
        case unary(UnaryFunction, Int)
        case binary(BinaryFunction, Int, Int)
        case compare(Comparison, Int, Int)
        /// condition, then-value, else-value.
        case select(Int, Int, Int)

        /// The registers the instruction reads.
        public var operands: [Int] {
            switch self {
            case .unary(_, let a): [a]
            case .binary(_, let a, let b), .compare(_, let a, let b): [a, b]
            case .select(let c, let a, let b): [c, a, b]
            }
        }

        /// The same instruction reading `map(register)` instead of each operand register.
        public func renumbered(_ map: (Int) -> Int) -> Instruction {
            switch self {
            case .unary(let f, let a): .unary(f, map(a))
            case .binary(let f, let a, let b): .binary(f, map(a), map(b))
            case .compare(let c, let a, let b): .compare(c, map(a), map(b))
            case .select(let c, let a, let b): .select(map(c), map(a), map(b))
            }
        }
    }

    /// Number of input registers.
    public var inputCount: Int
    /// The steps, in order.
    public var instructions: [Instruction]

    public init(inputCount: Int, instructions: [Instruction]) {
        self.inputCount = inputCount
        self.instructions = instructions
    }

    /// Register count: inputs, then one per instruction.
    public var registerCount: Int { inputCount + instructions.count }

    /// A problem with the program's structure (an operand read before it is written, no
    /// instructions), or nil when it is well formed.
    public var problem: String? {
        if instructions.isEmpty { return "program has no instructions" }
        for (index, instruction) in instructions.enumerated() {
            for operand in instruction.operands where operand < 0 || operand >= inputCount + index {
                return "instruction \(index) reads register \(operand), which is not yet written"
            }
        }
        return nil
    }

    /// The text form: instructions joined by `/`, each `name:operand…` with operands `rN` and the
    /// function's parameters as plain numbers (`mul:r0:r1/clip:0.0:6.0:r2`); a bare word, so it is
    /// one attribute of the text form and of `.serkd` files.
    public var text: String {
        instructions.map { instruction in
            let registers = instruction.operands.map { "r\($0)" }
            switch instruction {
            case .unary(let f, _): return ([f.text] + registers).joined(separator: ":")
            case .binary(let f, _, _): return ([f.rawValue] + registers).joined(separator: ":")
            case .compare(let c, _, _): return ([c.rawValue] + registers).joined(separator: ":")
            case .select: return (["select"] + registers).joined(separator: ":")
            }
        }.joined(separator: "/")
    }

    /// Parses `text` for a program with `inputCount` inputs.
    public init(text: String, inputCount: Int) throws {
        var instructions: [Instruction] = []
        for part in text.split(separator: "/", omittingEmptySubsequences: false) {
            let fields = part.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            let registers = fields.dropFirst().filter { $0.hasPrefix("r") }.compactMap { Int($0.dropFirst()) }
            let numbers = fields.dropFirst().filter { !$0.hasPrefix("r") }
            guard registers.count + numbers.count == fields.count - 1 else {
                throw InvalidInput(nil, "elementwise program step '\(part)' has a malformed operand")
            }
            let name = fields[0]
            if let f = BinaryFunction(rawValue: name), registers.count == 2, numbers.isEmpty {
                instructions.append(.binary(f, registers[0], registers[1]))
            } else if let c = Comparison(rawValue: name), registers.count == 2, numbers.isEmpty {
                instructions.append(.compare(c, registers[0], registers[1]))
            } else if name == "select", registers.count == 3, numbers.isEmpty {
                instructions.append(.select(registers[0], registers[1], registers[2]))
            } else if registers.count == 1, let f = UnaryFunction(textName: name, parameters: numbers) {
                instructions.append(.unary(f, registers[0]))
            } else {
                throw InvalidInput(nil, "elementwise program step '\(part)' is not an instruction")
            }
        }
        self.init(inputCount: inputCount, instructions: instructions)
        if let problem { throw InvalidInput(nil, problem) }
    }
}

extension UnaryFunction {
    /// The function as one bare word: its name, then its parameters after colons
    /// (`leaky_relu:0.01`, `clip:0.0:6.0`). Used where a function is an attribute value.
    public var text: String {
        let parameters: [Float] = switch self {
        case .leakyRelu(let alpha): [alpha]
        case .hardSigmoid(let alpha, let beta): [alpha, beta]
        case .clip(let low, let high): [low, high]
        default: []
        }
        return ([name] + parameters.map { String($0) }).joined(separator: ":")
    }

    /// Inverts `text`.
    public init?(text: String) {
        let fields = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        self.init(textName: fields[0], parameters: Array(fields.dropFirst()))
    }

    init?(textName name: String, parameters: [String]) {
        let values = parameters.compactMap { Float($0) }
        guard values.count == parameters.count else { return nil }
        switch (name, values.count) {
        case ("leaky_relu", 1): self = .leakyRelu(alpha: values[0])
        case ("hard_sigmoid", 2): self = .hardSigmoid(alpha: values[0], beta: values[1])
        case ("clip", 2): self = .clip(min: values[0], max: values[1])
        case (_, 0):
            let plain: [UnaryFunction] = [.neg, .abs, .exp, .log, .sqrt, .reciprocal, .sigmoid, .tanh, .erf, .relu, .gelu, .geluTanh, .hardSwish]
            guard let f = plain.first(where: { $0.name == name }) else { return nil }
            self = f
        default: return nil
        }
    }
}
