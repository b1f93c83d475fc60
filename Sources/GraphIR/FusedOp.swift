/// Fusions: created by the compiler's passes on finished graphs, never by import or autodiff. Each
/// states its meaning as the composition of core ops it replaces.
public enum FusedOp: Hashable, Sendable {
    /// A, B[, bias] → activation(op(A)·op(B) + bias): `matMul`, an `add` of a bias running along
    /// each product's columns (n values, shaped [n] or [1, …, n]) or rows (m values, shaped [m, 1]
    /// or [1, …, m, 1]), then a unary function.
    case linear(MatMul, bias: LinearBias, activation: UnaryFunction?)
    /// X, W[, bias] → activation(conv(X, W[, bias])).
    case convActivation(Convolution, activation: UnaryFunction)
    /// Q […, Tq, d], K […, Tk, d] (or […, d, Tk] when `keysTransposed`), V […, Tk, dv] →
    /// softmax(scale·Q·Kᵀ along the last axis)·V […, Tq, dv]; the leading axes of all three agree.
    case attention(scale: Float, keysTransposed: Bool)
    /// x₀…xₙ₋₁ → the program's result, every input broadcast (numpy rules) to the output shape.
    /// All inputs and the result are float32.
    case elementwise(ElementwiseProgram)
}
