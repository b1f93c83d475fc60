import Dispatch
import Foundation
import Tensor

/// A chain of elementwise operations evaluated in one pass over memory: the output is produced a
/// block of elements at a time, each instruction running as one vectorised loop over the block, its
/// result kept in a per-thread scratch buffer that stays in L1 cache. Unfused, every step of the
/// chain writes and re-reads a tensor the size of the output.
///
/// Inputs broadcast under numpy rules: the output is walked in runs along its last (merged) axis,
/// and along a run each input either advances with the output or repeats one value.
public enum FusedElementwise {
    /// Elements computed per instruction before moving on: large enough to amortise the dispatch per
    /// instruction, small enough that a program's live registers stay in L1.
    public static let block = 512

    /// What an instruction computes, by name, so a serialized plan stores it as a word.
    public enum Operation: String, Hashable, Sendable, Codable, CaseIterable {
        case neg, abs, exp, log, sqrt, reciprocal, sigmoid, tanh, erf, relu, leakyRelu, gelu, geluTanh, hardSigmoid, hardSwish, clip
        case add, sub, mul, div, pow, max, min
        case equal, less, lessOrEqual, greater, greaterOrEqual
        case select
    }

    /// One step: registers `0..<inputCount` are the inputs; instruction `j` writes register
    /// `inputCount + j`. Comparisons yield 1 or 0; `select` treats nonzero as true.
    public struct Instruction: Hashable, Sendable, Codable {
        public var operation: Operation
        /// Registers read.
        public var operands: [Int]
        /// Parameters of the unary functions that have them (leaky ReLU's alpha, clip's bounds…).
        public var parameters: [Float]

        public init(operation: Operation, operands: [Int], parameters: [Float] = []) {
            self.operation = operation
            self.operands = operands
            self.parameters = parameters
        }

        /// `f(register)`.
        public init(_ function: UnaryFunction, _ operand: Int) {
            switch function {
            case .neg: self.init(operation: .neg, operands: [operand])
            case .abs: self.init(operation: .abs, operands: [operand])
            case .exp: self.init(operation: .exp, operands: [operand])
            case .log: self.init(operation: .log, operands: [operand])
            case .sqrt: self.init(operation: .sqrt, operands: [operand])
            case .reciprocal: self.init(operation: .reciprocal, operands: [operand])
            case .sigmoid: self.init(operation: .sigmoid, operands: [operand])
            case .tanh: self.init(operation: .tanh, operands: [operand])
            case .erf: self.init(operation: .erf, operands: [operand])
            case .relu: self.init(operation: .relu, operands: [operand])
            case .leakyRelu(let alpha): self.init(operation: .leakyRelu, operands: [operand], parameters: [alpha])
            case .gelu: self.init(operation: .gelu, operands: [operand])
            case .geluTanh: self.init(operation: .geluTanh, operands: [operand])
            case .hardSigmoid(let alpha, let beta): self.init(operation: .hardSigmoid, operands: [operand], parameters: [alpha, beta])
            case .hardSwish: self.init(operation: .hardSwish, operands: [operand])
            case .clip(let low, let high): self.init(operation: .clip, operands: [operand], parameters: [low, high])
            }
        }

        /// `f(a, b)`.
        public init(_ function: BinaryFunction, _ a: Int, _ b: Int) {
            self.init(operation: Operation(rawValue: function.rawValue)!, operands: [a, b])
        }

        /// `a ⋚ b` as 1 or 0.
        public init(_ comparison: Comparison, _ a: Int, _ b: Int) {
            self.init(operation: Operation(rawValue: comparison.rawValue)!, operands: [a, b])
        }

