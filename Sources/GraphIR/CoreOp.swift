import Tensor

/// The core operations every serkd stage understands.
///
/// ONNX's ~190 operators lower to this small set at import (Gemm becomes `matMul` plus `binary`,
/// Flatten/Squeeze/Unsqueeze become `reshape`, shape arithmetic folds away), so the compiler, the
/// gradient rules and the runtime each handle a few dozen cases. Attributes are resolved: axes are
/// non-negative, reshape targets and slice bounds are concrete for the graph's static shapes.
public enum CoreOp: Hashable, Sendable {

    // Elementwise
    /// `f(x)` elementwise.
    case unary(UnaryFunction)
    /// `f(a, b)` elementwise with numpy broadcasting; the output has the inputs' dtype.
    case binary(BinaryFunction)
    /// `a ⋚ b` elementwise with numpy broadcasting; the output is bool.
    case compare(Comparison)
    /// Logical not of a bool tensor.
    case logicalNot
    /// `condition ? x : y` with numpy broadcasting over all three inputs.
    case select
    /// Converts elements to another dtype (float→int truncates toward zero).
    case cast(DType)
    /// Passes its input through unchanged (kept only where an output must be a distinct value).
    case identity

    // Linear algebra
    /// Batched matrix product `op(A)·op(B)` over the last two axes; leading axes broadcast (numpy
    /// matmul). Rank-1 operands are not allowed: the importer reshapes them.
    case matMul(MatMul)
    /// 2-D convolution, NCHW. Inputs: X, W [M, C/groups, kH, kW], optional bias [M].
    case conv(Convolution)

    // Pooling and normalisation
    /// 2-D max pooling, NCHW.
    case maxPool(Pooling)
    /// 2-D average pooling, NCHW.
    case averagePool(Pooling)
    /// Mean over all spatial positions: [N, C, H, W] → [N, C, 1, 1].
    case globalAveragePool
    /// Max over all spatial positions: [N, C, H, W] → [N, C, 1, 1].
    case globalMaxPool
    /// Inference-mode batch normalisation over axis 1. Inputs: X, scale, bias, mean, variance.
    case batchNorm(epsilon: Float)
    /// Layer normalisation over the axes from `axis` on. Inputs: X, scale, optional bias.
    /// Outputs: Y, mean and inverse standard deviation (reduced axes kept with extent 1).
    case layerNorm(axis: Int, epsilon: Float)
    /// Softmax along one axis.
    case softmax(axis: Int)
    /// Log-softmax along one axis.
    case logSoftmax(axis: Int)
    /// A reduction over the given axes (sorted, non-empty).
    case reduce(Reduction, axes: [Int], keepDims: Bool)
    /// Index of the largest element along an axis (int64 output).
    case argMax(axis: Int, keepDims: Bool, selectLastIndex: Bool)

    // Data movement
    /// The same elements under a new shape (the full output shape, with no -1 or 0 placeholders).
    case reshape(Shape)
    /// Permutes axes: output axis i is input axis `permutation[i]`.
    case transpose(permutation: [Int])
    /// Strided window, one start/end/step per axis of the input (already clamped; steps may be negative).
    case slice(Slice)
    /// Joins inputs along an axis.
    case concat(axis: Int)
    /// Picks entries along an axis with int64 indices (negative indices count from the end).
    /// Inputs: data, indices. Output shape: data[..<axis] + indices + data[(axis+1)...].
    case gather(axis: Int)
    /// Broadcasts the input to `shape` (numpy rules).
    case expand(Shape)
    /// Pads (or, with negative amounts, crops) each axis. `pads` is all begins, then all ends.
    case pad(pads: [Int], mode: PadMode, value: Float)
    /// Repeats the input `repeats[i]` times along axis i.
    case tile(repeats: [Int])
}
