import Foundation
import Tensor

/// Batch-level Mixup (Zhang et al. 2018) and CutMix (Yun et al. 2019) with label smoothing, as
/// timm's `Mixup` in `mode='batch'` applies them: with probability `probability` one λ is drawn for
/// the batch — from Beta(`cutmixAlpha`) for CutMix with probability `switchProbability` (when both
/// alphas are positive), else from Beta(`mixupAlpha`) — and sample *i* is mixed with sample
/// *B − 1 − i*. CutMix pastes one box, side `sqrt(1 − λ)` of the image's, centred uniformly and
/// clipped, and corrects λ to the pasted area (`correct_lam`). Targets become
/// λ·smooth(yᵢ) + (1 − λ)·smooth(y_{B−1−i}) with smooth(y) = one-hot(y)·(1 − ε) + ε/K.
///
/// timm refuses odd batch sizes; here the middle sample of an odd batch is mixed with itself.
public struct Mixup: Sendable, Hashable {
    /// Beta parameter for Mixup's λ; 0 disables Mixup.
    public var mixupAlpha: Double
    /// Beta parameter for CutMix's λ; 0 disables CutMix.
    public var cutmixAlpha: Double
    /// Probability of mixing a batch at all.
    public var probability: Double
    /// Probability of CutMix rather than Mixup when both are enabled.
    public var switchProbability: Double
    /// ε of the label smoothing.
    public var labelSmoothing: Double
    /// Whether CutMix's λ is recomputed from the clipped box's area.
    public var correctLambda: Bool

    /// DeiT's settings by default: Mixup α 0.8, CutMix α 1.0, always mixing, switching with
    /// probability 0.5, label smoothing 0.1.
    public init(mixupAlpha: Double = 0.8, cutmixAlpha: Double = 1.0, probability: Double = 1.0, switchProbability: Double = 0.5,
                labelSmoothing: Double = 0.1, correctLambda: Bool = true) {
        self.mixupAlpha = mixupAlpha
        self.cutmixAlpha = cutmixAlpha
        self.probability = probability
        self.switchProbability = switchProbability
        self.labelSmoothing = labelSmoothing
        self.correctLambda = correctLambda
    }

    /// No mixing, only label smoothing by `labelSmoothing` (0 gives one-hot targets).
    public static func none(labelSmoothing: Double = 0) -> Mixup {
        Mixup(mixupAlpha: 0, cutmixAlpha: 0, labelSmoothing: labelSmoothing)
    }

    /// The region CutMix pasted: rows `top..<bottom`, columns `left..<right`.
    public struct Box: Sendable, Hashable {
        /// Row and column bounds (upper bounds excluded).
        public let top, bottom, left, right: Int
    }

    /// What was done to a batch.
    public struct Outcome: Sendable, Hashable {
        /// The weight of each sample's own image and label (1 when not mixed).
        public let lambda: Double
        /// The pasted box when CutMix was used.
        public let box: Box?
    }

    /// Draws λ and the kind of mixing for a batch of `height × width` images (timm's `_params_per_batch`
    /// followed by `cutmix_bbox_and_lam`).
    public func draw(height: Int, width: Int, using generator: inout Xoshiro256) -> Outcome {
        guard mixupAlpha > 0 || cutmixAlpha > 0, generator.uniform() < probability else { return Outcome(lambda: 1, box: nil) }
        let useCutmix: Bool
        let lambda: Double
        if mixupAlpha > 0, cutmixAlpha > 0 {
            useCutmix = generator.uniform() < switchProbability
            lambda = useCutmix ? generator.beta(cutmixAlpha, cutmixAlpha) : generator.beta(mixupAlpha, mixupAlpha)
        } else if mixupAlpha > 0 {
            useCutmix = false
            lambda = generator.beta(mixupAlpha, mixupAlpha)
        } else {
            useCutmix = true
            lambda = generator.beta(cutmixAlpha, cutmixAlpha)
        }
        guard lambda != 1 else { return Outcome(lambda: 1, box: nil) }
        guard useCutmix else { return Outcome(lambda: lambda, box: nil) }
        let ratio = (1 - lambda).squareRoot()
        let cutH = Int(Double(height) * ratio), cutW = Int(Double(width) * ratio)
        let cy = generator.integer(below: height), cx = generator.integer(below: width)
        let box = Box(top: min(max(cy - cutH / 2, 0), height), bottom: min(max(cy + (cutH + 1) / 2, 0), height),
                      left: min(max(cx - cutW / 2, 0), width), right: min(max(cx + (cutW + 1) / 2, 0), width))
        let corrected = correctLambda
            ? 1 - Double((box.bottom - box.top) * (box.right - box.left)) / Double(height * width)
            : lambda
        return Outcome(lambda: corrected, box: box)
    }

    /// Mixes `images` ([B, C, H, W] float32) in place as `outcome` says and returns the soft targets
    /// [B, classCount] for `labels`.
    public func apply(_ outcome: Outcome, images: Tensor, labels: [Int], classCount: Int) -> Tensor {
        precondition(images.dtype == .float32 && images.shape.rank == 4 && images.shape[0] == labels.count, "mixup needs [B,C,H,W] images and B labels")
        let batch = labels.count, channels = images.shape[1], height = images.shape[2], width = images.shape[3]
        let plane = height * width, sampleSize = channels * plane
        let values = images.rawPointer.assumingMemoryBound(to: Float.self)
        if outcome.box != nil || outcome.lambda != 1 {
            // Partners are read from an unmodified copy, since every sample is also someone's partner.
            let saved = images.copy()
            withExtendedLifetime(saved) {
                let original = saved.rawPointer.assumingMemoryBound(to: Float.self)
                if let box = outcome.box {
                    for i in 0..<batch {
                        let partner = batch - 1 - i
                        for c in 0..<channels {
                            for y in box.top..<box.bottom {
                                let offset = c * plane + y * width + box.left
                                (values + i * sampleSize + offset).update(from: original + partner * sampleSize + offset, count: box.right - box.left)
                            }
                        }
                    }
                } else {
                    let lambda = Float(outcome.lambda), rest = Float(1 - outcome.lambda)
                    for i in 0..<batch {
                        let own = original + i * sampleSize, partner = original + (batch - 1 - i) * sampleSize
                        for j in 0..<sampleSize { values[i * sampleSize + j] = own[j] * lambda + partner[j] * rest }
                    }
                }
            }
        }
        return targets(labels: labels, classCount: classCount, lambda: outcome.lambda)
    }

    /// λ·smooth(yᵢ) + (1 − λ)·smooth(y_{B−1−i}) as float32 [B, classCount] (timm's `mixup_target`).
    public func targets(labels: [Int], classCount: Int, lambda: Double) -> Tensor {
        let batch = labels.count
        let off = Float(labelSmoothing / Double(classCount))
        let on = Float(1 - labelSmoothing) + off
        let tensor = Tensor(zeros: .float32, [batch, classCount])
        let out = tensor.rawPointer.assumingMemoryBound(to: Float.self)
        let l = Float(lambda), rest = Float(1 - lambda)
        for i in 0..<batch {
            let own = labels[i], partner = labels[batch - 1 - i]
            for k in 0..<classCount {
                let y1: Float = k == own ? on : off
                let y2: Float = k == partner ? on : off
                out[i * classCount + k] = y1 * l + y2 * rest
            }
        }
        return tensor
    }
}