        /// The decoded form the kernel dispatches on.
        var step: Step {
            let o = operands, p = parameters
            switch operation {
            case .neg: return .unary(.neg, o[0])
            case .abs: return .unary(.abs, o[0])
            case .exp: return .unary(.exp, o[0])
            case .log: return .unary(.log, o[0])
            case .sqrt: return .unary(.sqrt, o[0])
            case .reciprocal: return .unary(.reciprocal, o[0])
            case .sigmoid: return .unary(.sigmoid, o[0])
            case .tanh: return .unary(.tanh, o[0])
            case .erf: return .unary(.erf, o[0])
            case .relu: return .unary(.relu, o[0])
            case .leakyRelu: return .unary(.leakyRelu(alpha: p[0]), o[0])
            case .gelu: return .unary(.gelu, o[0])
            case .geluTanh: return .unary(.geluTanh, o[0])
            case .hardSigmoid: return .unary(.hardSigmoid(alpha: p[0], beta: p[1]), o[0])
            case .hardSwish: return .unary(.hardSwish, o[0])
            case .clip: return .unary(.clip(min: p[0], max: p[1]), o[0])
            case .add, .sub, .mul, .div, .pow, .max, .min: return .binary(BinaryFunction(rawValue: operation.rawValue)!, o[0], o[1])
            case .equal, .less, .lessOrEqual, .greater, .greaterOrEqual: return .compare(Comparison(rawValue: operation.rawValue)!, o[0], o[1])
            case .select: return .select(o[0], o[1], o[2])
            }
        }
    }

    /// An instruction decoded for dispatch.
    enum Step {
        case unary(UnaryFunction, Int)
        case binary(BinaryFunction, Int, Int)
        case compare(Comparison, Int, Int)
        case select(Int, Int, Int)
    }

    /// A resolved fused elementwise call.
    public struct Geometry: Hashable, Sendable, Codable {
        /// Output extents after merging axes (see `Broadcast`).
        public var extents: [Int]
        /// Each input's element stride along each merged axis (0 where broadcast).
        public var strides: [[Int]]
        /// Output elements.
        public var count: Int
        public var instructions: [Instruction]
        /// For each instruction but the last (which writes the output), the scratch buffer holding
        /// its result; buffers are reused once their register is dead.
        public var buffers: [Int]
        /// Scratch buffers per thread.
        public var bufferCount: Int
        /// Threads that each get their own scratch buffers.
        public var slots: Int

        /// The program `instructions` over inputs of the given shapes, broadcast to `output`.
        public init(output: [Int], inputs: [[Int]], instructions: [Instruction]) {
            precondition(!instructions.isEmpty, "a fused elementwise kernel needs instructions")
            let rank = output.count
            let strides = inputs.map { shape -> [Int] in
                precondition(shape.count <= rank, "input \(shape) has more axes than the output \(output)")
                let padded = Array(repeating: 1, count: rank - shape.count) + shape
                var result = [Int](repeating: 0, count: rank), stride = 1
                for axis in (0..<rank).reversed() {
                    precondition(padded[axis] == output[axis] || padded[axis] == 1, "input \(shape) does not broadcast to \(output)")
                    result[axis] = padded[axis] == 1 ? 0 : stride
                    stride *= padded[axis]
                }
                return result
            }
            (extents, self.strides) = mergeAxes(extents: output, strides: strides)
            count = output.reduce(1, *)
            self.instructions = instructions
            (buffers, bufferCount) = Self.scratchBuffers(inputCount: inputs.count, instructions: instructions)
            slots = max(1, min(Parallel.threadCount, count / Elementwise.grain))
        }

        /// Linear-scan allocation of scratch buffers to the results of all instructions but the last:
        /// the buffer of each, and how many there are.
        static func scratchBuffers(inputCount: Int, instructions: [Instruction]) -> (buffers: [Int], count: Int) {
            var lastUse = [Int](repeating: -1, count: inputCount + instructions.count)
            for (index, instruction) in instructions.enumerated() {
                for operand in instruction.operands { lastUse[operand] = index }
            }
            var free: [Int] = [], assigned: [Int] = [], total = 0
            for (index, instruction) in instructions.enumerated().dropLast() {
                let buffer = free.popLast() ?? { total += 1; return total - 1 }()
                assigned.append(buffer)
                // Operands read for the last time here free their buffers for later results; an
                // operand's buffer may not be this instruction's own (the loops read while writing).
                // In register order, so a program always gets the same buffers (and a plan the same bytes).
                for operand in Set(instruction.operands).sorted() where operand >= inputCount && lastUse[operand] == index {
                    free.insert(assigned[operand - inputCount], at: 0)
                }
            }
            return (assigned, total)
        }

        /// Scratch bytes: `bufferCount` blocks per thread.
        public var workspaceBytes: Int { slots * bufferCount * FusedElementwise.block * MemoryLayout<Float>.size }
    }

