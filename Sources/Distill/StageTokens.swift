import GraphIR

/// How a CNN stage's feature map becomes tokens (METHOD §9): non-overlapping s×s windows, each one
/// token of the stage's channel width.
public enum StageTokenizer: String, Hashable, Sendable, CaseIterable {
    /// Mean of each window (parameter-free; SeRKD's best simple tokenizer, 72.22 top-1).
    case avgpool
    /// Max of each window (70.61: worse than no clustering at all).
    case maxpool
    /// A learned s×s convolution with stride s (72.25). The teacher-side convolution is detached:
    /// it stays a fixed random projection, as "teacher gradients are detached" implies.
    case conv
}

extension Graph {
    /// Tokens [B, (H/s)·(W/s), C] of a feature map [B, C, H, W], windows of `stride`. For `conv`,
    /// `weights` are the s×s convolution's weight [C, C, s, s] and bias [C].
    public mutating func stageTokens(_ map: ValueID, stride: Int, tokenizer: StageTokenizer, weights: (ValueID, ValueID)?,
                                     name: String) throws -> ValueID {
        let shape = type(of: map).shape
        guard shape.rank == 4 else { throw InvalidInput("tokenizer '\(name)'", "expects a feature map [B, C, H, W], got \(shape)") }
        guard stride >= 1, shape[2] % stride == 0, shape[3] % stride == 0 else {
            throw InvalidInput("tokenizer '\(name)'", "stride \(stride) does not divide the \(shape[2])×\(shape[3]) map")
        }
        var pooled = map
        switch tokenizer {
        case .avgpool where stride > 1:
            pooled = try apply1(.averagePool(Pooling(kernel: [stride, stride], strides: [stride, stride])), [map], name: "\(name).pool")
        case .maxpool where stride > 1:
            pooled = try apply1(.maxPool(Pooling(kernel: [stride, stride], strides: [stride, stride])), [map], name: "\(name).pool")
        case .conv:
            guard let (weight, bias) = weights else { preconditionFailure("a conv tokenizer needs weights") }
            pooled = try apply1(.conv(Convolution(strides: [stride, stride])), [map, weight, bias], name: "\(name).conv")
        default:
            break
        }
        let out = type(of: pooled).shape
        let flat = try apply1(.reshape([out[0], out[1], out[2] * out[3]]), [pooled], name: "\(name).flatten")
        return try apply1(.transpose(permutation: [0, 2, 1]), [flat], name: name)
    }
}
