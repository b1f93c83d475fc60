import Tensor

/// One kernel call with its geometry resolved: what a plan step computes.
///
/// Operand and result order per case is fixed (documented on each case); the executor maps a step's
/// buffers onto the kernel's pointers in that order.
public enum Kernel: Hashable, Sendable, Codable {
    /// x → f(x), `count` elements of `dtype` (float32, or int64 for neg/abs/relu).
    case unary(UnaryFunction, dtype: DType, count: Int)
    /// a, b → a ∘ b with broadcasting.
    case binary(BinaryFunction, dtype: DType, Broadcast)
    /// a, b → (a ⋚ b) as bool.
    case compare(Comparison, dtype: DType, Broadcast)
    /// condition, x, y → condition ? x : y.
    case select(Broadcast, elementSize: Int)
    /// x → !x on bools.
    case logicalNot(count: Int)
    /// x → x converted to another dtype.
    case cast(from: DType, to: DType, count: Int)
    /// x → strided copy of x (transpose, slice, expand, tile, materialised identity).
    case copy(DataMovement.Copy)
    /// x₁…xₙ → concatenation.
    case concat(DataMovement.Concat)
    /// data, indices → gathered rows. Fails at run time on out-of-range indices.
    case gather(DataMovement.Gather)
    /// x → padded or cropped x.
    case pad(DataMovement.Pad)
    /// A, B[, bias] → op(A)·op(B) (+ epilogue).
    case gemm(Gemm.Geometry)
    /// X, W[, bias] → convolution (+ activation).
    case conv2d(Conv2D.Geometry)
    /// x → max over windows.
    case maxPool(Pool2D.Geometry)
    /// x → mean over windows.
    case averagePool(Pool2D.Geometry)
    /// x → mean of each of `planes` planes of `size` elements.
    case globalAveragePool(planes: Int, size: Int)
    /// x → max of each plane.
    case globalMaxPool(planes: Int, size: Int)
    /// x, scale, bias, mean, variance → inference batch norm along the layout's axis.
    case batchNorm(AxisLayout, epsilon: Float)
    /// x, scale[, bias] → y, mean, inverse std.
    case layerNorm(Normalization.LayerNormGeometry, hasBias: Bool)
    /// x → softmax along the layout's axis.
    case softmax(AxisLayout)
    /// x → log-softmax along the layout's axis.
    case logSoftmax(AxisLayout)
    /// x → reduction over axes.
    case reduce(Reduction, dtype: DType, Reductions.Geometry)
    /// x → int64 index of the maximum along the layout's axis.
    case argMax(AxisLayout, dtype: DType, selectLastIndex: Bool)
    /// Gradients of the forward kernels and training-mode variants (batch norm, dropout).
    case gradient(GradientKernel)
    /// SeRKD's superpixel tokens and relation losses.
    case seRKD(SeRKDKernel)
    /// Parameter updates, in place.
    case optimizer(OptimizerKernel)
    /// Losses computed as one kernel for accuracy.
    case loss(LossKernel)
    /// Q, K, V → softmax(scale·Q·Kᵀ)·V, one (batch, head) pair per thread at a time.
    case attention(FusedAttention.Geometry)
    /// x₁…xₙ → a fused chain of elementwise operations, in one pass.
    case fusedElementwise(FusedElementwise.Geometry)
    /// g₁…gₙ → each gᵢ averaged over the ranks of a data-parallel job (the executor's communicator).
    case allReduce(AllReduceKernel)

    /// Scratch bytes the kernel needs during its call.
    public var workspaceBytes: Int {
        switch self {
        case .conv2d(let geometry): geometry.workspaceBytes
        case .gradient(let kernel): kernel.workspaceBytes
        case .seRKD(let kernel): kernel.workspaceBytes
        case .attention(let geometry): geometry.workspaceBytes
        case .fusedElementwise(let geometry): geometry.workspaceBytes
        case .allReduce(let kernel): kernel.workspaceBytes
        default: 0
        }
    }

    /// A short name for reports ("gemm", "conv2d", …).
    public var name: String {
        switch self {
        case .unary(let f, _, _): "unary.\(f)"
        case .binary(let f, _, _): "binary.\(f.rawValue)"
        case .compare(let c, _, _): "compare.\(c.rawValue)"
        case .select: "select"
        case .logicalNot: "not"
        case .cast: "cast"
        case .copy: "copy"
        case .concat: "concat"
        case .gather: "gather"
        case .pad: "pad"
        case .gemm: "gemm"
        case .conv2d: "conv2d"
        case .maxPool: "maxpool"
        case .averagePool: "avgpool"
        case .globalAveragePool: "global_avgpool"
        case .globalMaxPool: "global_maxpool"
        case .batchNorm: "batchnorm"
        case .layerNorm: "layernorm"
        case .softmax: "softmax"
        case .logSoftmax: "log_softmax"
        case .reduce(let r, _, _): "reduce.\(r.rawValue)"
        case .argMax: "argmax"
        case .gradient(let kernel): kernel.name
        case .seRKD(let kernel): kernel.name
        case .optimizer(let kernel): kernel.name
        case .loss(let kernel): kernel.name
        case .attention: "attention"
        case .fusedElementwise: "fused_elementwise"
        case .allReduce: "allreduce_mean"
        }
    }
}
