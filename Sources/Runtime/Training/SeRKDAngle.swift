/// RKD's angle loss on token sets (METHOD §5.2) from Gram matrices: smooth-L1 between the student's
/// and teacher's cos∠(x_j, x_i, x_k) over all B·N³ triplets, with the vertex at the anchor i.
///
/// With G = X·Xᵀ of an image's centred tokens, ⟨x_j − x_i, x_k − x_i⟩ = G_jk − G_ij − G_ik + G_ii and
/// ‖x_j − x_i‖² = G_ii + G_jj − 2G_ij, so no B·N²·D difference tensor and no B·N³ angle tensor ever
/// exists: the kernels walk the triplets anchor by anchor, holding two rows per anchor. Triplets
/// with j = i or k = i are 0 (F.normalize maps the zero vector to 0), masked by index, and so are
/// those whose x_j or x_k coincides with x_i up to the Gram form's rounding (see AnchorRows).
///
/// Work is split into items of `chunk` anchors of one image. The backward pass sums each item's
/// contributions to dG_jk in float, then adds them into a Double dG per image; dX = (dG + dGᵀ)·Xc.
///
/// Workspace: the Gram matrices of all images (2·B·N² floats), a Double loss per anchor row (forward)
/// or a Double dG per image (backward), and per slot the centred tokens of one image and a few N×N
/// matrices — O(B·N² + slots·N·(N + D)), never B·N²·D or B·N³.
enum RKDAngle {
    /// The loss.
    static func loss(_ g: RelationGeometry, student: UnsafePointer<Float>, teacher: UnsafePointer<Float>,
                     workspace: UnsafeMutableRawPointer) -> Float {
        let scratch = AngleScratch(g, backward: false)
        scratch.computeGrams(g, student: student, teacher: teacher, workspace: workspace)
        let rows = workspace.region(scratch.lossRows, as: Double.self)
        let n = g.count
        forEachSlot(g.slots, items: g.batch * g.blocks) { slot, items in
            let anchor = scratch.anchorRows(slot, in: workspace)
            for item in items {
                let (b, block) = item.quotientAndRemainder(dividingBy: g.blocks)
                let grams = scratch.grams(image: b, in: workspace)
                for i in (block * g.chunk)..<min((block + 1) * g.chunk, n) {
                    anchor.fill(anchor: i, student: grams.student, teacher: grams.teacher, count: n)
                    var sum = 0.0
                    for j in 0..<n where j != i {
                        sum += rowLoss(anchor, i: i, j: j, student: grams.student, teacher: grams.teacher, count: n)
                    }
                    rows[b * n + i] = sum
                }
            }
        }
        var total = 0.0
        for row in 0..<(g.batch * n) { total += rows[row] }
        return Float(total / (Double(g.batch) * Double(n) * Double(n) * Double(n)))
    }

