import CDNNL
import Tensor

/// Scaled dot-product attention with both products on oneDNN's batched matmul, a chunk of
/// (batch, head) pairs at a time: scores = scale·Q·Kᵀ for the chunk into the workspace, softmax of
/// each row, then scores·V.
///
/// `FusedAttention` gives each thread one pair and OpenBLAS's single-threaded sgemm; on AVX-512 oneDNN's
/// kernels are twice as wide. The chunk is the number of pairs `FusedAttention`'s workspace holds
/// (one score matrix per thread), so the plan's memory is unchanged and scores are never materialised
/// for more pairs than threads.
final class DNNLAttention {
    private struct Products {
        /// scale·Q·Kᵀ, and the probabilities times V.
        let scoring: OneDNN.Primitive, weighting: OneDNN.Primitive
        let q: OneDNN.Memory, k: OneDNN.Memory, s: OneDNN.Memory, v: OneDNN.Memory, o: OneDNN.Memory

        init(_ context: OneDNN.Context, _ g: FusedAttention.Geometry, pairs: Int) throws {
            let abc = Int32(SERKD_DNNL_TAG_ABC)
            let qd = try OneDNN.MemoryDescriptor([pairs, g.queries, g.depth], tag: abc)
            // Kᵀ as a [pairs, d, Tk] matrix: K stored [Tk, d] per pair is that matrix with its last two axes swapped.
            let kd = try OneDNN.MemoryDescriptor([pairs, g.depth, g.keys], tag: g.keysTransposed ? abc : Int32(SERKD_DNNL_TAG_ACB))
            let sd = try OneDNN.MemoryDescriptor([pairs, g.queries, g.keys], tag: abc)
            let vd = try OneDNN.MemoryDescriptor([pairs, g.keys, g.valueDepth], tag: abc)
            let od = try OneDNN.MemoryDescriptor([pairs, g.queries, g.valueDepth], tag: abc)
            func matmul(_ a: OneDNN.MemoryDescriptor, _ b: OneDNN.MemoryDescriptor, _ c: OneDNN.MemoryDescriptor,
                        _ attributes: OneDNN.Attributes?) throws -> OneDNN.Primitive {
                try OneDNN.Primitive(OneDNN.PrimitiveDescriptor(context, attributes: attributes) { op in
                    var (ar, br, cr) = (a.raw, b.raw, c.raw)
                    return serkd_dnnl_matmul_desc_init(&op, &ar, &br, nil, &cr)
                })
            }
            scoring = try matmul(qd, kd, sd, OneDNN.Attributes(eltwise: [(Int32(SERKD_DNNL_ELTWISE_LINEAR), g.scale, 0)]))
            weighting = try matmul(sd, vd, od, nil)
            (q, k, s, v, o) = (try .init(context, qd), try .init(context, kd), try .init(context, sd), try .init(context, vd), try .init(context, od))
        }
    }

    let geometry: FusedAttention.Geometry
    private let context: OneDNN.Context
    private let full: Products, last: Products?

    /// Prepares `geometry` on oneDNN; nil when oneDNN is not loaded or declines.
    init?(_ geometry: FusedAttention.Geometry) {
        guard let context = OneDNN.context, geometry.count > 0, geometry.queries > 0, geometry.keys > 0 else { return nil }
        let chunk = geometry.slots, rest = geometry.count % geometry.slots
        guard let full = try? Products(context, geometry, pairs: chunk) else { return nil }
        let last = rest > 0 ? try? Products(context, geometry, pairs: rest) : nil
        guard rest == 0 || last != nil else { return nil }
        (self.geometry, self.context, self.full, self.last) = (geometry, context, full, last)
    }

    /// Computes attention for every pair into `output`; `workspace` holds `geometry.workspaceBytes`.
    func run(queries: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
             output: UnsafeMutablePointer<Float>, workspace: UnsafeMutableRawPointer) throws {
        let g = geometry
        let scores = workspace.assumingMemoryBound(to: Float.self)
        let (src, wei, dst) = (Int32(SERKD_DNNL_ARG_SRC), Int32(SERKD_DNNL_ARG_WEIGHTS), Int32(SERKD_DNNL_ARG_DST))
        var first = 0
        while first < g.count {
            let pairs = min(g.slots, g.count - first)
            let p = pairs == g.slots ? full : last!
            try p.q.bind(queries + first * g.queries * g.depth)
            try p.k.bind(keys + first * g.keys * g.depth)
            try p.s.bind(UnsafeRawPointer(scores))
            try p.scoring.execute(context, [(src, p.q), (wei, p.k), (dst, p.s)])
            Parallel.forEach(pairs * g.queries, grain: 16) { rows in
                for row in rows { Normalization.softmaxRow(scores + row * g.keys, into: scores + row * g.keys, count: g.keys, logarithm: false) }
            }
            try p.v.bind(values + first * g.keys * g.valueDepth)
            try p.o.bind(UnsafeRawPointer(output + first * g.queries * g.valueDepth))
            try p.weighting.execute(context, [(src, p.s), (wei, p.v), (dst, p.o)])
            first += pairs
        }
    }
}
