import GraphIR

/// The relation terms γ·L_D + δ·L_A of SeRKD's objective (METHOD §1.1, §5.2).
public struct RelationLoss: Hashable, Sendable {
    /// γ, the weight of the RKD distance loss L_D; 0 leaves the term out.
    public var distanceWeight: Float
    /// δ, the weight of the RKD angle loss L_A; 0 leaves the term out.
    public var angleWeight: Float
    /// Normalise distances by each image's own mean distance (true) or by the batch's (RKD's code).
    public var perImageMean: Bool
    /// Anchor rows per work item of the angle kernels: a scheduling grain, not a semantic choice.
    public var angleChunk: Int

    /// SeRKD's defaults: γ = 0.5, δ = 1.0, per-image μ.
    public init(distanceWeight: Float = 0.5, angleWeight: Float = 1.0, perImageMean: Bool = true, angleChunk: Int = 8) {
        self.distanceWeight = distanceWeight
        self.angleWeight = angleWeight
        self.perImageMean = perImageMean
        self.angleChunk = angleChunk
    }
}

/// The scalar values a relation-loss builder added; a term with weight 0 is absent.
public struct RelationLossTerms: Hashable, Sendable {
    /// L_D, unweighted.
    public var distance: ValueID?
    /// L_A, unweighted.
    public var angle: ValueID?
    /// γ·L_D + δ·L_A, or nil when both weights are 0.
    public var total: ValueID?
}

extension Graph {
    /// Adds γ·L_D + δ·L_A between student and teacher tokens, [B, N, Ds] and [B, N, Dt] (the widths
    /// may differ). The teacher side receives no gradient.
    ///
    /// `name` prefixes the new nodes and names the loss in errors. Throws `InvalidInput` for negative
    /// or non-finite weights, a chunk below 1, token sets of different B or N, or fewer than 2 tokens.
    public mutating func relationLoss(student: ValueID, teacher: ValueID, _ loss: RelationLoss, name: String) throws -> RelationLossTerms {
        let subject = "relation loss '\(name)'"
        for (label, weight) in [("distance", loss.distanceWeight), ("angle", loss.angleWeight)] where !(weight.isFinite && weight >= 0) {
            throw InvalidInput(subject, "\(label) weight must be finite and ≥ 0, got \(weight)")
        }
        guard loss.angleChunk >= 1 else { throw InvalidInput(subject, "angle chunk must be ≥ 1, got \(loss.angleChunk)") }
        let s = type(of: student), t = type(of: teacher)
        guard s.shape.rank == 3, t.shape.rank == 3, s.shape[0] == t.shape[0], s.shape[1] == t.shape[1] else {
            throw InvalidInput(subject, "student \(s) and teacher \(t) must be tokens [B, N, D] with the same B and N")
        }
        guard s.shape[1] >= 2 else { throw InvalidInput(subject, "needs at least 2 tokens per image, got \(s.shape[1])") }

        var terms = RelationLossTerms()
        var weighted: [ValueID] = []
        func term(_ op: Op, weight: Float, label: String) throws -> ValueID? {
            guard weight > 0 else { return nil }
            let value = try apply1(op, [student, teacher], name: "\(name).\(label)")
            if weight == 1 {
                weighted.append(value)
            } else {
                let factor = addConstant("\(name).\(label)_weight", Tensor(scalar: weight))
                weighted.append(try apply1(.binary(.mul), [value, factor], name: "\(name).\(label)_weighted"))
            }
            return value
        }
        terms.distance = try term(.rkdDistance(perImageMean: loss.perImageMean), weight: loss.distanceWeight, label: "distance")
        terms.angle = try term(.rkdAngle(chunk: loss.angleChunk), weight: loss.angleWeight, label: "angle")
        terms.total = weighted.count == 2 ? try apply1(.binary(.add), weighted, name: name) : weighted.first
        return terms
    }
}
