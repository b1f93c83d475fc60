import Foundation
import GraphIR

// SeRKD's operators by their defining formulas, in Double: superpixel tokens by the dense form of
// STViT's clustering (METHOD §3.3), the relation losses by RKD's direct pairwise form (METHOD §5).
// The runtime computes the angle loss from Gram matrices instead; these are what it is checked against.
extension Reference {
    /// Token sets of a batch in Double: `values` is [batch, count, width] row-major.
    struct TokenBatch {
        var values: [Double]
        var batch: Int
        var count: Int
        var width: Int

        init(values: [Double], batch: Int, count: Int, width: Int) {
            precondition(values.count == batch * count * width, "\(values.count) values for [\(batch), \(count), \(width)]")
            self.values = values
            self.batch = batch
            self.count = count
            self.width = width
        }

        /// The tokens of a [B, N, D] tensor.
        init(_ tensor: Tensor) {
            self.init(values: tensor.doubles, batch: tensor.shape[0], count: tensor.shape[1], width: tensor.shape[2])
        }

        /// Index of element `d` of token `i` of image `b`.
        func index(_ b: Int, _ i: Int, _ d: Int) -> Int { (b * count + i) * width + d }
    }

    /// Evaluates the SeRKD operators (superpixel tokens, RKD distance and angle losses and their gradients).
    static func seRKD(_ op: SeRKDOp, _ inputs: [Tensor], types: [TensorType]) throws -> [Tensor] {
        func requirePairs(_ tokens: Tensor) throws {
            guard tokens.shape[1] >= 2 else { throw InvalidInput(nil, "relation losses need at least 2 tokens per image, got \(tokens.shape[1])") }
        }
        switch op {
        case .superpixelTokens(let clustering):
            let (tokens, association) = superpixelTokens(TokenBatch(inputs[0]), clustering)
            return [Tensor(doubles: tokens.values, dtype: .float32, shape: types[0].shape),
                    Tensor(doubles: association, dtype: .float32, shape: types[1].shape)]
        case .rkdDistance(let perImageMean):
            try requirePairs(inputs[0])
            let loss = rkdDistanceLoss(student: TokenBatch(inputs[0]), teacher: TokenBatch(inputs[1]), perImageMean: perImageMean)
            return [Tensor(doubles: [loss], dtype: .float32, shape: [])]
        case .rkdDistanceBackward(let perImageMean):
            try requirePairs(inputs[0])
            let gradient = rkdDistanceGradient(student: TokenBatch(inputs[0]), teacher: TokenBatch(inputs[1]),
                                               perImageMean: perImageMean, upstream: inputs[2].doubles[0])
            return [Tensor(doubles: gradient, dtype: .float32, shape: types[0].shape)]
        case .rkdAngle:
            try requirePairs(inputs[0])
            let loss = rkdAngleLoss(student: TokenBatch(inputs[0]), teacher: TokenBatch(inputs[1]))
            return [Tensor(doubles: [loss], dtype: .float32, shape: [])]
        case .rkdAngleBackward:
            try requirePairs(inputs[0])
            let gradient = rkdAngleGradient(student: TokenBatch(inputs[0]), teacher: TokenBatch(inputs[1]), upstream: inputs[2].doubles[0])
            return [Tensor(doubles: gradient, dtype: .float32, shape: types[0].shape)]
        }
    }

    // MARK: Superpixel tokens

    /// Super tokens S [B, M, D] and the column-normalised association Q̂ [B, N, M] of tokens laid out
    /// row-major on the clustering's grid.
    ///
    /// Each token associates with the 3×3 super tokens around its own cell through a softmax of
    /// ⟨x, s⟩/√D. Under the STViT border rule a missing neighbour is a zero vector: its logit 0 stays
    /// in the denominator. Under the mask rule it is left out. With no iterations Q̂ is the g×g
    /// average-pooling matrix.
    static func superpixelTokens(_ x: TokenBatch, _ clustering: SuperpixelClustering) -> (tokens: TokenBatch, association: [Double]) {
        let (height, width, grid) = (clustering.height, clustering.width, clustering.grid)
        let (rows, columns) = (height / grid, width / grid)
        let n = x.count, m = rows * columns, d = x.width
        let cell = (0..<n).map { p in ((p / width) / grid, (p % width) / grid) }
        let neighbours = (0..<n).map { p in
            (0..<m).filter { i in abs(cell[p].0 - i / columns) <= 1 && abs(cell[p].1 - i % columns) <= 1 }
        }
        let poolWeight = 1 / Double(grid * grid)

        var tokens = TokenBatch(values: [Double](repeating: 0, count: x.batch * m * d), batch: x.batch, count: m, width: d)
        var association = [Double](repeating: 0, count: x.batch * n * m)
        for b in 0..<x.batch {
            for p in 0..<n {
                let i = cell[p].0 * columns + cell[p].1
                association[(b * n + p) * m + i] = poolWeight
                for c in 0..<d { tokens.values[tokens.index(b, i, c)] += poolWeight * x.values[x.index(b, p, c)] }
            }
            for _ in 0..<clustering.iterations {
                var q = [Double](repeating: 0, count: n * m)
                for p in 0..<n {
                    let logits = neighbours[p].map { i in
                        (0..<d).reduce(0.0) { $0 + x.values[x.index(b, p, $1)] * tokens.values[tokens.index(b, i, $1)] } / Double(d).squareRoot()
                    }
                    let missing = clustering.border == .stvit ? Double(9 - neighbours[p].count) : 0
                    var largest = logits.max()!
                    if missing > 0 { largest = max(largest, 0) }
                    let weights = logits.map { exp($0 - largest) }
                    let denominator = weights.reduce(0, +) + missing * exp(-largest)
                    for (i, weight) in zip(neighbours[p], weights) { q[p * m + i] = weight / denominator }
                }
                for i in 0..<m {
                    let columnSum = (0..<n).reduce(0.0) { $0 + q[$1 * m + i] }
                    for p in 0..<n { association[(b * n + p) * m + i] = q[p * m + i] / (columnSum + 1e-12) }
                }
                for i in 0..<m {
                    for c in 0..<d {
                        tokens.values[tokens.index(b, i, c)] = (0..<n).reduce(0.0) { $0 + association[(b * n + $1) * m + i] * x.values[x.index(b, $1, c)] }
                    }
                }
            }
        }
        return (tokens, association)
    }

