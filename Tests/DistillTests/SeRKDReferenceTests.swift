import GraphIR
@testable import Reference
import Tensor
import Testing

/// The float64 references of the SeRKD operators against their own definitions: each gradient
/// against central differences of its loss, the superpixel association against its structure.
@Suite struct SeRKDReferenceTests {
    typealias Batch = Reference.TokenBatch

    static func batch(_ shape: Shape, seed: UInt64, offset: Float = 0) -> Batch {
        Batch(SeRKDCheck.tokens(shape, seed: seed, offset: offset))
    }

    @Test("the distance gradient matches central differences of the loss, μ per image and per batch", arguments: [true, false])
    func distanceGradient(perImageMean: Bool) {
        let student = Self.batch([2, 7, 4], seed: 1), teacher = Self.batch([2, 7, 3], seed: 2)
        let analytic = Reference.rkdDistanceGradient(student: student, teacher: teacher, perImageMean: perImageMean, upstream: 1)
        let numeric = SeRKDCheck.centralDifferences({ Reference.rkdDistanceLoss(student: student.with($0), teacher: teacher, perImageMean: perImageMean) },
                                                    at: student.values, indices: Array(student.values.indices))
        #expect(SeRKDCheck.relativeError(analytic, numeric) < 1e-7)
    }

    @Test("the angle gradient matches central differences of the loss")
    func angleGradient() {
        let student = Self.batch([2, 6, 4], seed: 3), teacher = Self.batch([2, 6, 5], seed: 4)
        let analytic = Reference.rkdAngleGradient(student: student, teacher: teacher, upstream: 1)
        let numeric = SeRKDCheck.centralDifferences({ Reference.rkdAngleLoss(student: student.with($0), teacher: teacher) },
                                                    at: student.values, indices: Array(student.values.indices))
        #expect(SeRKDCheck.relativeError(analytic, numeric) < 1e-7)
    }

    @Test("the gradients scale with the upstream gradient")
    func upstreamScaling() {
        let student = Self.batch([1, 5, 3], seed: 5), teacher = Self.batch([1, 5, 3], seed: 6)
        let angle = Reference.rkdAngleGradient(student: student, teacher: teacher, upstream: 1)
        let angleScaled = Reference.rkdAngleGradient(student: student, teacher: teacher, upstream: -2.5)
        #expect(SeRKDCheck.relativeError(angleScaled, angle.map { -2.5 * $0 }) < 1e-14)
        let distance = Reference.rkdDistanceGradient(student: student, teacher: teacher, perImageMean: true, upstream: 1)
        let distanceScaled = Reference.rkdDistanceGradient(student: student, teacher: teacher, perImageMean: true, upstream: 3)
        #expect(SeRKDCheck.relativeError(distanceScaled, distance.map { 3 * $0 }) < 1e-14)
    }

    @Test("identical relations cost nothing: a scaled, shifted and rotated teacher gives zero loss")
    func invariance() {
        let student = Self.batch([2, 6, 2], seed: 7)
        // Rotate by 30°, scale by 3 and shift every token of an image by the same vector.
        var teacher = student
        for b in 0..<2 {
            for i in 0..<6 {
                let (x, y) = (student.values[student.index(b, i, 0)], student.values[student.index(b, i, 1)])
                teacher.values[teacher.index(b, i, 0)] = 3 * (0.866_025_403_784_438_6 * x - 0.5 * y) + 4
                teacher.values[teacher.index(b, i, 1)] = 3 * (0.5 * x + 0.866_025_403_784_438_6 * y) - 1
            }
        }
        #expect(Reference.rkdAngleLoss(student: student, teacher: teacher) < 1e-28)
        #expect(Reference.rkdDistanceLoss(student: student, teacher: teacher, perImageMean: true) < 1e-28)
    }

    @Test("with no iterations the super tokens are the g×g average pool, and Q̂·dS is the exact gradient over every token")
    func averagePooling() {
        let x = Self.batch([2, 36, 3], seed: 8)
        let clustering = SuperpixelClustering(height: 6, width: 6, grid: 2, iterations: 0)
        let (s, q) = Reference.superpixelTokens(x, clustering)
        for b in 0..<2 {
            for cell in 0..<9 {
                let (cy, cx) = (cell / 3, cell % 3)
                for c in 0..<3 {
                    let pooled = [0, 1, 6, 7].map { x.values[x.index(b, (2 * cy) * 6 + 2 * cx + $0, c)] }.reduce(0, +) / 4
                    #expect(abs(s.values[s.index(b, cell, c)] - pooled) < 1e-15)
                }
            }
        }
        // d/dX Σ S·R against Q̂·R, through every token including the border cells.
        let upstream = Self.batch([2, 9, 3], seed: 9)
        let objective = { (values: [Double]) in
            zip(Reference.superpixelTokens(x.with(values), clustering).tokens.values, upstream.values).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let numeric = SeRKDCheck.centralDifferences(objective, at: x.values, indices: Array(x.values.indices))
        var analytic = [Double](repeating: 0, count: x.values.count)
        for b in 0..<2 {
            for p in 0..<36 {
                for i in 0..<9 {
                    for c in 0..<3 { analytic[x.index(b, p, c)] += q[(b * 36 + p) * 9 + i] * upstream.values[upstream.index(b, i, c)] }
                }
            }
        }
        #expect(SeRKDCheck.relativeError(analytic, numeric) < 1e-9)
    }

    @Test("each column of Q̂ sums to 1 and each token reaches only the 3×3 cells around its own",
          arguments: [SuperpixelBorder.stvit, .mask], [1, 2])
    func associationStructure(border: SuperpixelBorder, iterations: Int) {
        let x = Self.batch([1, 64, 5], seed: 10)
        let clustering = SuperpixelClustering(height: 8, width: 8, grid: 2, iterations: iterations, border: border)
        let q = Reference.superpixelTokens(x, clustering).association
        for i in 0..<16 {
            let column = (0..<64).reduce(0.0) { $0 + q[$1 * 16 + i] }
            #expect(abs(column - 1) < 1e-12)
        }
        for p in 0..<64 {
            let (cy, cx) = ((p / 8) / 2, (p % 8) / 2)
            for i in 0..<16 {
                let near = abs(i / 4 - cy) <= 1 && abs(i % 4 - cx) <= 1
                #expect(near ? q[p * 16 + i] > 0 : q[p * 16 + i] == 0, "token \(p), super token \(i)")
            }
        }
    }

    @Test("the STViT rule keeps missing neighbours in the softmax, so it weighs border tokens differently from the mask rule")
    func borderRules() {
        let x = Self.batch([1, 16, 4], seed: 11, offset: 1)
        func tokens(_ border: SuperpixelBorder) -> [Double] {
            Reference.superpixelTokens(x, SuperpixelClustering(height: 4, width: 4, grid: 2, iterations: 1, border: border)).tokens.values
        }
        // On a 2×2 super-token grid every cell is a border cell: each token misses 5 of its 9 neighbours.
        let difference = zip(tokens(.stvit), tokens(.mask)).map { abs($0 - $1) }.max()!
        #expect(difference > 1e-3)
        // A single super token under the mask rule takes every token with weight 1: the plain mean.
        let single = SuperpixelClustering(height: 4, width: 4, grid: 4, iterations: 1, border: .mask)
        let mean = (0..<4).map { c in (0..<16).reduce(0.0) { $0 + x.values[x.index(0, $1, c)] } / 16 }
        let s = Reference.superpixelTokens(x, single).tokens.values
        #expect(SeRKDCheck.relativeError(s, mean) < 1e-12)
    }
}
