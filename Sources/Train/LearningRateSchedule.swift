import Foundation

/// timm's per-step schedule: linear warm-up from `warmupLearningRate` to the peak over the warm-up
/// steps, then cosine decay to `minimumLearningRate` at the last step.
public struct LearningRateSchedule: Sendable {
    public var peak: Double
    public var warmupSteps: Int
    public var warmupLearningRate: Double
    public var minimumLearningRate: Double
    public var totalSteps: Int

    public init(peak: Double, warmupSteps: Int, warmupLearningRate: Double, minimumLearningRate: Double, totalSteps: Int) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.warmupLearningRate = warmupLearningRate
        self.minimumLearningRate = minimumLearningRate
        self.totalSteps = totalSteps
    }

    /// The learning rate of step `step` (0-based).
    public func learningRate(at step: Int) -> Double {
        if step < warmupSteps {
            return warmupLearningRate + (peak - warmupLearningRate) * Double(step) / Double(warmupSteps)
        }
        let decaySteps = max(totalSteps - warmupSteps, 1)
        let progress = min(Double(step - warmupSteps) / Double(decaySteps), 1)
        return minimumLearningRate + 0.5 * (peak - minimumLearningRate) * (1 + cos(Double.pi * progress))
    }
}
