// The elementwise functions, comparisons, reductions and padding modes, shared by the IR's ops and
// the runtime's kernels so both name them the same way.

/// Elementwise functions of one argument.
public enum UnaryFunction: Hashable, Sendable, Codable {
    case neg, abs, exp, log, sqrt, reciprocal, sigmoid, tanh, erf
    case relu
    /// max(alpha·x, x) for x < 0.
    case leakyRelu(alpha: Float)
    /// x·Φ(x) with the exact normal CDF (erf form).
    case gelu
    /// GELU's tanh approximation.
    case geluTanh
    /// max(0, min(1, alpha·x + beta)).
    case hardSigmoid(alpha: Float, beta: Float)
    /// x·max(0, min(1, x/6 + 1/2)).
    case hardSwish
    /// min(max(x, min), max).
    case clip(min: Float, max: Float)
}

/// Elementwise functions of two arguments.
public enum BinaryFunction: String, Hashable, Sendable, Codable, CaseIterable {
    case add, sub, mul, div, pow, max, min
}

/// Elementwise comparisons producing bool.
public enum Comparison: String, Hashable, Sendable, Codable, CaseIterable {
    case equal, less, lessOrEqual, greater, greaterOrEqual
}

/// Reductions over axes.
public enum Reduction: String, Hashable, Sendable, Codable, CaseIterable {
    case sum, mean, max, min
}

/// Padding modes.
public enum PadMode: String, Hashable, Sendable, Codable, CaseIterable {
    case constant, reflect, edge
}
