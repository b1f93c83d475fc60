import GraphIR

// Gradient rules of the SeRKD ops. The teacher's tokens get no gradient: RKD runs its teacher branch
// under no_grad, and the teacher is frozen anyway. Superpixel tokens pass their gradient back
// through the final weighted average only, the association held constant, as STViT does.
extension Autodiff {
    /// The gradient rule of a SeRKD op.
    static func seRKDRule(for op: SeRKDOp) -> GradientRule? {
        switch op {
        case .superpixelTokens:
            // dX = Q̂·dS. A gradient reaching Q̂ itself is dropped: the association is a constant.
            return GradientRule(keeping: [.output(1): [0]]) { b in
                guard b.needs(0), let dS = b.outputGradients[0] else { return [nil] }
                return [try b.apply1(.matMul(MatMul()), [b.output(1), dS], "tokens")]
            }
        case .rkdDistance(let perImageMean):
            return relationRule(.rkdDistanceBackward(perImageMean: perImageMean))
        case .rkdAngle(let chunk):
            return relationRule(.rkdAngleBackward(chunk: chunk))
        case .rkdDistanceBackward, .rkdAngleBackward:
            return nil
        }
    }

    /// dS_s = backward(S_s, S_t, dL); nothing for the teacher.
    private static func relationRule(_ backward: Op) -> GradientRule {
        GradientRule(keeping: [.input(0): [0], .input(1): [0]]) { b in
            guard b.needs(0) else { return [nil, nil] }
            return [try b.apply1(backward, [b.input(0), b.input(1), b.outputGradient], "student"), nil]
        }
    }
}
