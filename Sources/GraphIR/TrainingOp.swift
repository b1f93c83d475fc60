import Tensor

/// The operations of a training step that are not core-op compositions. Created by autodiff and the
/// distillation step, never by import; never exported. Grouped as the runtime groups their kernels.
public enum TrainingOp: Hashable, Sendable {
    /// A gradient of a core op, or a training-mode forward whose saved outputs a gradient reads.
    case gradient(GradientOp)
    /// A SeRKD operator: superpixel tokens and the relation losses over them.
    case seRKD(SeRKDOp)
    /// A loss computed as one op for accuracy.
    case loss(LossOp)
    /// An optimizer update; its outputs overwrite the corresponding inputs in place (`Op.inPlaceOutputs`).
    case optimizer(OptimizerOp)
    /// Communication between the ranks of a data-parallel job.
    case collective(CollectiveOp)
}

/// Gradients of the core ops that are not themselves core-op compositions, and the training-mode
/// forwards (batch statistics, dropout) that produce what those gradients read.
public enum GradientOp: Hashable, Sendable {
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
}

/// The SeRKD operators (METHOD §3–§4).
public enum SeRKDOp: Hashable, Sendable {
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
}

/// Losses computed as one op with double accumulation.
public enum LossOp: Hashable, Sendable {
    /// Student logits, teacher logits [B, C] → T²·KL(softmax(t/T) ‖ softmax(s/T)), summed over classes
    /// and averaged over the batch (Hinton's KD, PyTorch's `batchmean`). One op with double
    /// accumulation: early in training the two distributions are close and a float32 sum of
    /// p·(log p − log q) keeps only a few digits.
    case distillationKL(temperature: Float)
    /// s, t, dL → dS of `distillationKL`: dL·T·(softmax(s/T) − softmax(t/T))/B. The teacher gets none.
    case distillationKLBackward(temperature: Float)
}

/// Optimizer updates: param, grad and state in; param and state out, written over the inputs.
public enum OptimizerOp: Hashable, Sendable {
    /// param, grad, m, v, learning rate (f32 scalar), step t ≥ 1 (f32 scalar) → param, m, v after one
    /// AdamW step (decoupled weight decay, bias-corrected moments).
    case adamW(beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float)
    /// param, grad, velocity, learning rate (f32 scalar) → param, velocity after one SGD step with
    /// momentum (PyTorch's form: v = μv + g + λp; p −= lr·(nesterov ? g + λp + μv : v)).
    case sgd(momentum: Float, nesterov: Bool, weightDecay: Float)
}
