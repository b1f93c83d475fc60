import Foundation
import Tensor

/// Elementwise kernels: unary functions over contiguous buffers, binary functions, comparisons and
/// select under numpy broadcasting (see `Broadcast`), dtype casts and logical not.
///
/// Every kernel accepts its output aliasing an input of the same layout (in-place execution), and
/// splits large buffers across `Parallel`'s threads.
public enum Elementwise {
    /// Elements per thread below which a cheap elementwise loop is not worth splitting.
    static let grain = 1 << 15

    /// y[i] = f(x[i]) for `count` float32 elements. `x` and `y` may be the same buffer.
    public static func apply(_ function: UnaryFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                             count: Int) {
        Parallel.forEach(count, grain: function.isTranscendental ? grain / 8 : grain) { range in
            applySerially(function, x + range.lowerBound, y + range.lowerBound, count: range.count)
        }
    }

    /// y[i] = f(x[i]) for `count` int64 elements; `function` is neg, abs or relu (the functions the IR
    /// allows on integers). `x` and `y` may be the same buffer.
    public static func apply(_ function: UnaryFunction, _ x: UnsafePointer<Int64>, _ y: UnsafeMutablePointer<Int64>,
                             count: Int) {
        switch function {
        case .neg: map(x, y, count, Scalar.WrappingNegate())
        case .abs: map(x, y, count, Scalar.WrappingMagnitude())
        case .relu: map(x, y, count, Scalar.IntegerRelu())
        default: preconditionFailure("\(function) is not defined on int64")
        }
    }

    /// The float32 unary loop on the calling thread, for kernels that fuse an activation into work
    /// they have already split across threads.
    static func applySerially(_ function: UnaryFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                              count n: Int) {
        switch function {
        case .neg: map(x, y, n, Scalar.Negate())
        case .abs: map(x, y, n, Scalar.Magnitude())
        case .exp: map(x, y, n, Scalar.Exp())
        case .log: map(x, y, n, Scalar.Log())
        case .sqrt: map(x, y, n, Scalar.SquareRoot())
        case .reciprocal: map(x, y, n, Scalar.Reciprocal())
        case .sigmoid: map(x, y, n, Scalar.Sigmoid())
        case .tanh: map(x, y, n, Scalar.Tanh())
        case .erf: map(x, y, n, Scalar.Erf())
        case .relu: map(x, y, n, Scalar.Relu())
        case .leakyRelu(let alpha): map(x, y, n, Scalar.LeakyRelu(alpha: alpha))
        case .gelu: map(x, y, n, Scalar.Gelu())
        case .geluTanh: map(x, y, n, Scalar.GeluTanh())
        case .hardSigmoid(let alpha, let beta): map(x, y, n, Scalar.HardSigmoid(alpha: alpha, beta: beta))
        case .hardSwish: map(x, y, n, Scalar.HardSwish())
        case .clip(let low, let high): map(x, y, n, Scalar.Clip(low: low, high: high))
        }
    }

    /// y[i] = f(x[i]), also in place, as one vectorised loop. Each specialisation is its own
    /// function with `f` inlined into the loop (a large closure, by contrast, may be left out of
    /// line and called per element). In place, a loop over two pointers fails the compiler's runtime
    /// overlap check and runs scalar; so blocks of an in-place input are first copied to the stack,
    /// which the compiler knows overlaps nothing.
    static func map<F: ElementFunction>(_ x: UnsafePointer<F.Element>, _ y: UnsafeMutablePointer<F.Element>, _ n: Int,
                                        _ f: F) {
        let inPlace = x == UnsafePointer(y)
        // 1 KiB blocks: the size Swift always places on the stack.
        let block = 1024 / MemoryLayout<F.Element>.stride
        withUnsafeTemporaryAllocation(of: F.Element.self, capacity: block) { buffer in
            let copy = buffer.baseAddress!
            var start = 0
            while start < n {
                let count = min(block, n - start)
                let target = y + start
                let source: UnsafePointer<F.Element>
                if inPlace {
                    copy.update(from: target, count: count)
                    source = UnsafePointer(copy)
                } else {
                    source = x + start
                }
                for i in 0..<count { target[i] = f(source[i]) }
                start += count
            }
        }
    }

    /// y[i] = not x[i] for `count` bools stored as bytes 0/1.
    public static func logicalNot(_ x: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<UInt8>, count: Int) {
        map(x, y, count, Scalar.Not())
    }

