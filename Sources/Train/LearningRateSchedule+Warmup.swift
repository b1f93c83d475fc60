extension LearningRateSchedule {
    /// The warm-up of a run of `totalSteps`, given as `warmupEpochs` of an `epochs`-epoch schedule
    /// with `stepsPerEpoch`: that many epochs' steps, but never a larger share of a run cut short
    /// (`steps`) than `warmupEpochs / epochs` — otherwise a 100-step try of a config made for 300
    /// epochs would never leave warm-up.
    public static func warmupSteps(epochs warmupEpochs: Double, of epochs: Int, stepsPerEpoch: Int, totalSteps: Int) -> Int {
        let configured = Int(warmupEpochs * Double(stepsPerEpoch))
        let share = Int(Double(totalSteps) * warmupEpochs / Double(max(epochs, 1)))
        return min(configured, share)
    }
}
