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

    // Training: gradients of the ops above that are not themselves core-op compositions
    /// dY, W → dX of `conv` for an input of spatial size `inputSize` ([H, W]).
    case convBackwardData(Convolution, inputSize: [Int])
    /// X, dY → dW of `conv` for a kernel of spatial size `kernelSize` ([kH, kW]).
    case convBackwardWeight(Convolution, kernelSize: [Int])
    /// X, dY → dX of `maxPool` (each window's gradient goes to its first maximum).
    case maxPoolBackward(Pooling)
    /// dY → dX of `averagePool` over an input of spatial size `inputSize`.
    case averagePoolBackward(Pooling, inputSize: [Int])
    /// X, dY → dY·f′(X).
    case unaryBackward(UnaryFunction)
    /// Y, dY → dX of `softmax` from its output: Y·(dY − Σ dY·Y).
    case softmaxBackward(axis: Int)
    /// Y, dY → dX of `logSoftmax` from its output: dY − exp(Y)·Σ dY.
    case logSoftmaxBackward(axis: Int)
    /// X, scale, mean, inverse std, dY → dX, dScale, dBias of `layerNorm` (dScale and dBias shaped
    /// like scale).
    case layerNormBackward(axis: Int)
    /// Training-mode batch normalisation over axis 1. Inputs: X, scale, bias, running mean, running
    /// variance. Outputs: Y, batch mean, batch inverse std, and the updated running mean and variance
    /// (momentum-weighted, unbiased variance as PyTorch), written in place over the running inputs.
    case batchNormTraining(epsilon: Float, momentum: Float)
    /// X, scale, mean, inverse std, dY → dX, dScale, dBias of `batchNormTraining`.
    case batchNormBackward
    /// dY, indices → dData of `gather`: rows added into a zero tensor of `dataShape`.
    case scatterAdd(axis: Int, dataShape: Shape)
    /// dY → dX of `slice`: dY placed into a zero tensor of `inputShape`.
    case sliceBackward(Slice, inputShape: Shape)
    /// X, step (i64 scalar) → Y, mask. Zeroes elements (or, with `perSample`, whole samples along axis
    /// 0: drop path) with probability `ratio` and scales the rest by 1/(1−ratio); the mask holds 0 or
    /// 1/(1−ratio) and is shaped like X (or [B, 1, …]). The pattern depends only on (seed, step,
    /// element), so a resumed run draws the same masks.
    case dropout(ratio: Float, seed: Int, perSample: Bool)

    // SeRKD
    /// X [B, H·W, D] → S [B, (H/g)·(W/g), D], Q̂ [B, H·W, (H/g)·(W/g)]: superpixel tokens (METHOD §3).
    /// S⁰ is the g×g average pool of X; each of `iterations` steps associates every token with the 3×3
    /// neighbouring super tokens (softmax of ⟨x, s⟩/√D) and re-estimates S = Q̂ᵀX with column-normalised
    /// Q̂. Q̂ is an output so the gradient dX = Q̂·dS treats the association as a constant (STViT).
    /// With `iterations` 0 the result is the average pool and Q̂ its pooling matrix.
    case superpixelTokens(SuperpixelClustering)
    /// S_s [B, N, Ds], S_t [B, N, Dt] → RKD distance loss (scalar): smooth-L1 between the pairwise
    /// distance matrices, each divided by its mean positive distance (per image, or per batch).
    case rkdDistance(perImageMean: Bool)
    /// S_s, S_t, dL (scalar) → dS_s of `rkdDistance`.
    case rkdDistanceBackward(perImageMean: Bool)
    /// S_s [B, N, Ds], S_t [B, N, Dt] → RKD angle loss (scalar): smooth-L1 between the cosines of all
    /// angles ∠(j, i, k), computed from Gram matrices one anchor block of `chunk` rows at a time so no
    /// B·N²·D tensor exists.
    case rkdAngle(chunk: Int)
    /// S_s, S_t, dL (scalar) → dS_s of `rkdAngle`.
    case rkdAngleBackward(chunk: Int)

    // Losses computed as one op for accuracy
    /// Student logits, teacher logits [B, C] → T²·KL(softmax(t/T) ‖ softmax(s/T)), summed over classes
    /// and averaged over the batch (Hinton's KD, PyTorch's `batchmean`). One op with double
    /// accumulation: early in training the two distributions are close and a float32 sum of
    /// p·(log p − log q) keeps only a few digits.
    case distillationKL(temperature: Float)
    /// s, t, dL → dS of `distillationKL`: dL·T·(softmax(s/T) − softmax(t/T))/B. The teacher gets none.
    case distillationKLBackward(temperature: Float)

    // Optimizers: outputs overwrite the corresponding inputs in place (`inPlaceOutputs`)
    /// param, grad, m, v, learning rate (f32 scalar), step t ≥ 1 (f32 scalar) → param, m, v after one
    /// AdamW step (decoupled weight decay, bias-corrected moments).
    case adamW(beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float)
    /// param, grad, velocity, learning rate (f32 scalar) → param, velocity after one SGD step with
    /// momentum (PyTorch's form: v = μv + g + λp; p −= lr·(nesterov ? g + λp + μv : v)).
    case sgd(momentum: Float, nesterov: Bool, weightDecay: Float)

    // Fusions: created by the compiler's passes on finished graphs, never by import or autodiff.
    // Each states its meaning as the composition of core ops it replaces.
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

/// Where a fused linear op's bias runs.
public enum LinearBias: String, Hashable, Sendable, Codable, CaseIterable {
    /// No bias input.
    case none
    /// One value per row of each product (length m).
    case row
    /// One value per column of each product (length n): a linear layer's bias.
    case column
}

/// How border super tokens treat neighbours outside the grid (METHOD §3.3).
public enum SuperpixelBorder: String, Hashable, Sendable, CaseIterable {
    /// STViT: missing neighbours are zero vectors whose logit 0 stays in the softmax denominator.
    case stvit
    /// SSN: missing neighbours are excluded from the softmax.
    case mask
}

/// Settings of the superpixel-token clustering.
public struct SuperpixelClustering: Hashable, Sendable {
    /// Token grid height and width (H·W tokens).
    public var height: Int
    public var width: Int
    /// Super-token cell size g: each super token starts as the mean of a g×g cell.
    public var grid: Int
    /// Association/update iterations (0: plain average pooling).
    public var iterations: Int
    public var border: SuperpixelBorder

    public init(height: Int, width: Int, grid: Int = 2, iterations: Int = 1, border: SuperpixelBorder = .stvit) {
        self.height = height
        self.width = width
        self.grid = grid
        self.iterations = iterations
        self.border = border
    }

    /// Number of super tokens.
    public var superTokenCount: Int { (height / grid) * (width / grid) }
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
