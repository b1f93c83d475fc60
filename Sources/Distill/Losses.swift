import GraphIR

/// The logit and feature terms of SeRKD's objective (METHOD §1.1, §7, §8), as graph builders.
extension Graph {
    /// A float32 scalar constant.
    mutating func scalar(_ value: Float, name: String) -> ValueID {
        addConstant(name, Tensor(scalar: value))
    }

    /// Mean over the batch of −Σ_c targets·log softmax(logits): timm's SoftTargetCrossEntropy, which
    /// is plain cross-entropy for one-hot targets and covers label smoothing, Mixup and CutMix.
    public mutating func softCrossEntropy(logits: ValueID, targets: ValueID, name: String) throws -> ValueID {
        guard type(of: logits) == type(of: targets), type(of: logits).shape.rank == 2 else {
            throw InvalidInput("loss '\(name)'", "logits \(type(of: logits)) and targets \(type(of: targets)) must both be [B, classes]")
        }
        let logProbabilities = try apply1(.logSoftmax(axis: 1), [logits], name: "\(name).log_softmax")
        let weighted = try apply1(.binary(.mul), [logProbabilities, targets], name: "\(name).weighted")
        let perSample = try apply1(.reduce(.sum, axes: [1], keepDims: false), [weighted], name: "\(name).per_sample")
        let mean = try apply1(.reduce(.mean, axes: [0], keepDims: false), [perSample], name: "\(name).mean")
        return try apply1(.unary(.neg), [mean], name: name)
    }

    /// Hinton's distillation loss T²·KL(softmax(z_T/T) ‖ softmax(z_S/T)), summed over classes and
    /// averaged over the batch (PyTorch's `batchmean`). The teacher side carries no gradient.
    public mutating func distillationLoss(student: ValueID, teacher: ValueID, temperature: Float, name: String) throws -> ValueID {
        guard type(of: student) == type(of: teacher), type(of: student).shape.rank == 2 else {
            throw InvalidInput("loss '\(name)'", "student logits \(type(of: student)) and teacher logits \(type(of: teacher)) must both be [B, classes] with the same classes")
        }
        guard temperature > 0, temperature.isFinite else { throw InvalidInput("loss '\(name)'", "temperature must be positive, got \(temperature)") }
        return try apply1(.distillationKL(temperature: temperature), [student, teacher], name: name)
    }

    /// FitNet's hint loss: mean squared error between the student's tokens projected to the
    /// teacher's width, W·x + b (a learned `Linear(Ds → Dt)`, weight stored [Dt, Ds] as PyTorch does),
    /// and the teacher's tokens. Returns the loss and the projection's parameters.
    public mutating func featureLoss(student: ValueID, teacher: ValueID, projection: (weight: Tensor, bias: Tensor),
                                     name: String) throws -> (loss: ValueID, weight: ValueID, bias: ValueID) {
        let s = type(of: student).shape, t = type(of: teacher).shape
        guard s.rank == 3, t.rank == 3, s[0] == t[0], s[1] == t[1] else {
            throw InvalidInput("loss '\(name)'", "student tokens \(s) and teacher tokens \(t) must be [B, N, D] with the same B and N")
        }
        guard projection.weight.shape == [t[2], s[2]], projection.bias.shape == [t[2]] else {
            throw InvalidInput("loss '\(name)'", "projection must be [\(t[2]), \(s[2])] with bias [\(t[2])], got \(projection.weight.shape) and \(projection.bias.shape)")
        }
        let weight = addParameter("\(name).projection.weight", projection.weight)
        let bias = addParameter("\(name).projection.bias", projection.bias)
        let projected = try apply1(.matMul(MatMul(transposeB: true)), [student, weight], name: "\(name).projection")
        let shifted = try apply1(.binary(.add), [projected, bias], name: "\(name).projection_bias")
        let difference = try apply1(.binary(.sub), [shifted, teacher], name: "\(name).difference")
        let squared = try apply1(.binary(.mul), [difference, difference], name: "\(name).squared")
        let loss = try apply1(.reduce(.mean, axes: [0, 1, 2], keepDims: false), [squared], name: name)
        return (loss, weight, bias)
    }

    /// Σ weight·term over the terms, as one scalar value named `name`.
    public mutating func weightedSum(_ terms: [(value: ValueID, weight: Float)], name: String) throws -> ValueID {
        precondition(!terms.isEmpty, "a sum needs at least one term")
        var total: ValueID?
        for (index, term) in terms.enumerated() {
            let scaled = term.weight == 1 ? term.value
                : try apply1(.binary(.mul), [term.value, scalar(term.weight, name: "\(name).weight\(index)")], name: "\(name).term\(index)")
            total = try total.map { try apply1(.binary(.add), [$0, scaled], name: index == terms.count - 1 ? name : "\(name).partial\(index)") } ?? scaled
        }
        if terms.count == 1 { return try apply1(.identity, [total!], name: name) }
        return total!
    }
}