    /// dS_s = upstream · dL/dS_s.
    ///
    /// With g = dL/dcos, w_ijk = g·inv_ij·inv_ik and inv = 1/‖x_j − x_i‖, each anchor i adds w_i·· to
    /// dG (the G_jk term), −2Σ_k w_ijk to dG_ij and Σ_jk w_ijk to dG_ii (the G_ij, G_ik, G_ii terms,
    /// symmetric in j and k), and through its norms dsq_ij = −inv_ij²·Σ_k g·cos to dG_ii, dG_jj and −2× to dG_ij.
    static func gradient(_ g: RelationGeometry, student: UnsafePointer<Float>, teacher: UnsafePointer<Float>, upstream: Float,
                         into dx: UnsafeMutablePointer<Float>, workspace: UnsafeMutableRawPointer) {
        let scratch = AngleScratch(g, backward: true)
        scratch.computeGrams(g, student: student, teacher: teacher, workspace: workspace)
        let n = g.count, blocks = g.blocks
        let dG = workspace.region(scratch.gramGradients, as: Double.self)
        let scale = Float(Double(upstream) / (Double(g.batch) * Double(n) * Double(n) * Double(n)))
        let share = { (slot: Int) in (g.batch * blocks * slot / g.slots)..<(g.batch * blocks * (slot + 1) / g.slots) }

        // Each image's dG is owned by the slot that holds its first anchor block; a slot whose share
        // starts inside an image sums that image into its own edge matrix, added in slot order below.
        forEachSlot(g.slots, items: g.batch * blocks) { slot, items in
            let anchor = scratch.anchorRows(slot, in: workspace)
            let partial = scratch.blockSums(slot, in: workspace)
            let edge = scratch.edge(slot, in: workspace)
            for item in items {
                let (b, block) = item.quotientAndRemainder(dividingBy: blocks)
                let owned = b * blocks >= items.lowerBound
                let target = owned ? dG + b * n * n : edge
                if owned ? block == 0 : item == items.lowerBound { target.initialize(repeating: 0, count: n * n) }
                partial.initialize(repeating: 0, count: n * n)
                let grams = scratch.grams(image: b, in: workspace)
                for i in (block * g.chunk)..<min((block + 1) * g.chunk, n) {
                    anchor.fill(anchor: i, student: grams.student, teacher: grams.teacher, count: n)
                    for j in 0..<n where j != i {
                        let (rowSum, cosineSum) = rowGradient(anchor, i: i, j: j, scale: scale, student: grams.student,
                                                              teacher: grams.teacher, count: n, into: partial + j * n)
                        let inverse = Double(anchor.studentInverse[j])
                        let dSquared = -inverse * inverse * cosineSum
                        target[i * n + j] -= 2 * (rowSum + dSquared)
                        target[i * n + i] += rowSum + dSquared
                        target[j * n + j] += dSquared
                    }
                }
                for index in 0..<(n * n) { target[index] += Double(partial[index]) }
            }
        }
        for slot in 1..<max(g.slots, 1) {
            let items = share(slot)
            guard !items.isEmpty, items.lowerBound % blocks != 0 else { continue }
            let b = items.lowerBound / blocks, edge = scratch.edge(slot, in: workspace)
            for index in 0..<(n * n) { dG[b * n * n + index] += edge[index] }
        }

        forEachSlot(scratch.imageSlots, items: g.batch) { slot, images in
            let buffers = scratch.imageBuffers(slot, in: workspace)
            for b in images {
                let image = dG + b * n * n
                for i in 0..<n {
                    for j in 0..<n { buffers.symmetric[i * n + j] = Float(image[i * n + j] + image[j * n + i]) }
                }
                TokenGram.gradient(symmetric: buffers.symmetric, tokens: student + b * n * g.studentWidth, count: n,
                                   width: g.studentWidth, centred: buffers.centred, mean: buffers.mean,
                                   into: dx + b * n * g.studentWidth)
            }
        }
    }

    /// Σ_k smooth-L1(cos_s − cos_t) over the triplets (i, j, ·) of one image.
    @inline(__always)
    private static func rowLoss(_ anchor: AnchorRows, i: Int, j: Int, student gs: UnsafePointer<Float>, teacher gt: UnsafePointer<Float>,
                                count n: Int) -> Double {
        let sj = anchor.studentInverse[j], tj = anchor.teacherInverse[j]
        let bs = gs[i * n + j], bt = gt[i * n + j]
        let rowS = gs + j * n, rowT = gt + j * n
        let (sjs, tjs, bss, bts) = (SIMD8(repeating: sj), SIMD8(repeating: tj), SIMD8(repeating: bs), SIMD8(repeating: bt))
        var sums = SIMD8<Float>()
        var k = 0
        while k + 8 <= n {
            let cs = sjs * load(anchor.studentInverse + k) * (load(rowS + k) + load(anchor.studentOffset + k) - bss)
            let ct = tjs * load(anchor.teacherInverse + k) * (load(rowT + k) + load(anchor.teacherOffset + k) - bts)
            sums += Huber.loss(cs - ct)
            k += 8
        }
        var total = Double(sums.sum())
        while k < n {
            let cs = sj * anchor.studentInverse[k] * (rowS[k] + anchor.studentOffset[k] - bs)
            let ct = tj * anchor.teacherInverse[k] * (rowT[k] + anchor.teacherOffset[k] - bt)
            total += Huber.loss(Double(cs - ct))
            k += 1
        }
        return total
    }

