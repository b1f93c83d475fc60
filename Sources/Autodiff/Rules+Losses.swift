import GraphIR

extension Autodiff {
    /// dS = distillationKLBackward(S, T, dL); the teacher's logits get no gradient (KD's teacher
    /// runs under no_grad).
    static func distillationKLRule(temperature: Float) -> GradientRule {
        GradientRule(keeping: [.input(0): [0], .input(1): [0]]) { b in
            guard b.needs(0) else { return [nil, nil] }
            return [try b.apply1(.distillationKLBackward(temperature: temperature), [b.input(0), b.input(1), b.outputGradient], "student"), nil]
        }
    }
}