    /// Runs the program over `inputs` (in operand order) into `output`. `workspace` holds
    /// `geometry.workspaceBytes` bytes (nil when that is 0). `output` may alias an input of the same
    /// shape: each block is read before any of it is written.
    public static func run(_ geometry: Geometry, inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>,
                           workspace: UnsafeMutableRawPointer?) {
        let g = geometry
        guard g.count > 0 else { return }
        precondition(g.bufferCount == 0 || workspace != nil, "the fused elementwise kernel needs a workspace")
        let steps = g.instructions.map(\.step)
        let scratch = workspace?.assumingMemoryBound(to: Float.self)
        func work(_ slot: Int) {
            let range = (g.count * slot / g.slots)..<(g.count * (slot + 1) / g.slots)
            let buffers = scratch.map { $0 + slot * g.bufferCount * block }
            evaluate(g, steps, inputs: inputs, output: output, buffers: buffers, range: range)
        }
        if g.slots == 1 {
            work(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: g.slots, execute: work)
        }
    }

    /// The program over output elements `range`, one block of a run at a time.
    static func evaluate(_ g: Geometry, _ steps: [Step], inputs: [UnsafePointer<Float>], output: UnsafeMutablePointer<Float>,
                         buffers: UnsafeMutablePointer<Float>?, range: Range<Int>) {
        guard !range.isEmpty else { return }
        let rank = g.extents.count, inner = g.extents[rank - 1]
        let inputCount = inputs.count, registerCount = inputCount + steps.count
        // Per-block state in plain buffers: the loop below runs once per block and must not touch
        // reference-counted arrays.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: rank + 2 * inputCount) { integers in
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: registerCount) { registers in
        withUnsafeTemporaryAllocation(of: Int.self, capacity: registerCount) { strides in
            let index = integers.baseAddress!, offsets = index + rank, innerStrides = offsets + inputCount
            let r = registers.baseAddress!, s = strides.baseAddress!
            var rest = range.lowerBound
            for input in 0..<inputCount { offsets[input] = 0 }
            for axis in (0..<rank).reversed() {
                index[axis] = rest % g.extents[axis]
                rest /= g.extents[axis]
                for input in 0..<inputCount { offsets[input] += g.strides[input][axis] * index[axis] }
            }
            for input in 0..<inputCount {
                innerStrides[input] = g.strides[input][rank - 1]
                s[input] = innerStrides[input]
            }
            for (number, buffer) in g.buffers.enumerated() {
                r[inputCount + number] = UnsafePointer(buffers! + buffer * block)
                s[inputCount + number] = 1
            }
            s[registerCount - 1] = 1
            var position = range.lowerBound
            while position < range.upperBound {
                let run = min(inner - index[rank - 1], range.upperBound - position)
                var done = 0
                while done < run {
                    let n = min(block, run - done)
                    for input in 0..<inputCount { r[input] = inputs[input] + offsets[input] + innerStrides[input] * done }
                    for (number, step) in steps.enumerated() {
                        let target = number == steps.count - 1 ? output + position + done : UnsafeMutablePointer(mutating: r[inputCount + number])
                        execute(step, r, s, target, n)
                    }
                    done += n
                }
                position += run
                // Advance the coordinates past this run.
                for input in 0..<inputCount { offsets[input] += innerStrides[input] * run }
                index[rank - 1] += run
                var axis = rank - 1
                while axis > 0 && index[axis] == g.extents[axis] {
                    for input in 0..<inputCount { offsets[input] -= g.strides[input][axis] * g.extents[axis] }
                    index[axis] = 0
                    axis -= 1
                    index[axis] += 1
                    for input in 0..<inputCount { offsets[input] += g.strides[input][axis] }
                }
            }
        }
        }
        }
    }

    /// One instruction over `n` elements: register `i` is a vector when `s[i]` is 1, a single value
    /// repeated when it is 0.
    static func execute(_ step: Step, _ r: UnsafePointer<UnsafePointer<Float>>, _ s: UnsafePointer<Int>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch step {
        case .unary(let f, let a):
            if s[a] == 0 {
                Elementwise.applySerially(f, r[a], y, count: 1)
                let value = y[0]
                for i in 0..<n { y[i] = value }
            } else {
                Elementwise.applySerially(f, r[a], y, count: n)
            }
        case .binary(let f, let a, let b):
            let (pa, pb, sa, sb) = (r[a], r[b], s[a], s[b])
            switch f {
            case .add: loop(Operation.Add.self, pa, sa, pb, sb, y, n)
            case .sub: loop(Operation.Subtract.self, pa, sa, pb, sb, y, n)
            case .mul: loop(Operation.Multiply.self, pa, sa, pb, sb, y, n)
            case .div: loop(Operation.Divide.self, pa, sa, pb, sb, y, n)
            case .max: loop(Operation.Maximum.self, pa, sa, pb, sb, y, n)
            case .min: loop(Operation.Minimum.self, pa, sa, pb, sb, y, n)
            case .pow:
                switch sb == 0 ? pb[0] : nil {
                case 1: loop(Operation.First.self, pa, sa, pb, sb, y, n)
                case 2: loop(Operation.Square.self, pa, sa, pb, sb, y, n)
                case 3: loop(Operation.Cube.self, pa, sa, pb, sb, y, n)
                case 0.5: loop(Operation.SquareRoot.self, pa, sa, pb, sb, y, n)
                case -1: loop(Operation.Reciprocal.self, pa, sa, pb, sb, y, n)
                default: loop(Operation.Power.self, pa, sa, pb, sb, y, n)
                }
            }
        case .compare(let c, let a, let b):
            let (pa, pb, sa, sb) = (r[a], r[b], s[a], s[b])
            switch c {
            case .equal: loop(Operation.Equal.self, pa, sa, pb, sb, y, n)
            case .less: loop(Operation.Less.self, pa, sa, pb, sb, y, n)
            case .lessOrEqual: loop(Operation.LessOrEqual.self, pa, sa, pb, sb, y, n)
            case .greater: loop(Operation.Greater.self, pa, sa, pb, sb, y, n)
            case .greaterOrEqual: loop(Operation.GreaterOrEqual.self, pa, sa, pb, sb, y, n)
            }
        case .select(let c, let a, let b):
            let (pc, pa, pb) = (r[c], r[a], r[b])
            let (sc, sa, sb) = (s[c], s[a], s[b])
            if sc == 1 && sa == 1 && sb == 1 {
                for i in 0..<n { y[i] = pc[i] != 0 ? pa[i] : pb[i] }
            } else {
                for i in 0..<n { y[i] = pc[i * sc] != 0 ? pa[i * sa] : pb[i * sb] }
            }
        }
    }

    /// y[i] = F(a[i·sa], b[i·sb]) for strides 0 or 1, each stride pair as its own plain loop. A
    /// function of its own per `F`, with `F.apply` inlined, so each loop vectorises (a closure may be
    /// left out of line and called per element).
    static func loop<F: BinaryElementFunction>(_: F.Type, _ a: UnsafePointer<Float>, _ sa: Int, _ b: UnsafePointer<Float>, _ sb: Int,
                                               _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        switch (sa, sb) {
        case (1, 1): for i in 0..<n { y[i] = F.apply(a[i], b[i]) }
        case (1, _):
            let vb = b[0]
            for i in 0..<n { y[i] = F.apply(a[i], vb) }
        case (_, 1):
            let va = a[0]
            for i in 0..<n { y[i] = F.apply(va, b[i]) }
        default:
            let v = F.apply(a[0], b[0])
            for i in 0..<n { y[i] = v }
        }
    }
}

