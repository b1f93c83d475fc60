import GraphIR
import Reference
import Testing

@Suite("Reference: elementwise ops")
struct ElementwiseTests {
    @Test("binary ops broadcast a rank-0 operand against every element")
    func rankZeroBroadcast() throws {
        let y = try evaluate(.binary(.add), Tensor([1, 2, 3], shape: [3]), Tensor(scalar: Float(10)))
        expectValues(y, [11, 12, 13], shape: [3])
    }

    @Test("binary ops broadcast [2,1] with [3] to [2,3] (numpy rules)")
    func columnTimesRow() throws {
        let y = try evaluate(.binary(.mul), Tensor([1, 2], shape: [2, 1]), Tensor([1, 2, 3], shape: [3]))
        expectValues(y, [1, 2, 3, 2, 4, 6], shape: [2, 3])
    }

    @Test("sub, div and pow follow operand order; max and min propagate NaN")
    func floatArithmetic() throws {
        let a = Tensor([8, 9, 2], shape: [3]), b = Tensor([2, 0.5, .nan], shape: [3])
        expectValues(try evaluate(.binary(.sub), a, b), [6, 8.5, .nan], shape: [3])
        expectValues(try evaluate(.binary(.div), a, b), [4, 18, .nan], shape: [3])
        expectValues(try evaluate(.binary(.pow), a, b), [64, 3, .nan], shape: [3])
        expectValues(try evaluate(.binary(.max), a, b), [8, 9, .nan], shape: [3])
        expectValues(try evaluate(.binary(.min), a, b), [2, 0.5, .nan], shape: [3])
    }

    @Test("a binary op on an empty operand gives an empty broadcast result")
    func emptyOperand() throws {
        let y = try evaluate(.binary(.add), Tensor(zeros: .float32, [0, 3]), Tensor([1, 2, 3], shape: [3]))
        expectValues(y, [], shape: [0, 3])
    }

    @Test("int64 division truncates toward zero, like C and ONNX Div")
    func integerDivision() throws {
        let y = try evaluate(.binary(.div), Tensor([7, -7, 7, -7] as [Int64], shape: [4]), Tensor([2, 2, -2, -2] as [Int64], shape: [4]))
        #expect(y.int64s == [3, -3, -3, 3])
    }

