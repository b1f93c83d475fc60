import Foundation
import GraphIR

// Elementwise ops: unary functions, binary arithmetic, comparisons, select and cast. Floating-point
// elements compute in Double and round once; int64 elements compute in Int64, wrapping on overflow
// rather than trapping, as C and ONNX runtimes do.
extension Reference {
    static func unary(_ function: UnaryFunction, _ x: Tensor) -> Tensor {
        if x.dtype == .int64 {
            return Tensor(x.int64s.map { apply(function, $0) }, shape: x.shape)
        }
        return Tensor(doubles: x.doubles.map { apply(function, $0) }, dtype: x.dtype, shape: x.shape)
    }

    /// One unary function on a real number.
    static func apply(_ function: UnaryFunction, _ x: Double) -> Double {
        switch function {
        case .neg: return -x
        case .abs: return Swift.abs(x)
        case .exp: return Foundation.exp(x)
        case .log: return Foundation.log(x)
        case .sqrt: return x.squareRoot()
        case .reciprocal: return 1 / x
        case .sigmoid: return 1 / (1 + Foundation.exp(-x))
        case .tanh: return Foundation.tanh(x)
        case .erf: return Foundation.erf(x)
        case .relu: return x < 0 ? 0 : x
        case .leakyRelu(let alpha): return x < 0 ? Double(alpha) * x : x
        case .gelu: return 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
        case .geluTanh: return 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
        case .hardSigmoid(let alpha, let beta): return clamp(Double(alpha) * x + Double(beta), 0, 1)
        case .hardSwish: return x * clamp(x / 6 + 0.5, 0, 1)
        case .clip(let low, let high): return clamp(x, Double(low), Double(high))
        }
    }

    /// One unary function on an integer; shape inference admits only neg, abs and relu here.
    static func apply(_ function: UnaryFunction, _ x: Int64) -> Int64 {
        switch function {
        case .neg: return 0 &- x
        case .abs: return x < 0 ? 0 &- x : x
        case .relu: return Swift.max(0, x)
        default: preconditionFailure("\(function.name) on int64 passed shape inference")
        }
    }

    /// `min(max(x, low), high)` as numpy's clip: NaN stays NaN, and `high` wins when `low > high`.
    static func clamp(_ x: Double, _ low: Double, _ high: Double) -> Double {
        let raised = x < low ? low : x
        return raised > high ? high : raised
    }

    /// The larger of two reals, NaN if either is NaN (numpy's `maximum`): used by every max.
    static func maximum(_ a: Double, _ b: Double) -> Double {
        a.isNaN || b.isNaN ? .nan : Swift.max(a, b)
    }

    /// The smaller of two reals, NaN if either is NaN (numpy's `minimum`).
    static func minimum(_ a: Double, _ b: Double) -> Double {
        a.isNaN || b.isNaN ? .nan : Swift.min(a, b)
    }

    static func binary(_ function: BinaryFunction, _ a: Tensor, _ b: Tensor, shape: Shape) throws -> Tensor {
        let ia = broadcastIndices(from: a.shape, to: shape), ib = broadcastIndices(from: b.shape, to: shape)
        if a.dtype == .int64 {
            let x = a.int64s, y = b.int64s
            var result: [Int64] = []
            result.reserveCapacity(ia.count)
            for i in ia.indices { result.append(try apply(function, x[ia[i]], y[ib[i]])) }
            return Tensor(result, shape: shape)
        }
        let x = a.doubles, y = b.doubles
        return Tensor(doubles: ia.indices.map { apply(function, x[ia[$0]], y[ib[$0]]) }, dtype: a.dtype, shape: shape)
    }

    /// One binary function on reals.
    static func apply(_ function: BinaryFunction, _ x: Double, _ y: Double) -> Double {
        switch function {
        case .add: x + y
        case .sub: x - y
        case .mul: x * y
        case .div: x / y
        case .pow: Foundation.pow(x, y)
        case .max: maximum(x, y)
        case .min: minimum(x, y)
        }
    }