    // MARK: RKD distance

    /// RKD's pdist of each image: ‖x_i − x_j‖ clamped below at √1e-12, with a zero diagonal. [B][N·N]
    static func pairwiseDistances(_ x: TokenBatch) -> [[Double]] {
        (0..<x.batch).map { b in
            var distances = [Double](repeating: 0, count: x.count * x.count)
            for i in 0..<x.count {
                for j in 0..<x.count where j != i {
                    let squared = (0..<x.width).reduce(0.0) { sum, c in
                        let difference = x.values[x.index(b, i, c)] - x.values[x.index(b, j, c)]
                        return sum + difference * difference
                    }
                    distances[i * x.count + j] = max(squared, 1e-12).squareRoot()
                }
            }
            return distances
        }
    }

    /// μ of each image: the mean of its off-diagonal distances, or of the whole batch's.
    static func distanceScales(_ distances: [[Double]], count: Int, perImageMean: Bool) -> [Double] {
        let pairs = Double(count * (count - 1))
        let sums = distances.map { $0.reduce(0, +) }
        if perImageMean { return sums.map { $0 / pairs } }
        let mean = sums.reduce(0, +) / (pairs * Double(distances.count))
        return sums.map { _ in mean }
    }

    /// Smooth-L1 (β = 1) between the student's and teacher's normalised distance matrices, averaged
    /// over all B·N² entries.
    static func rkdDistanceLoss(student: TokenBatch, teacher: TokenBatch, perImageMean: Bool) -> Double {
        let ds = pairwiseDistances(student), dt = pairwiseDistances(teacher)
        let us = distanceScales(ds, count: student.count, perImageMean: perImageMean)
        let ut = distanceScales(dt, count: student.count, perImageMean: perImageMean)
        var sum = 0.0
        for b in 0..<student.batch {
            for (s, t) in zip(ds[b], dt[b]) { sum += smoothL1(s / us[b] - t / ut[b]) }
        }
        return sum / Double(student.batch * student.count * student.count)
    }

    /// dL/dS_s of `rkdDistanceLoss` times `upstream`; the teacher is a constant.
    static func rkdDistanceGradient(student: TokenBatch, teacher: TokenBatch, perImageMean: Bool, upstream: Double) -> [Double] {
        let (batch, n) = (student.batch, student.count)
        let ds = pairwiseDistances(student), dt = pairwiseDistances(teacher)
        let us = distanceScales(ds, count: n, perImageMean: perImageMean)
        let ut = distanceScales(dt, count: n, perImageMean: perImageMean)
        let scale = upstream / Double(batch * n * n)
        // dL/dψ for ψ = d/μ, and Σ dL/dψ·d per μ group (μ depends on every distance of its group).
        var dPsi = ds, weighted = [Double](repeating: 0, count: batch)
        for b in 0..<batch {
            for pair in 0..<(n * n) {
                dPsi[b][pair] = scale * smoothL1Derivative(ds[b][pair] / us[b] - dt[b][pair] / ut[b])
                weighted[b] += dPsi[b][pair] * ds[b][pair]
            }
        }
        var groupPairs = Double(n * (n - 1))
        if !perImageMean {
            let total = weighted.reduce(0, +)
            weighted = weighted.map { _ in total }
            groupPairs *= Double(batch)
        }
        var gradient = [Double](repeating: 0, count: student.values.count)
        for b in 0..<batch {
            for i in 0..<n {
                for j in 0..<n where j != i {
                    let dDistance = dPsi[b][i * n + j] / us[b] - weighted[b] / (us[b] * us[b] * groupPairs)
                    let distance = ds[b][i * n + j]
                    // Below the clamp the distance is a constant.
                    guard distance * distance > 1e-12 else { continue }
                    for c in 0..<student.width {
                        let push = dDistance * (student.values[student.index(b, i, c)] - student.values[student.index(b, j, c)]) / distance
                        gradient[student.index(b, i, c)] += push
                        gradient[student.index(b, j, c)] -= push
                    }
                }
            }
        }
        return gradient
    }

