import Tensor

extension Elementwise {
    /// dX[i] = dY[i]·f′(X[i]) for `count` float32 elements, with PyTorch's conventions where f′ is
    /// undefined or piecewise: relu′(0) = 0, abs′(0) = 0, leaky relu takes the negative slope at 0,
    /// hardSwish′ is 0 below −3, x/3 + ½ up to 3 and 1 above, clip passes the gradient on
    /// [min, max] inclusive, hardSigmoid only strictly inside its linear part.
    public static func unaryBackward(_ function: UnaryFunction, input x: UnsafePointer<Float>,
                                     outputGradient dy: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>,
                                     count: Int) {
        Parallel.forEach(count, grain: function.isTranscendental ? grain / 8 : grain) { range in
            let (x, dy, dx, n) = (x + range.lowerBound, dy + range.lowerBound, dx + range.lowerBound, range.count)
            switch function {
            case .neg: chain(x, dy, dx, n, Derivative.Negate())
            case .abs: chain(x, dy, dx, n, Derivative.Magnitude())
            case .exp: chain(x, dy, dx, n, Derivative.Exp())
            case .log: chain(x, dy, dx, n, Derivative.Log())
            case .sqrt: chain(x, dy, dx, n, Derivative.SquareRoot())
            case .reciprocal: chain(x, dy, dx, n, Derivative.Reciprocal())
            case .sigmoid: chain(x, dy, dx, n, Derivative.Sigmoid())
            case .tanh: chain(x, dy, dx, n, Derivative.Tanh())
            case .erf: chain(x, dy, dx, n, Derivative.Erf())
            case .relu: chain(x, dy, dx, n, Derivative.Relu())
            case .leakyRelu(let alpha): chain(x, dy, dx, n, Derivative.LeakyRelu(alpha: alpha))
            case .gelu: chain(x, dy, dx, n, Derivative.Gelu())
            case .geluTanh: chain(x, dy, dx, n, Derivative.GeluTanh())
            case .hardSigmoid(let alpha, let beta): chain(x, dy, dx, n, Derivative.HardSigmoid(alpha: alpha, beta: beta))
            case .hardSwish: chain(x, dy, dx, n, Derivative.HardSwish())
            case .clip(let low, let high): chain(x, dy, dx, n, Derivative.Clip(low: low, high: high))
            }
        }
    }

    /// dx[i] = f(x[i], dy[i]) as one loop with `f` inlined, so it vectorises.
    @inline(__always)
    static func chain<F: DerivativeFunction>(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                             _ dx: UnsafeMutablePointer<Float>, _ n: Int, _ f: F) {
        for i in 0..<n { dx[i] = f(x[i], dy[i]) }
    }
}

/// The chain rule through one elementwise function: the input gradient from the input and the
/// output gradient.
protocol DerivativeFunction {
    func callAsFunction(_ x: Float, _ dy: Float) -> Float
}

/// The derivatives of the `UnaryFunction`s as `DerivativeFunction` types, branch-free where the
/// loop should vectorise.
enum Derivative {
    struct Negate: DerivativeFunction {
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float { -dy }
    }
    /// sign(x)·dy, 0 at 0.
    struct Magnitude: DerivativeFunction {
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float { x > 0 ? dy : (x < 0 ? -dy : 0) }
    }
    struct Exp: DerivativeFunction {
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float { dy * VectorMath.exp(x) }
    }
    struct Log: DerivativeFunction {
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float { dy / x }
    }
    struct SquareRoot: DerivativeFunction {
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float { dy / (2 * x.squareRoot()) }
    }
    /// −dy/x², as −dy·r·r with r = 1/x so that x² cannot overflow before the division.
    struct Reciprocal: DerivativeFunction {
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float {
            let r = 1 / x
            return -dy * r * r
        }
    }
    /// σ(x)·σ(−x), both from e^−|x| so neither tail cancels.
    struct Sigmoid: DerivativeFunction {
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float {
            let e = VectorMath.exp(-VectorMath.magnitude(x))
            let inverse = 1 / (1 + e)
            return dy * (e * inverse) * inverse
        }
    }
    struct Tanh: DerivativeFunction {
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float {
            let t = VectorMath.tanh(x)
            return dy * (1 - t * t)
        }
    }
    /// 2/√π·e^−x².
    struct Erf: DerivativeFunction {
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float {
            dy * (1.128_379_2 * VectorMath.exp(-x * x))
        }
    }
    struct Relu: DerivativeFunction {
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float { x > 0 ? dy : 0 }
    }
    struct LeakyRelu: DerivativeFunction {
        let alpha: Float
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float { x > 0 ? dy : dy * alpha }
    }
    /// Φ(x) + x·φ(x), with Φ taken from erf's two halves as in `VectorMath.gelu` so that the left
    /// tail does not cancel.
    struct Gelu: DerivativeFunction {
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float {
            let a = VectorMath.magnitude(x * 0.707_106_78)
            let (small, complement) = VectorMath.erfParts(a)
            let twiceCDF: Float
            if x < 0 {
                twiceCDF = a > 0.875 ? (a >= 3.92 ? 0 : complement) : 1 - small
            } else {
                twiceCDF = a > 0.875 ? 2 - complement : 1 + small
            }
            let density = 0.398_942_3 * VectorMath.exp(-0.5 * x * x)
            return dy * (0.5 * twiceCDF + x * density)
        }
    }
    /// The derivative of 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³), written with
    /// s = σ(2u) = (1 + tanh u)/2 and 1 − tanh²u = 4·s·(1 − s): s + 2x·s·(1 − s)·u′, where s and
    /// 1 − s both come from e^−|2u| so neither cancels.
    struct GeluTanh: DerivativeFunction {
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float {
            let x2 = x * x
            let u = 0.797_884_56 * (x + 0.044_715 * x2 * x)
            let slope = 0.797_884_56 * (1 + 0.134_145 * x2)
            let e = VectorMath.exp(-2 * VectorMath.magnitude(u))
            let inverse = 1 / (1 + e)
            let (s, complement) = u >= 0 ? (inverse, e * inverse) : (e * inverse, inverse)
            return dy * (s + 2 * x * s * complement * slope)
        }
    }
    /// alpha where 0 < alpha·x + beta < 1, else 0.
    struct HardSigmoid: DerivativeFunction {
        let alpha: Float, beta: Float
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float {
            let v = alpha * x + beta
            return v > 0 && v < 1 ? dy * alpha : 0
        }
    }
    struct HardSwish: DerivativeFunction {
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float {
            x < -3 ? 0 : (x <= 3 ? dy * (x / 3 + 0.5) : dy)
        }
    }
    struct Clip: DerivativeFunction {
        let low: Float, high: Float
        @inline(__always) func callAsFunction(_ x: Float, _ dy: Float) -> Float { x >= low && x <= high ? dy : 0 }
    }
}