    /// One binary function on integers: division truncates toward zero (C, ONNX Div), powers with a
    /// negative exponent truncate the real result (so 2⁻¹ is 0), overflow wraps.
    static func apply(_ function: BinaryFunction, _ x: Int64, _ y: Int64) throws -> Int64 {
        switch function {
        case .add: return x &+ y
        case .sub: return x &- y
        case .mul: return x &* y
        case .div:
            guard y != 0 else { throw InvalidInput(nil, "integer division by zero") }
            return x.dividedReportingOverflow(by: y).partialValue
        case .pow: return try power(x, y)
        case .max: return Swift.max(x, y)
        case .min: return Swift.min(x, y)
        }
    }

    /// `base` raised to `exponent` in integers, by repeated squaring.
    static func power(_ base: Int64, _ exponent: Int64) throws -> Int64 {
        if exponent < 0 {
            switch base {
            case 0: throw InvalidInput(nil, "integer 0 raised to the negative power \(exponent)")
            case 1: return 1
            case -1: return exponent % 2 == 0 ? 1 : -1
            default: return 0
            }
        }
        var result: Int64 = 1, square = base, remaining = exponent
        while remaining > 0 {
            if remaining % 2 == 1 { result = result &* square }
            square = square &* square
            remaining /= 2
        }
        return result
    }

    static func compare(_ comparison: Comparison, _ a: Tensor, _ b: Tensor, shape: Shape) -> Tensor {
        let ia = broadcastIndices(from: a.shape, to: shape), ib = broadcastIndices(from: b.shape, to: shape)
        if a.dtype == .int64 {
            let x = a.int64s, y = b.int64s
            return Tensor(ia.indices.map { holds(comparison, x[ia[$0]], y[ib[$0]]) }, shape: shape)
        }
        // Float, bfloat16 and bool (as 0/1) are all exact in Double.
        let x = a.doubles, y = b.doubles
        return Tensor(ia.indices.map { holds(comparison, x[ia[$0]], y[ib[$0]]) }, shape: shape)
    }

    /// Whether `x ⋚ y`; any comparison with NaN is false, as in IEEE 754.
    static func holds<T: Comparable>(_ comparison: Comparison, _ x: T, _ y: T) -> Bool {
        switch comparison {
        case .equal: x == y
        case .less: x < y
        case .lessOrEqual: x <= y
        case .greater: x > y
        case .greaterOrEqual: x >= y
        }
    }

    /// ONNX Where: `condition ? x : y`, all three broadcast to `shape`; any dtype for the branches.
    static func select(_ condition: Tensor, _ x: Tensor, _ y: Tensor, shape: Shape) -> Tensor {
        let choices = condition.bools
        let ic = broadcastIndices(from: condition.shape, to: shape)
        let ix = broadcastIndices(from: x.shape, to: shape), iy = broadcastIndices(from: y.shape, to: shape)
        let result = Tensor(zeros: x.dtype, shape)
        for i in ic.indices {
            if choices[ic[i]] {
                copyElements(1, from: x, at: ix[i], to: result, at: i)
            } else {
                copyElements(1, from: y, at: iy[i], to: result, at: i)
            }
        }
        return result
    }

    /// Converts every element: float→int64 truncates toward zero (NaN and out-of-range values
    /// saturate), anything→bool tests for nonzero, bool→number gives 0 or 1.
    static func cast(_ x: Tensor, to dtype: DType) -> Tensor {
        if x.dtype == dtype { return x.copy() }
        // Straight from Int64, because going through Double would round large values twice.
        if x.dtype == .int64 && dtype == .float32 { return Tensor(x.int64s.map { Float($0) }, shape: x.shape) }
        if x.dtype == .int64 && dtype == .bool { return Tensor(x.int64s.map { $0 != 0 }, shape: x.shape) }
        return Tensor(doubles: x.doubles, dtype: dtype, shape: x.shape)
    }
}