    // MARK: RKD angle

    /// e_ij = (x_j − x_i)/‖x_j − x_i‖ for every ordered pair of image `b`, [N·N·D]; e_ii = 0
    /// (F.normalize's zero vector).
    static func unitDifferences(_ x: TokenBatch, image b: Int) -> [Double] {
        let (n, d) = (x.count, x.width)
        var units = [Double](repeating: 0, count: n * n * d)
        for i in 0..<n {
            for j in 0..<n where j != i {
                let difference = (0..<d).map { x.values[x.index(b, j, $0)] - x.values[x.index(b, i, $0)] }
                let norm = max(difference.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
                for c in 0..<d { units[(i * n + j) * d + c] = difference[c] / norm }
            }
        }
        return units
    }

    /// cos∠(x_j, x_i, x_k) = ⟨e_ij, e_ik⟩ for every triplet of image `b`, [N·N·N]; 0 when j = i or k = i.
    static func angles(_ x: TokenBatch, image b: Int) -> [Double] {
        let (n, d) = (x.count, x.width)
        let units = unitDifferences(x, image: b)
        var cosines = [Double](repeating: 0, count: n * n * n)
        for i in 0..<n {
            for j in 0..<n where j != i {
                for k in 0..<n where k != i {
                    cosines[(i * n + j) * n + k] = (0..<d).reduce(0.0) { $0 + units[(i * n + j) * d + $1] * units[(i * n + k) * d + $1] }
                }
            }
        }
        return cosines
    }

    /// Smooth-L1 (β = 1) between the student's and teacher's angle cosines, averaged over all B·N³ triplets.
    static func rkdAngleLoss(student: TokenBatch, teacher: TokenBatch) -> Double {
        var sum = 0.0
        for b in 0..<student.batch {
            for (s, t) in zip(angles(student, image: b), angles(teacher, image: b)) { sum += smoothL1(s - t) }
        }
        return sum / Double(student.batch * student.count * student.count * student.count)
    }

    /// dL/dS_s of `rkdAngleLoss` times `upstream`; the teacher is a constant.
    static func rkdAngleGradient(student: TokenBatch, teacher: TokenBatch, upstream: Double) -> [Double] {
        let (n, d) = (student.count, student.width)
        let scale = upstream / Double(student.batch * n * n * n)
        var gradient = [Double](repeating: 0, count: student.values.count)
        for b in 0..<student.batch {
            let units = unitDifferences(student, image: b)
            let cs = angles(student, image: b), ct = angles(teacher, image: b)
            for i in 0..<n {
                for j in 0..<n where j != i {
                    // d cos/d e_ij = e_ik, and d e_ij/d(x_j − x_i) = (I − e_ij e_ijᵀ)/‖x_j − x_i‖.
                    var dUnit = [Double](repeating: 0, count: d)
                    for k in 0..<n where k != i {
                        let triplet = (i * n + j) * n + k
                        let g = scale * smoothL1Derivative(cs[triplet] - ct[triplet])
                        for c in 0..<d { dUnit[c] += g * units[(i * n + k) * d + c] }
                    }
                    let e = Array(units[((i * n + j) * d)..<((i * n + j + 1) * d)])
                    let along = zip(dUnit, e).reduce(0.0) { $0 + $1.0 * $1.1 }
                    let difference = (0..<d).map { student.values[student.index(b, j, $0)] - student.values[student.index(b, i, $0)] }
                    let norm = max(difference.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
                    for c in 0..<d {
                        // Both e_ij (as the first ray) and e_ik with k = j (as the second) see this pair;
                        // the cosine is symmetric in j and k, so the second use doubles the first.
                        let push = 2 * (dUnit[c] - along * e[c]) / norm
                        gradient[student.index(b, j, c)] += push
                        gradient[student.index(b, i, c)] -= push
                    }
                }
            }
        }
        return gradient
    }

    // MARK: Huber

    /// PyTorch's smooth-L1 with β = 1: ½r² inside |r| < 1, |r| − ½ outside.
    static func smoothL1(_ r: Double) -> Double { abs(r) < 1 ? 0.5 * r * r : abs(r) - 0.5 }

    /// Its derivative: r clamped to [−1, 1].
    static func smoothL1Derivative(_ r: Double) -> Double { min(max(r, -1), 1) }
}