    @Test("int64 division by zero is an error, not a trap")
    func integerDivisionByZero() {
        #expect(throws: InvalidInput(nil, "integer division by zero")) {
            try evaluate(.binary(.div), Tensor([1] as [Int64], shape: [1]), Tensor(scalar: Int64(0)))
        }
    }

    @Test("int64 pow is exact and truncates negative powers toward zero")
    func integerPower() throws {
        let y = try evaluate(.binary(.pow), Tensor([2, 3, 2, -1, 5] as [Int64], shape: [5]), Tensor([10, 2, -1, -3, 0] as [Int64], shape: [5]))
        #expect(y.int64s == [1024, 9, 0, -1, 1])
    }

    @Test("int64 add, mul, max and min compute in Int64 beyond Double's 53 bits")
    func integerArithmetic() throws {
        let big: Int64 = 1 << 60 + 1
        let a = Tensor([big, -4] as [Int64], shape: [2]), b = Tensor([1, 3] as [Int64], shape: [2])
        #expect(try evaluate(.binary(.add), a, b).int64s == [big + 1, -1])
        #expect(try evaluate(.binary(.mul), a, b).int64s == [big, -12])
        #expect(try evaluate(.binary(.max), a, b).int64s == [big, 3])
        #expect(try evaluate(.binary(.min), a, b).int64s == [1, -4])
    }

    @Test("comparisons broadcast and produce bool")
    func comparisons() throws {
        let x = Tensor([1, 2, 3], shape: [3]), two = Tensor(scalar: Float(2))
        #expect(try evaluate(.compare(.less), x, two).bools == [true, false, false])
        #expect(try evaluate(.compare(.lessOrEqual), x, two).bools == [true, true, false])
        #expect(try evaluate(.compare(.greater), x, two).bools == [false, false, true])
        #expect(try evaluate(.compare(.greaterOrEqual), x, two).bools == [false, true, true])
        let equal = try evaluate(.compare(.equal), Tensor([5, 6] as [Int64], shape: [2, 1]), Tensor([5, 6] as [Int64], shape: [2]))
        #expect(equal.shape == [2, 2] && equal.bools == [true, false, false, true])
    }

    @Test("select is ONNX Where: condition picks x or y, all three broadcast")
    func select() throws {
        let condition = Tensor([true, false], shape: [2])
        let y = try evaluate(.select, condition, Tensor([1, 2, 3, 4] as [Int64], shape: [2, 2]), Tensor(scalar: Int64(0)))
        #expect(y.shape == [2, 2] && y.int64s == [1, 0, 3, 0])
    }

    @Test("logicalNot flips every element")
    func logicalNot() throws {
        #expect(try evaluate(.logicalNot, Tensor([true, false], shape: [2])).bools == [false, true])
    }

    @Test("cast float→int64 truncates toward zero; bool→float gives 0/1; float→bool tests nonzero")
    func casts() throws {
        #expect(try evaluate(.cast(.int64), Tensor([2.7, -2.7, 0.5], shape: [3])).int64s == [2, -2, 0])
        expectValues(try evaluate(.cast(.float32), Tensor([true, false], shape: [2])), [1, 0], shape: [2])
        #expect(try evaluate(.cast(.bool), Tensor([0, -0.5, 2], shape: [3])).bools == [false, true, true])
        #expect(try evaluate(.cast(.bool), Tensor([0, 7] as [Int64], shape: [2])).bools == [false, true])
        #expect(try evaluate(.cast(.int64), Tensor([true, false], shape: [2])).int64s == [1, 0])
    }

    @Test("cast int64→f32 rounds once (2⁶⁰+2³⁶+1 rounds up, not to 2⁶⁰ via Double)")
    func castRoundsOnce() throws {
        let value: Int64 = 1 << 60 + 1 << 36 + 1
        let y = try evaluate(.cast(.float32), Tensor([value], shape: [1]))
        #expect(y.floats == [Float(1 << 60 + 1 << 37)])
    }

    @Test("piecewise activations: relu, leakyRelu, clip, hardSigmoid, hardSwish")
    func piecewiseActivations() throws {
        let x = Tensor([-4, -0.5, 0, 1, 4], shape: [5])
        expectValues(try evaluate(.unary(.relu), x), [0, 0, 0, 1, 4], shape: [5])
        expectValues(try evaluate(.unary(.leakyRelu(alpha: 0.25)), x), [-1, -0.125, 0, 1, 4], shape: [5])
        expectValues(try evaluate(.unary(.clip(min: -1, max: 2)), x), [-1, -0.5, 0, 1, 2], shape: [5])
        expectValues(try evaluate(.unary(.hardSigmoid(alpha: 0.25, beta: 0.5)), x), [0, 0.375, 0.5, 0.75, 1], shape: [5])
        expectValues(try evaluate(.unary(.hardSwish), x), [0, -0.5 * (2.5 / 6), 0, 4.0 / 6, 4], shape: [5])
    }

    @Test("clip keeps NaN and lets max win when min > max (numpy clip)")
    func clipEdgeCases() throws {
        expectValues(try evaluate(.unary(.clip(min: 0, max: 1)), Tensor([.nan], shape: [1])), [.nan], shape: [1])
        expectValues(try evaluate(.unary(.clip(min: 3, max: 1)), Tensor([0, 5], shape: [2])), [1, 1], shape: [2])
    }

    @Test("gelu is x·Φ(x) with erf; geluTanh is the tanh approximation (within 1e-7)")
    func gelu() throws {
        let x = Tensor([1, -1, -2], shape: [3])
        expectValues(try evaluate(.unary(.gelu), x), [0.8413447460685429, -0.15865525393145707, -0.04550026389635842],
                     shape: [3], tolerance: 1e-7)
        expectValues(try evaluate(.unary(.geluTanh), x), [0.8411919906082768, -0.15880800939172324, -0.04540230591222494],
                     shape: [3], tolerance: 1e-7)
    }

    @Test("transcendental functions agree with Double math within 1e-7 relative")
    func transcendental() throws {
        let x = Tensor([0.5, 1, 4], shape: [3])
        let cases: [(UnaryFunction, [Double])] = [
            (.neg, [-0.5, -1, -4]), (.abs, [0.5, 1, 4]),
            (.exp, [1.6487212707001282, 2.718281828459045, 54.598150033144236]),
            (.log, [-0.6931471805599453, 0, 1.3862943611198906]),
            (.sqrt, [0.7071067811865476, 1, 2]), (.reciprocal, [2, 1, 0.25]),
            (.sigmoid, [0.6224593312018546, 0.7310585786300049, 0.9820137900379085]),
            (.tanh, [0.46211715726000974, 0.7615941559557649, 0.999329299739067]),
            (.erf, [0.5204998778130465, 0.8427007929497149, 0.9999999845827421]),
        ]
        for (function, expected) in cases {
            expectValues(try evaluate(.unary(function), x), expected, shape: [3], tolerance: 1e-7)
        }
    }

    @Test("neg, abs and relu work on int64, wrapping at Int64.min instead of trapping")
    func integerUnary() throws {
        let x = Tensor([-3, 4, .min] as [Int64], shape: [3])
        #expect(try evaluate(.unary(.neg), x).int64s == [3, -4, .min])
        #expect(try evaluate(.unary(.abs), x).int64s == [3, 4, .min])
        #expect(try evaluate(.unary(.relu), x).int64s == [0, 4, 0])
    }

    @Test("an op whose inputs break its constraints is rejected with shape inference's message")
    func rejectsBadInputs() {
        #expect(throws: InvalidInput.self) {
            try evaluate(.binary(.add), Tensor([1, 2], shape: [2]), Tensor([1, 2, 3], shape: [3]))
        }
    }
}
