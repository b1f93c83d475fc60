import Foundation
import GraphIR
import Runtime
import Tensor
import Testing

/// A float64 statement of each vectorised function, free of the cancellations that would make the
/// yardstick itself inaccurate in float32's range (GELU through erfc, tanh-GELU as x·sigmoid(2u)).
private func exact(_ function: UnaryFunction, _ x: Double) -> Double {
    switch function {
    case .exp: Foundation.exp(x)
    case .erf: Foundation.erf(x)
    case .tanh: Foundation.tanh(x)
    case .sigmoid: 1 / (1 + Foundation.exp(-x))
    case .gelu: 0.5 * x * Foundation.erfc(-x / 2.0.squareRoot())
    case .geluTanh: x / (1 + Foundation.exp(-2 * (2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    default: .nan
    }
}

/// Applies a float32 unary kernel to an array.
private func apply(_ function: UnaryFunction, _ xs: [Float]) -> [Float] {
    var ys = [Float](repeating: 0, count: xs.count)
    Elementwise.apply(function, xs, &ys, count: xs.count)
    return ys
}

@Suite struct ElementwiseTests {
    /// Ulp bounds over x in [-10, 10] by band: below −5.5, [−5.5, −3), [−3, 0), [0, 10]. The GELU
    /// bands below 0 are wider because exp and erfc of a rounded argument amplify its rounding; in the
    /// lowest band both GELUs are below 2e-7 in magnitude and are held to an absolute 1e-7 instead.
    static let bounds: [(UnaryFunction, [Double])] = [
        (.exp, [1, 1, 1, 1]), (.erf, [1.7, 1.7, 1.7, 1.7]), (.tanh, [1.35, 1.35, 1.35, 1.35]),
        (.sigmoid, [2.5, 2.5, 2.5, 2.5]), (.gelu, [.infinity, 80, 21, 1.8]), (.geluTanh, [.infinity, 47, 19, 2.7]),
    ]

    @Test("vectorised transcendentals stay within their stated ulps of float64 libm over [-10, 10]",
          arguments: bounds)
    func transcendentalAccuracy(function: UnaryFunction, limits: [Double]) {
        let xs = (0...200_000).map { Float(-10 + Double($0) * 1e-4) }
        let ys = apply(function, xs)
        var worst = [Double](repeating: 0, count: 4)
        var worstAbsoluteInTail = 0.0
        for (x, y) in zip(xs, ys) {
            let expected = exact(function, Double(x))
            let band = x < -5.5 ? 0 : x < -3 ? 1 : x < 0 ? 2 : 3
            worst[band] = max(worst[band], ulps(y, from: expected))
            if band == 0 { worstAbsoluteInTail = max(worstAbsoluteInTail, abs(Double(y) - expected)) }
        }
        for band in 0..<4 { #expect(worst[band] <= limits[band], "band \(band): \(worst[band]) ulp") }
        #expect(worstAbsoluteInTail <= 1e-7)
    }

    @Test("exp covers float32's whole range: overflow to inf, subnormal results, underflow to 0")
    func expRange() {
        let xs: [Float] = [88.7, 88.73, 100, -87.5, -95, -103, -104.5, -200]
        let ys = apply(.exp, xs)
        #expect(ulps(ys[0], from: Foundation.exp(Double(xs[0]))) <= 1)
        #expect(ys[1] == .infinity && ys[2] == .infinity)
        for i in 3..<6 {
            let expected = Foundation.exp(Double(xs[i]))
            #expect(abs(Double(ys[i]) - expected) <= Double(Float.leastNonzeroMagnitude), "exp(\(xs[i]))")
        }
        #expect(ys[6] == 0 && ys[7] == 0)
    }

    @Test("special values: ±0, ±inf and NaN map to the functions' limits")
    func specialValues() {
        let xs: [Float] = [0, -0.0, .infinity, -.infinity, .nan, 1e30, -1e30]
        let table: [(UnaryFunction, [Float])] = [
            (.exp, [1, 1, .infinity, 0, .nan, .infinity, 0]),
            (.erf, [0, -0.0, 1, -1, .nan, 1, -1]),
            (.tanh, [0, -0.0, 1, -1, .nan, 1, -1]),
            (.sigmoid, [0.5, 0.5, 1, 0, .nan, 1, 0]),
            (.gelu, [0, 0, .infinity, .nan, .nan, 1e30, -0.0]),
            (.geluTanh, [0, -0.0, .infinity, .nan, .nan, 1e30, -0.0]),
        ]
        for (function, expected) in table {
            let ys = apply(function, xs)
            for (y, e) in zip(ys, expected) {
                #expect(y == e || (y.isNaN && e.isNaN), "\(function) gave \(y), expected \(e)")
            }
            #expect(ys[1].sign == expected[1].sign || function == .gelu, "\(function)(-0) sign")
        }
    }

    static let unaryFunctions: [UnaryFunction] = [
        .neg, .abs, .exp, .log, .sqrt, .reciprocal, .sigmoid, .tanh, .erf, .relu, .leakyRelu(alpha: 0.1),
        .gelu, .geluTanh, .hardSigmoid(alpha: 0.2, beta: 0.5), .hardSwish, .clip(min: -0.5, max: 1.5),
    ]

    @Test("float32 unary kernels match the reference, also in place", arguments: unaryFunctions)
    func unaryMatchesReference(function: UnaryFunction) throws {
        var noise = Noise(seed: 1)
        let positiveOnly = [UnaryFunction.log, .sqrt].contains(function)
        let x = noise.tensor([1037], in: positiveOnly ? 0.01...4 : -4...4)
        let y = Tensor(zeros: .float32, x.shape)
        Elementwise.apply(function, x.f32, y.f32, count: x.elementCount)
        let expected = try reference(.unary(function), [x])
        expectClose(y, expected, tolerance: 1e-6, "\(function)")
        Elementwise.apply(function, x.f32, x.f32, count: x.elementCount)
        expectClose(x, y, tolerance: 0, "\(function) in place")
    }

    @Test("int64 neg, abs and relu are exact, wrapping at Int64.min")
    func integerUnary() throws {
        let x = Tensor([-5, 0, 7, Int64.min, Int64.max], shape: [5])
        for function in [UnaryFunction.neg, .abs, .relu] {
            let y = Tensor(zeros: .int64, x.shape)
            Elementwise.apply(function, x.i64, y.i64, count: 5)
            #expect(y.int64s == (try reference(.unary(function), [x])).int64s, "\(function)")
        }
    }

    /// Operand shapes covering each broadcasting fast path and the general walk.
    static let broadcastCases: [([Int], [Int])] = [
        ([3, 5, 7], [3, 5, 7]),        // same shape: one run
        ([4, 9], []),                  // rank-0 scalar
        ([], [6]),                     // scalar on the left
        ([2, 5, 13], [13]),            // bias along the last axis
        ([2, 3, 4, 5], [1, 3, 1, 1]),  // per-channel over NCHW
        ([3, 1], [1, 4]),              // both broadcast
        ([2, 1, 5], [3, 1]),           // rank difference, interleaved
        ([1, 1, 1], [1]),              // all extents 1
        ([2, 0, 3], [3]),              // empty
    ]

    @Test("float32 binary functions broadcast like numpy and match the reference exactly",
          arguments: broadcastCases)
    func floatBinary(shapes: ([Int], [Int])) throws {
        var noise = Noise(seed: 2)
        let a = noise.tensor(Shape(shapes.0), in: 0.1...3), b = noise.tensor(Shape(shapes.1), in: -2...2)
        for function in BinaryFunction.allCases {
            let shape = try outputShape(.binary(function), [a, b])
            let y = Tensor(zeros: .float32, shape)
            Elementwise.binary(function, Broadcast(output: shape.dims, operands: [a.shape.dims, b.shape.dims]), a.f32, b.f32, y.f32)
            // +, −, ×, ÷, max and min round once either way; pow goes through libm's powf.
            expectClose(y, try reference(.binary(function), [a, b]), tolerance: function == .pow ? 1e-6 : 0, "\(function) \(shapes)")
            // In place: the output overwriting whichever operand has its shape.
            let geometry = Broadcast(output: shape.dims, operands: [a.shape.dims, b.shape.dims])
            if a.shape == shape {
                let overwritten = a.copy()
                Elementwise.binary(function, geometry, overwritten.f32, b.f32, overwritten.f32)
                expectClose(overwritten, y, tolerance: 0, "\(function) \(shapes) in place of a")
            }
            if b.shape == shape {
                let overwritten = b.copy()
                Elementwise.binary(function, geometry, a.f32, overwritten.f32, overwritten.f32)
                expectClose(overwritten, y, tolerance: 0, "\(function) \(shapes) in place of b")
            }
        }
    }

    @Test("pow with a scalar exponent takes its shortcut and still matches the reference",
          arguments: [Float(1), 2, 3, 0.5, -1, 1.7])
    func powerShortcuts(exponent: Float) throws {
        var noise = Noise(seed: 3)
        let a = noise.tensor([33], in: 0.1...3), b = Tensor(scalar: exponent)
        let y = Tensor(zeros: .float32, a.shape)
        Elementwise.binary(.pow, Broadcast(output: [33], operands: [[33], []]), a.f32, b.f32, y.f32)
        expectClose(y, try reference(.binary(.pow), [a, b]), tolerance: 1e-6)
    }

    @Test("max and min propagate NaN from either side")
    func nanPropagation() {
        let a = Tensor([.nan, 1, 2], shape: [3]), b = Tensor([1, .nan, 3], shape: [3])
        let geometry = Broadcast(output: [3], operands: [[3], [3]])
        for function in [BinaryFunction.max, .min] {
            let y = Tensor(zeros: .float32, [3])
            Elementwise.binary(function, geometry, a.f32, b.f32, y.f32)
            #expect(y.floats[0].isNaN && y.floats[1].isNaN && y.floats[2] == (function == .max ? 3 : 2))
        }
    }

    @Test("int64 binary functions wrap, truncate division toward zero, and match the reference",
          arguments: broadcastCases)
    func integerBinary(shapes: ([Int], [Int])) throws {
        var noise = Noise(seed: 4)
        let a = noise.integers(Shape(shapes.0), in: -50...50), b = noise.integers(Shape(shapes.1), in: 1...6)
        let negated = Tensor(b.int64s.map { -$0 }, shape: b.shape)
        for function in BinaryFunction.allCases {
            for (divisor, isNegated) in [(b, false), (negated, true)] where !(function == .pow && isNegated) {
                let shape = try outputShape(.binary(function), [a, divisor])
                let y = Tensor(zeros: .int64, shape)
                try Elementwise.binary(function, Broadcast(output: shape.dims, operands: [a.shape.dims, divisor.shape.dims]),
                                       a.i64, divisor.i64, y.i64)
                #expect(y.int64s == (try reference(.binary(function), [a, divisor])).int64s, "\(function) \(shapes)")
            }
        }
    }

    @Test("int64 division by zero throws instead of trapping")
    func integerDivisionByZero() {
        let a = Tensor([Int64(4), 5], shape: [2]), b = Tensor([Int64(2), 0], shape: [2])
        let y = Tensor(zeros: .int64, [2])
        #expect(throws: InvalidInput.self) {
            try Elementwise.binary(.div, Broadcast(output: [2], operands: [[2], [2]]), a.i64, b.i64, y.i64)
        }
    }

    @Test("comparisons give bytes 0/1 for float32, int64 and bool operands, NaN comparing false",
          arguments: broadcastCases)
    func comparisons(shapes: ([Int], [Int])) throws {
        var noise = Noise(seed: 5)
        // Small integers make ties common.
        let ai = noise.integers(Shape(shapes.0), in: -2...2), bi = noise.integers(Shape(shapes.1), in: -2...2)
        var af = Tensor(ai.int64s.map(Float.init), shape: ai.shape)
        if af.elementCount > 1 { af = Tensor([.nan] + af.floats.dropFirst(), shape: af.shape) }
        let bf = Tensor(bi.int64s.map(Float.init), shape: bi.shape)
        let ab = noise.bools(Shape(shapes.0)), bb = noise.bools(Shape(shapes.1))
        let shape = try outputShape(.compare(.equal), [ai, bi])
        let geometry = Broadcast(output: shape.dims, operands: [shapes.0, shapes.1])
        for comparison in Comparison.allCases {
            let y = Tensor(zeros: .bool, shape)
            Elementwise.compare(comparison, geometry, af.f32, bf.f32, y.u8)
            #expect(y.bools == (try reference(.compare(comparison), [af, bf])).bools, "f32 \(comparison)")
            Elementwise.compare(comparison, geometry, ai.i64, bi.i64, y.u8)
            #expect(y.bools == (try reference(.compare(comparison), [ai, bi])).bools, "i64 \(comparison)")
            Elementwise.compare(comparison, geometry, ab.u8, bb.u8, y.u8)
            #expect(y.bools == (try reference(.compare(comparison), [ab, bb])).bools, "bool \(comparison)")
        }
    }

    @Test("select broadcasts condition and branches for every element size")
    func select() throws {
        var noise = Noise(seed: 6)
        let condition = noise.bools([2, 1, 5])
        let pairs: [(Tensor, Tensor)] = [
            (noise.tensor([3, 1]), noise.tensor([5])),
            (noise.integers([1, 3, 5], in: -9...9), noise.integers([], in: -9...9)),
            (noise.bools([3, 5]), noise.bools([2, 3, 1])),
        ]
        for (x, z) in pairs {
            let shape = try outputShape(.select, [condition, x, z])
            let y = Tensor(zeros: x.dtype, shape)
            Elementwise.select(Broadcast(output: shape.dims, operands: [condition.shape.dims, x.shape.dims, z.shape.dims]),
                               condition: condition.u8, x.rawPointer, z.rawPointer, y.rawPointer, elementSize: x.dtype.byteSize)
            #expect(y.bitwiseEqual(try reference(.select, [condition, x, z])), "\(x.dtype.shortName)")
        }
    }

    @Test("casts truncate toward zero, saturate, and test for nonzero like the reference")
    func casts() throws {
        let floats = Tensor([-2.7, -0.5, 0, 0.5, 2.7, .nan, .infinity, -.infinity, 1e20, -1e20], shape: [10])
        let integers = Tensor([-3, 0, 1, 16_777_217, Int64.max], shape: [5])
        let bools = Tensor([true, false, true], shape: [3])
        for source in [floats, integers, bools] {
            for target in [DType.float32, .int64, .bool] {
                let y = Tensor(zeros: target, source.shape)
                Elementwise.cast(from: source.dtype, to: target, source.rawPointer, y.rawPointer, count: source.elementCount)
                #expect(y.bitwiseEqual(try reference(.cast(target), [source])), "\(source.dtype.shortName) → \(target.shortName)")
            }
        }
    }

    @Test("logical not flips bytes 0/1")
    func logicalNot() {
        let x = Tensor([true, false, false, true], shape: [4])
        let y = Tensor(zeros: .bool, [4])
        Elementwise.logicalNot(x.u8, y.u8, count: 4)
        #expect(y.bools == [false, true, true, false])
    }

    @Test("a large buffer split across threads gives the same result as one thread")
    func threadedSplit() throws {
        var noise = Noise(seed: 7)
        let a = noise.tensor([300_001]), b = noise.tensor([300_001])
        let y = Tensor(zeros: .float32, a.shape)
        Elementwise.binary(.mul, Broadcast(output: [300_001], operands: [[300_001], [300_001]]), a.f32, b.f32, y.f32)
        expectClose(y, try reference(.binary(.mul), [a, b]), tolerance: 0)
        Elementwise.apply(.gelu, a.f32, y.f32, count: a.elementCount)
        expectClose(y, try reference(.unary(.gelu), [a]), tolerance: 1e-6)
    }
}
