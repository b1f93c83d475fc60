import Tensor

/// The core operations every serkd stage understands.
///
/// ONNX's ~190 operators lower to this small set at import (Gemm becomes `matMul` plus `binary`,
/// Flatten/Squeeze/Unsqueeze become `reshape`, shape arithmetic folds away), so the compiler, the
/// gradient rules and the runtime each handle a few dozen cases. Attributes are resolved: axes are
/// non-negative, reshape targets and slice bounds are concrete for the graph's static shapes.
public enum Op: Hashable, Sendable {
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

/// Transposition flags of a matrix product (the transposes cost nothing in GEMM).
public struct MatMul: Hashable, Sendable {
    /// Use Aᵀ (the last two axes of A swapped).
    public var transposeA: Bool
    /// Use Bᵀ.
    public var transposeB: Bool

    public init(transposeA: Bool = false, transposeB: Bool = false) {
        self.transposeA = transposeA
        self.transposeB = transposeB
    }
}

/// Geometry of a 2-D convolution.
public struct Convolution: Hashable, Sendable {
    /// [strideH, strideW]
    public var strides: [Int]
    /// [top, left, bottom, right]
    public var pads: [Int]
    /// [dilationH, dilationW]
    public var dilations: [Int]
    /// Number of channel groups (C and M are both divisible by it).
    public var groups: Int

    public init(strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0], dilations: [Int] = [1, 1], groups: Int = 1) {
        self.strides = strides
        self.pads = pads
        self.dilations = dilations
        self.groups = groups
    }
}

/// Geometry of a 2-D pooling window.
public struct Pooling: Hashable, Sendable {
    /// [kH, kW]
    public var kernel: [Int]
    /// [strideH, strideW]
    public var strides: [Int]
    /// [top, left, bottom, right]
    public var pads: [Int]
    /// [dilationH, dilationW]
    public var dilations: [Int]
    /// Round the output extent up instead of down.
    public var ceilMode: Bool
    /// Average pooling only: divide by the full window, padding included.
    public var countIncludePad: Bool

    public init(kernel: [Int], strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0], dilations: [Int] = [1, 1],
                ceilMode: Bool = false, countIncludePad: Bool = false) {
        self.kernel = kernel
        self.strides = strides
        self.pads = pads
        self.dilations = dilations
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
    }
}

/// A resolved strided window: one entry per input axis.
public struct Slice: Hashable, Sendable {
    /// First index taken on each axis.
    public var starts: [Int]
    /// Exclusive bound on each axis (may be -1 for a negative step reaching index 0).
    public var ends: [Int]
    /// Step on each axis (never 0).
    public var steps: [Int]

    public init(starts: [Int], ends: [Int], steps: [Int]) {
        self.starts = starts
        self.ends = ends
        self.steps = steps
    }

    /// Number of indices taken on each axis.
    public var extents: [Int] {
        zip(zip(starts, ends), steps).map { bounds, step in
            let (start, end) = bounds
            return step > 0 ? max(0, (end - start + step - 1) / step) : max(0, (start - end - step - 1) / -step)
        }
    }
}