    /// For the triplets (i, j, ·): adds w_ijk into `partial` (row j of the item's dG_jk sums) and
    /// returns Σ_k w_ijk and Σ_k g_ijk·cos_ijk.
    @inline(__always)
    private static func rowGradient(_ anchor: AnchorRows, i: Int, j: Int, scale: Float, student gs: UnsafePointer<Float>,
                                    teacher gt: UnsafePointer<Float>, count n: Int,
                                    into partial: UnsafeMutablePointer<Float>) -> (Double, Double) {
        let sj = anchor.studentInverse[j], tj = anchor.teacherInverse[j]
        let bs = gs[i * n + j], bt = gt[i * n + j]
        let rowS = gs + j * n, rowT = gt + j * n
        let (sjs, tjs, bss, bts) = (SIMD8(repeating: sj), SIMD8(repeating: tj), SIMD8(repeating: bs), SIMD8(repeating: bt))
        let weight = SIMD8(repeating: scale * sj)
        var weights = SIMD8<Float>(), products = SIMD8<Float>()
        var k = 0
        while k + 8 <= n {
            let inverse = load(anchor.studentInverse + k)
            let cs = sjs * inverse * (load(rowS + k) + load(anchor.studentOffset + k) - bss)
            let ct = tjs * load(anchor.teacherInverse + k) * (load(rowT + k) + load(anchor.teacherOffset + k) - bts)
            let d = Huber.derivative(cs - ct)
            let w = weight * d * inverse
            store(load(partial + k) + w, partial + k)
            weights += w
            products += d * cs
            k += 8
        }
        var rowSum = Double(weights.sum()), cosineSum = Double(scale) * Double(products.sum())
        while k < n {
            let inverse = anchor.studentInverse[k]
            let cs = sj * inverse * (rowS[k] + anchor.studentOffset[k] - bs)
            let ct = tj * anchor.teacherInverse[k] * (rowT[k] + anchor.teacherOffset[k] - bt)
            let d = scale * Float(Huber.derivative(Double(cs - ct)))
            let w = d * sj * inverse
            partial[k] += w
            rowSum += Double(w)
            cosineSum += Double(d * cs)
            k += 1
        }
        return (rowSum, cosineSum)
    }

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self) }

    @inline(__always)
    private static func load(_ p: UnsafeMutablePointer<Float>) -> SIMD8<Float> { load(UnsafePointer(p)) }

    @inline(__always)
    private static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }
}

/// What the triplets of one anchor i need from row i of the Gram matrices, for student and teacher:
/// inv_ik = 1/‖x_k − x_i‖ (0 at k = i) and the offset G_ii − G_ik, so that
/// cos(i, j, k) = inv_ij·inv_ik·(G_jk + offset_k − G_ij).
struct AnchorRows {
    let studentInverse: UnsafeMutablePointer<Float>
    let studentOffset: UnsafeMutablePointer<Float>
    let teacherInverse: UnsafeMutablePointer<Float>
    let teacherOffset: UnsafeMutablePointer<Float>

    /// ‖x_k − x_i‖² at most this share of ‖x_i‖² + ‖x_k‖² (centred tokens) is float32 rounding noise
    /// of the Gram form: about √D·ε for D up to 768, with a margin.
    static let coincidence = 1e-5

    /// Fills the rows for anchor `i` of an image's Gram matrices.
    func fill(anchor i: Int, student gs: UnsafePointer<Float>, teacher gt: UnsafePointer<Float>, count n: Int) {
        Self.fill(anchor: i, gram: gs, count: n, inverse: studentInverse, offset: studentOffset)
        Self.fill(anchor: i, gram: gt, count: n, inverse: teacherInverse, offset: teacherOffset)
    }

    private static func fill(anchor i: Int, gram: UnsafePointer<Float>, count n: Int, inverse: UnsafeMutablePointer<Float>,
                             offset: UnsafeMutablePointer<Float>) {
        let diagonal = Double(gram[i * n + i])
        for k in 0..<n {
            let squared = TokenGram.squaredDistance(gram, count: n, i, k)
            // Coincident tokens (the flat background of an image gives many identical superpixel tokens)
            // have x_k − x_i = 0, which F.normalize maps to 0. From float32 Gram entries that difference
            // comes out as rounding noise of the size of ε·(G_ii + G_kk), sometimes exactly 0; dividing by
            // it gave cosines of 1e15. Below the noise the direction is unknowable, so it counts as 0 too.
            let noise = Self.coincidence * (diagonal + Double(gram[k * n + k]))
            inverse[k] = k == i || squared <= noise ? 0 : Float(1 / max(squared.squareRoot(), 1e-12))
            offset[k] = Float(diagonal - Double(gram[i * n + k]))
        }
    }
}

