// Pieces shared by the RKD distance and angle kernels: both losses depend on an image's tokens only
// through their Gram matrix G = X·Xᵀ, and both gradients come back through dX = (dG + dGᵀ)·X.

/// Gram matrices of centred tokens, and gradients through them.
///
/// The losses do not change when every token of an image moves by the same vector, so the kernels
/// centre the tokens first: G then holds inner products of vectors of the tokens' own spread, and the
/// differences of Gram entries the losses take (‖x_i − x_j‖² = G_ii + G_jj − 2G_ij) do not cancel the
/// tokens' common offset away in float32.
enum TokenGram {
    /// Writes X − mean(X) of one image's `count` × `width` tokens into `centred`; `mean` is `width` floats of scratch.
    static func centre(_ x: UnsafePointer<Float>, count: Int, width: Int, into centred: UnsafeMutablePointer<Float>,
                       mean: UnsafeMutablePointer<Float>) {
        mean.initialize(repeating: 0, count: width)
        for i in 0..<count {
            let row = x + i * width
            for c in 0..<width { mean[c] += row[c] }
        }
        let scale = 1 / Float(count)
        for c in 0..<width { mean[c] *= scale }
        for i in 0..<count {
            let row = x + i * width, out = centred + i * width
            for c in 0..<width { out[c] = row[c] - mean[c] }
        }
    }

    /// G = Xc·Xcᵀ (`count` × `count`) of one image, with Xc its centred tokens left in `centred`.
    static func gram(_ x: UnsafePointer<Float>, count: Int, width: Int, centred: UnsafeMutablePointer<Float>,
                     mean: UnsafeMutablePointer<Float>, into gram: UnsafeMutablePointer<Float>) {
        centre(x, count: count, width: width, into: centred, mean: mean)
        Gemm.sgemm(transposeA: false, transposeB: true, m: count, n: count, k: width, alpha: 1, centred, centred, beta: 0, gram)
    }

    /// dX = M·Xc for one image, where M = dG + dGᵀ (`count` × `count`, float) and Xc its centred tokens
    /// (computed here into `centred`). Translation invariance makes dL/dX = dL/dXc.
    static func gradient(symmetric m: UnsafePointer<Float>, tokens x: UnsafePointer<Float>, count: Int, width: Int,
                         centred: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, into dx: UnsafeMutablePointer<Float>) {
        centre(x, count: count, width: width, into: centred, mean: mean)
        Gemm.sgemm(transposeA: false, transposeB: false, m: count, n: width, k: count, alpha: 1, m, centred, beta: 0, dx)
    }

    /// ‖x_i − x_j‖² from a Gram matrix with `count` columns.
    @inline(__always)
    static func squaredDistance(_ gram: UnsafePointer<Float>, count: Int, _ i: Int, _ j: Int) -> Double {
        Double(gram[i * count + i]) + Double(gram[j * count + j]) - 2 * Double(gram[i * count + j])
    }
}

/// PyTorch's smooth-L1 loss with β = 1, elementwise on float vectors.
///
/// Written with sign-bit masks and `replacing(with:where:)`: the generic `pointwiseMin`/`pointwiseMax`
/// are not inlined for SIMD8<Float> and cost eight times as much in these loops.
enum Huber {
    /// ½r² where |r| < 1, else |r| − ½, written as c·(|r| − ½c) with c = min(|r|, 1).
    @inline(__always)
    static func loss(_ r: SIMD8<Float>) -> SIMD8<Float> {
        let magnitude = bits(bits(r) & 0x7FFF_FFFF)
        let c = magnitude.replacing(with: 1, where: magnitude .> 1)
        return c * (magnitude - 0.5 * c)
    }

    /// The derivative: r clamped to [−1, 1], i.e. min(|r|, 1) with r's sign.
    @inline(__always)
    static func derivative(_ r: SIMD8<Float>) -> SIMD8<Float> {
        let magnitude = bits(bits(r) & 0x7FFF_FFFF)
        let c = magnitude.replacing(with: 1, where: magnitude .> 1)
        return bits(bits(c) | (bits(r) & 0x8000_0000))
    }

    @inline(__always)
    private static func bits(_ v: SIMD8<Float>) -> SIMD8<UInt32> { unsafeBitCast(v, to: SIMD8<UInt32>.self) }

    @inline(__always)
    private static func bits(_ v: SIMD8<UInt32>) -> SIMD8<Float> { unsafeBitCast(v, to: SIMD8<Float>.self) }

    /// The loss of one residual.
    @inline(__always)
    static func loss(_ r: Double) -> Double { abs(r) < 1 ? 0.5 * r * r : abs(r) - 0.5 }

    /// The derivative at one residual.
    @inline(__always)
    static func derivative(_ r: Double) -> Double { min(max(r, -1), 1) }
}

/// Workspace of the distance kernels: the Gram matrices of every image, per-image sums, and per slot
/// the centred tokens of one image and one N×N matrix.
struct RelationScratch {
    let studentGrams: Int, teacherGrams: Int
    /// Per image: Σ d_s, Σ d_t, Σ dL/dψ·d_s, loss (Double).
    let sums: Int
    let slotStride: Int
    let slotBase: Int
    let bytes: Int
    /// Offsets inside one slot.
    let centred: Int, mean: Int, matrix: Int
    let imageSlots: Int

    init(_ g: RelationGeometry, backward: Bool) {
        imageSlots = min(g.slots, g.batch)
        var layout = ScratchLayout()
        studentGrams = layout.reserve(Float.self, g.batch * g.count * g.count)
        teacherGrams = layout.reserve(Float.self, g.batch * g.count * g.count)
        sums = layout.reserve(Double.self, 4 * g.batch)
        var slot = ScratchLayout()
        let width = max(g.studentWidth, g.teacherWidth)
        centred = slot.reserve(Float.self, g.count * width)
        mean = slot.reserve(Float.self, width)
        matrix = backward ? slot.reserve(Float.self, g.count * g.count) : 0
        slotStride = slot.bytes
        slotBase = layout.bytes
        bytes = layout.bytes + imageSlots * slotStride
    }

    /// Scratch of one slot: centred tokens, the mean, an N×N matrix.
    func slot(_ index: Int, in workspace: UnsafeMutableRawPointer)
        -> (centred: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, matrix: UnsafeMutablePointer<Float>) {
        let base = workspace + slotBase + index * slotStride
        return (base.region(centred, as: Float.self), base.region(mean, as: Float.self), base.region(matrix, as: Float.self))
    }

    /// Gram matrices of every student and teacher image, computed on `imageSlots` workers.
    func computeGrams(_ g: RelationGeometry, student: UnsafePointer<Float>, teacher: UnsafePointer<Float>,
                      workspace: UnsafeMutableRawPointer) {
        let grams = (workspace.region(studentGrams, as: Float.self), workspace.region(teacherGrams, as: Float.self))
        let n = g.count
        forEachSlot(imageSlots, items: g.batch) { slot, images in
            let scratch = self.slot(slot, in: workspace)
            for b in images {
                TokenGram.gram(student + b * n * g.studentWidth, count: n, width: g.studentWidth, centred: scratch.centred,
                               mean: scratch.mean, into: grams.0 + b * n * n)
                TokenGram.gram(teacher + b * n * g.teacherWidth, count: n, width: g.teacherWidth, centred: scratch.centred,
                               mean: scratch.mean, into: grams.1 + b * n * n)
            }
        }
    }
}