/// A float function of two arguments, as a type, so a loop specialised on it inlines it.
protocol BinaryElementFunction {
    static func apply(_ a: Float, _ b: Float) -> Float
}

extension FusedElementwise.Operation {
    enum Add: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
    enum Subtract: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
    enum Multiply: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
    enum Divide: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }
    /// NaN in either argument gives NaN, as the unfused kernels.
    enum Maximum: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a > b || a != a ? a : b } }
    enum Minimum: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a < b || a != a ? a : b } }
    /// Powers with the exponents decomposed norms use, without libm.
    enum First: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _: Float) -> Float { a } }
    enum Square: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _: Float) -> Float { a * a } }
    enum Cube: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _: Float) -> Float { a * a * a } }
    enum SquareRoot: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _: Float) -> Float { a.squareRoot() } }
    enum Reciprocal: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _: Float) -> Float { 1 / a } }
    enum Power: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { Foundation.pow(a, b) } }
    /// Comparisons give 1 or 0.
    enum Equal: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a == b ? 1 : 0 } }
    enum Less: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a < b ? 1 : 0 } }
    enum LessOrEqual: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a <= b ? 1 : 0 } }
    enum Greater: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a > b ? 1 : 0 } }
    enum GreaterOrEqual: BinaryElementFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a >= b ? 1 : 0 } }
}