    /// Converts `count` elements from one dtype to another among float32, int64 and bool (one byte,
    /// 0 or 1). float32 → int64 truncates toward zero and saturates (NaN gives Int64.max); anything
    /// → bool is `value != 0`.
    public static func cast(from source: DType, to target: DType, _ x: UnsafeRawPointer, _ y: UnsafeMutableRawPointer,
                            count: Int) {
        if source == target {
            y.copyMemory(from: x, byteCount: count * source.byteSize)
            return
        }
        let floats = x.assumingMemoryBound(to: Float.self), integers = x.assumingMemoryBound(to: Int64.self)
        let bytes = x.assumingMemoryBound(to: UInt8.self)
        Parallel.forEach(count, grain: grain) { range in
            let n = range.count, start = range.lowerBound
            switch (source, target) {
            case (.float32, .int64): convert(floats + start, y, start, n) { saturatingInt64($0) }
            case (.float32, .bool): convert(floats + start, y, start, n) { $0 != 0 ? 1 as UInt8 : 0 }
            case (.int64, .float32): convert(integers + start, y, start, n) { Float($0) }
            case (.int64, .bool): convert(integers + start, y, start, n) { $0 != 0 ? 1 as UInt8 : 0 }
            case (.bool, .float32): convert(bytes + start, y, start, n) { $0 != 0 ? 1 as Float : 0 }
            case (.bool, .int64): convert(bytes + start, y, start, n) { $0 != 0 ? 1 as Int64 : 0 }
            default: preconditionFailure("no cast kernel from \(source.shortName) to \(target.shortName)")
            }
        }
    }

    /// y[start + i] = f(x[i]) for i below n, `y` holding the output type.
    @inline(__always)
    static func convert<In, Out>(_ x: UnsafePointer<In>, _ y: UnsafeMutableRawPointer, _ start: Int, _ n: Int,
                                 _ f: (In) -> Out) {
        let output = y.assumingMemoryBound(to: Out.self) + start
        for i in 0..<n { output[i] = f(x[i]) }
    }

    /// Float → Int64 truncating toward zero, saturating out-of-range values (NaN counts as large),
    /// the same rule as `Tensor(doubles:dtype:shape:)`.
    @inline(__always)
    static func saturatingInt64(_ v: Float) -> Int64 {
        if v >= 9.223_372e18 || v.isNaN { return .max }
        if v < -9.223_372e18 { return .min }
        return Int64(v)
    }
}

/// A function applied elementwise, as a type, so a loop specialised on it inlines it.
protocol ElementFunction {
    associatedtype Element
    func callAsFunction(_ x: Element) -> Element
}

/// The elementwise functions of the kernels as `ElementFunction` types.
enum Scalar {
    struct Negate: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Float) -> Float { -x }
    }
    struct Magnitude: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Float) -> Float { VectorMath.magnitude(x) }
    }
    struct Exp: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Float) -> Float { VectorMath.exp(x) }
    }
    /// libm's logf: log is rare in the models (losses, log-softmax takes one per row).
    struct Log: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.log(x) }
    }
    struct SquareRoot: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Float) -> Float { x.squareRoot() }
    }
    struct Reciprocal: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Float) -> Float { 1 / x }
    }
    struct Sigmoid: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Float) -> Float { VectorMath.sigmoid(x) }
    }
    struct Tanh: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Float) -> Float { VectorMath.tanh(x) }
    }
    struct Erf: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Float) -> Float { VectorMath.erf(x) }
    }
    /// NaN passes through.
    struct Relu: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Float) -> Float { x < 0 ? 0 : x }
    }
    struct LeakyRelu: ElementFunction {
        let alpha: Float
        @inline(__always) func callAsFunction(_ x: Float) -> Float { x < 0 ? alpha * x : x }
    }
    struct Gelu: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Float) -> Float { VectorMath.gelu(x) }
    }
    struct GeluTanh: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Float) -> Float { VectorMath.geluTanh(x) }
    }
    struct HardSigmoid: ElementFunction {
        let alpha: Float, beta: Float
        @inline(__always) func callAsFunction(_ x: Float) -> Float { unitClamp(alpha * x + beta) }
    }
    /// x·max(0, min(1, x/6 + 1/2)), with onnxruntime's rounding of 1/6.
    struct HardSwish: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Float) -> Float { x * unitClamp(x * (1 / 6 as Float) + 0.5) }
    }
    /// NaN passes through; `high` wins when `low > high` (numpy's clip).
    struct Clip: ElementFunction {
        let low: Float, high: Float
        @inline(__always) func callAsFunction(_ x: Float) -> Float {
            let raised = x < low ? low : x
            return raised > high ? high : raised
        }
    }

    struct Scale: ElementFunction {
        let factor: Float
        @inline(__always) func callAsFunction(_ x: Float) -> Float { x * factor }
    }
    struct WrappingNegate: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Int64) -> Int64 { 0 &- x }
    }
    struct WrappingMagnitude: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Int64) -> Int64 { x < 0 ? 0 &- x : x }
    }
    struct IntegerRelu: ElementFunction {
        @inline(__always) func callAsFunction(_ x: Int64) -> Int64 { x < 0 ? 0 : x }
    }
    /// Logical not of a bool stored as byte 0/1.
    struct Not: ElementFunction {
        @inline(__always) func callAsFunction(_ x: UInt8) -> UInt8 { x == 0 ? 1 : 0 }
    }

    /// max(0, min(1, v)), letting NaN through.
    @inline(__always)
    static func unitClamp(_ v: Float) -> Float { v < 0 ? 0 : (v > 1 ? 1 : v) }
}

extension UnaryFunction {
    /// Whether the function costs tens of operations per element (so smaller blocks are worth
    /// handing to a thread).
    var isTranscendental: Bool {
        switch self {
        case .exp, .log, .sigmoid, .tanh, .erf, .gelu, .geluTanh: true
        default: false
        }
    }
}