/// Workspace of the angle kernels.
struct AngleScratch {
    let studentGrams: Int, teacherGrams: Int
    /// Forward: the loss of each anchor row (B·N Doubles). Backward: dG of each image (B·N² Doubles).
    let lossRows: Int, gramGradients: Int
    let slotStride: Int, slotBase: Int
    let bytes: Int
    let imageSlots: Int
    /// Offsets inside one slot.
    let anchor: Int, centred: Int, mean: Int, partial: Int, edge: Int, symmetric: Int
    let count: Int

    init(_ g: RelationGeometry, backward: Bool) {
        count = g.count
        imageSlots = min(g.slots, g.batch)
        let n = g.count
        var layout = ScratchLayout()
        studentGrams = layout.reserve(Float.self, g.batch * n * n)
        teacherGrams = layout.reserve(Float.self, g.batch * n * n)
        lossRows = backward ? 0 : layout.reserve(Double.self, g.batch * n)
        gramGradients = backward ? layout.reserve(Double.self, g.batch * n * n) : 0
        var slot = ScratchLayout()
        let width = max(g.studentWidth, g.teacherWidth)
        anchor = slot.reserve(Float.self, 4 * n)
        centred = slot.reserve(Float.self, n * width)
        mean = slot.reserve(Float.self, width)
        partial = backward ? slot.reserve(Float.self, n * n) : 0
        edge = backward ? slot.reserve(Double.self, n * n) : 0
        symmetric = backward ? slot.reserve(Float.self, n * n) : 0
        slotStride = slot.bytes
        slotBase = layout.bytes
        bytes = layout.bytes + g.slots * slotStride
    }

    private func base(_ slot: Int, _ workspace: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        workspace + slotBase + slot * slotStride
    }

    func anchorRows(_ slot: Int, in workspace: UnsafeMutableRawPointer) -> AnchorRows {
        let rows = base(slot, workspace).region(anchor, as: Float.self)
        return AnchorRows(studentInverse: rows, studentOffset: rows + count, teacherInverse: rows + 2 * count, teacherOffset: rows + 3 * count)
    }

    func blockSums(_ slot: Int, in workspace: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Float> {
        base(slot, workspace).region(partial, as: Float.self)
    }

    func edge(_ slot: Int, in workspace: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Double> {
        base(slot, workspace).region(edge, as: Double.self)
    }

    func imageBuffers(_ slot: Int, in workspace: UnsafeMutableRawPointer)
        -> (centred: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, symmetric: UnsafeMutablePointer<Float>) {
        let slotBase = base(slot, workspace)
        return (slotBase.region(centred, as: Float.self), slotBase.region(mean, as: Float.self), slotBase.region(symmetric, as: Float.self))
    }

    func grams(image b: Int, in workspace: UnsafeMutableRawPointer) -> (student: UnsafePointer<Float>, teacher: UnsafePointer<Float>) {
        (UnsafePointer(workspace.region(studentGrams, as: Float.self) + b * count * count),
         UnsafePointer(workspace.region(teacherGrams, as: Float.self) + b * count * count))
    }

    /// Gram matrices of every student and teacher image.
    func computeGrams(_ g: RelationGeometry, student: UnsafePointer<Float>, teacher: UnsafePointer<Float>, workspace: UnsafeMutableRawPointer) {
        let n = g.count
        forEachSlot(imageSlots, items: g.batch) { slot, images in
            let buffers = self.imageBuffers(slot, in: workspace)
            for b in images {
                TokenGram.gram(student + b * n * g.studentWidth, count: n, width: g.studentWidth, centred: buffers.centred,
                               mean: buffers.mean, into: workspace.region(self.studentGrams, as: Float.self) + b * n * n)
                TokenGram.gram(teacher + b * n * g.teacherWidth, count: n, width: g.teacherWidth, centred: buffers.centred,
                               mean: buffers.mean, into: workspace.region(self.teacherGrams, as: Float.self) + b * n * n)
            }
        }
    }
}
