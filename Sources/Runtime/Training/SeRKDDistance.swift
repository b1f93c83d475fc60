/// RKD's distance loss on token sets (METHOD §5): smooth-L1 between the student's and the teacher's
/// pairwise-distance matrices, each divided by μ, its mean off-diagonal distance (per image, or over
/// the batch), averaged over all B·N² entries.
///
/// Distances follow RKD's pdist: √max(‖x_i − x_j‖², 1e-12) off the diagonal, 0 on it. They come from
/// the Gram matrices of the centred tokens; per-pair arithmetic and all sums are in Double.
enum RKDDistance {
    /// Distance i–j of an image from its Gram matrix.
    @inline(__always)
    static func distance(_ gram: UnsafePointer<Float>, count: Int, _ i: Int, _ j: Int) -> Double {
        i == j ? 0 : max(TokenGram.squaredDistance(gram, count: count, i, j), 1e-12).squareRoot()
    }

    /// μ of each image, written into `scales` (B Doubles), given each image's distance sum in `sums`.
    static func scales(_ g: RelationGeometry, perImageMean: Bool, sums: UnsafePointer<Double>, into scales: UnsafeMutablePointer<Double>) {
        let pairs = Double(g.count * (g.count - 1))
        var total = 0.0
        for b in 0..<g.batch { total += sums[b] }
        for b in 0..<g.batch { scales[b] = perImageMean ? sums[b] / pairs : total / (pairs * Double(g.batch)) }
    }

    /// Per image: the sums of its student and teacher distances, then μ_s and μ_t. Returns the Gram
    /// matrices and a Double region laid out as [sums_s, sums_t, μ_s, μ_t] (B each).
    private static func prepare(_ g: RelationGeometry, _ scratch: RelationScratch, perImageMean: Bool, student: UnsafePointer<Float>,
                                teacher: UnsafePointer<Float>, workspace: UnsafeMutableRawPointer)
        -> (student: UnsafePointer<Float>, teacher: UnsafePointer<Float>, doubles: UnsafeMutablePointer<Double>) {
        scratch.computeGrams(g, student: student, teacher: teacher, workspace: workspace)
        let gs = workspace.region(scratch.studentGrams, as: Float.self), gt = workspace.region(scratch.teacherGrams, as: Float.self)
        let doubles = workspace.region(scratch.sums, as: Double.self)
        let n = g.count
        Parallel.forEach(g.batch) { images in
            for b in images {
                var ss = 0.0, st = 0.0
                for i in 0..<n {
                    for j in 0..<n where j != i {
                        ss += distance(gs + b * n * n, count: n, i, j)
                        st += distance(gt + b * n * n, count: n, i, j)
                    }
                }
                doubles[b] = ss
                doubles[g.batch + b] = st
            }
        }
        scales(g, perImageMean: perImageMean, sums: doubles, into: doubles + 2 * g.batch)
        scales(g, perImageMean: perImageMean, sums: doubles + g.batch, into: doubles + 3 * g.batch)
        return (UnsafePointer(gs), UnsafePointer(gt), doubles)
    }

    /// The loss.
    static func loss(_ g: RelationGeometry, perImageMean: Bool, student: UnsafePointer<Float>, teacher: UnsafePointer<Float>,
                     workspace: UnsafeMutableRawPointer) -> Float {
        let scratch = RelationScratch(g, backward: false)
        let (gs, gt, doubles) = prepare(g, scratch, perImageMean: perImageMean, student: student, teacher: teacher, workspace: workspace)
        let n = g.count
        let us = doubles + 2 * g.batch, ut = doubles + 3 * g.batch
        // The per-image losses overwrite the student sums, which are no longer needed.
        Parallel.forEach(g.batch) { images in
            for b in images {
                var sum = 0.0
                for i in 0..<n {
                    for j in 0..<n where j != i {
                        sum += Huber.loss(distance(gs + b * n * n, count: n, i, j) / us[b] - distance(gt + b * n * n, count: n, i, j) / ut[b])
                    }
                }
                doubles[b] = sum
            }
        }
        var total = 0.0
        for b in 0..<g.batch { total += doubles[b] }
        return Float(total / Double(g.batch * n * n))
    }

    /// dS_s = upstream · dL/dS_s.
    ///
    /// With ψ = d/μ and g = dL/dψ, a distance's gradient is g/μ − Σ(g·d)/(μ²·P) over its μ group of P
    /// pairs; through d = √(G_ii + G_jj − 2G_ij) it becomes the symmetric matrix M = dG + dGᵀ =
    /// 4·(diag(Σ_j w_ij) − w) with w_ij = dL/dd_ij / (2d_ij), and dX = M·Xc.
    static func gradient(_ g: RelationGeometry, perImageMean: Bool, student: UnsafePointer<Float>, teacher: UnsafePointer<Float>,
                         upstream: Float, into dx: UnsafeMutablePointer<Float>, workspace: UnsafeMutableRawPointer) {
        let scratch = RelationScratch(g, backward: true)
        let (gs, gt, doubles) = prepare(g, scratch, perImageMean: perImageMean, student: student, teacher: teacher, workspace: workspace)
        let n = g.count
        let us = doubles + 2 * g.batch, ut = doubles + 3 * g.batch
        let scale = Double(upstream) / Double(g.batch * n * n)
        @inline(__always) func dPsi(_ b: Int, _ i: Int, _ j: Int) -> Double {
            scale * Huber.derivative(distance(gs + b * n * n, count: n, i, j) / us[b] - distance(gt + b * n * n, count: n, i, j) / ut[b])
        }
        // Σ g·d per image, into the student sums' place.
        Parallel.forEach(g.batch) { images in
            for b in images {
                var sum = 0.0
                for i in 0..<n {
                    for j in 0..<n where j != i { sum += dPsi(b, i, j) * distance(gs + b * n * n, count: n, i, j) }
                }
                doubles[b] = sum
            }
        }
        var groupPairs = Double(n * (n - 1))
        if !perImageMean {
            var total = 0.0
            for b in 0..<g.batch { total += doubles[b] }
            for b in 0..<g.batch { doubles[b] = total }
            groupPairs *= Double(g.batch)
        }
        forEachSlot(scratch.imageSlots, items: g.batch) { slot, images in
            let buffers = scratch.slot(slot, in: workspace)
            let m = buffers.matrix
            for b in images {
                let gram = gs + b * n * n
                let correction = doubles[b] / (us[b] * us[b] * groupPairs)
                for i in 0..<n {
                    var diagonal = 0.0
                    for j in 0..<n where j != i {
                        let squared = TokenGram.squaredDistance(gram, count: n, i, j)
                        var w = 0.0
                        if squared > 1e-12 {
                            w = (dPsi(b, i, j) / us[b] - correction) / (2 * squared.squareRoot())
                        }
                        m[i * n + j] = Float(-4 * w)
                        diagonal += w
                    }
                    m[i * n + i] = Float(4 * diagonal)
                }
                TokenGram.gradient(symmetric: m, tokens: student + b * n * g.studentWidth, count: n, width: g.studentWidth,
                                   centred: buffers.centred, mean: buffers.mean, into: dx + b * n * g.studentWidth)
            }
        }
    }
}
