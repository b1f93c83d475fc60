import CDNNL
import Foundation
import Tensor

/// A linear layer, C = A·B (+ bias per column, then the fused activation), through oneDNN's matmul
/// with B frozen: packed once into the layout oneDNN's kernel reads (`format_tag::any`), or read as
/// serkd stores it where a packed copy would cost too much memory (a training step's teacher).
///
/// A and C stay row-major where serkd keeps them, so no activation is reordered; the win is the
/// packed weights (OpenBLAS packs B again on every call), oneDNN's AVX-512 kernels, and the
/// epilogue done while C is in cache.
public final class DNNLMatmul {
    /// The geometry's primitive, shared by every product of that geometry.
    final class Primitives {
        let matmul: OneDNN.Primitive
        let packed: OneDNN.MemoryDescriptor
        let source: OneDNN.MemoryDescriptor, plainWeights: OneDNN.MemoryDescriptor, destination: OneDNN.MemoryDescriptor
        let bias: OneDNN.MemoryDescriptor?
        let weightsIn: OneDNN.Primitive?

        init(_ context: OneDNN.Context, _ g: Gemm.Geometry, postOps: [OneDNN.PostOp], packing: Bool) throws {
            let plain = Int32(SERKD_DNNL_TAG_AB)
            source = try .init([g.m, g.k], tag: plain)
            // B is k×n, or stored n×k when transposed: the same k×n matrix with swapped strides.
            plainWeights = try .init([g.k, g.n], tag: g.transposeB ? Int32(SERKD_DNNL_TAG_BA) : plain)
            destination = try .init([g.m, g.n], tag: plain)
            // Packed: the layout oneDNN's kernel reads; otherwise B as serkd stores it.
            let weightsLayout = packing ? try OneDNN.MemoryDescriptor([g.k, g.n], tag: Int32(SERKD_DNNL_TAG_ANY)) : plainWeights
            let biasDescriptor = g.epilogue.bias == .perColumn ? try OneDNN.MemoryDescriptor([1, g.n], tag: plain) : nil
            bias = biasDescriptor
            let attributes = postOps.isEmpty ? nil : try OneDNN.Attributes(eltwise: postOps)
            let (s, d, w) = (source, destination, weightsLayout)
            let descriptor = try OneDNN.PrimitiveDescriptor(context, attributes: attributes) { op in
                var (sr, wr, dr) = (s.raw, w.raw, d.raw)
                if var br = biasDescriptor?.raw { return serkd_dnnl_matmul_desc_init(&op, &sr, &wr, &br, &dr) }
                return serkd_dnnl_matmul_desc_init(&op, &sr, &wr, nil, &dr)
            }
            matmul = try OneDNN.Primitive(descriptor)
            packed = try .init(of: descriptor, Int32(SERKD_DNNL_QUERY_WEIGHTS_MD))
            weightsIn = plainWeights.matches(packed) ? nil : try OneDNN.Primitive(OneDNN.PrimitiveDescriptor(context, reorderFrom: plainWeights, to: packed))
        }
    }

    private struct Key: Hashable {
        var geometry: Gemm.Geometry
        var packed: Bool
    }

    private static let cache = OneDNN.PrimitiveCache<Key, Primitives>()

    /// The product this computes.
    public let geometry: Gemm.Geometry
    private let primitives: Primitives
    private let context: OneDNN.Context
    private let packedWeights: TensorStorage?
    private let source: OneDNN.Memory, weights: OneDNN.Memory, destination: OneDNN.Memory
    private let bias: OneDNN.Memory?

    /// The implementation oneDNN chose, for reports.
    public var implementation: String { primitives.matmul.descriptor.implementation }

    /// Whether oneDNN's matmul can compute `geometry`: one product (stacked rows count as one),
    /// untransposed A, no scaling or accumulation, a bias per column if any, and an activation
    /// oneDNN has.
    public static func supports(_ geometry: Gemm.Geometry) -> Bool {
        geometry.batchCount == 1 && !geometry.transposeA && geometry.alpha == 1 && geometry.beta == 0
            && geometry.epilogue.bias != .perRow && OneDNN.postOps(for: geometry.epilogue.activation) != nil
    }

    /// Prepares the product with `weights` (B, as the geometry stores it) frozen: packed now into a
    /// copy this object owns, or, unless `packed`, read where they are on every call. Nil when
    /// oneDNN is not loaded or cannot compute the geometry.
    public init?(_ geometry: Gemm.Geometry, frozenWeights: UnsafePointer<Float>, packed: Bool = true) {
        guard Self.supports(geometry), let context = OneDNN.context,
              let postOps = OneDNN.postOps(for: geometry.epilogue.activation) else { return nil }
        guard let primitives = Self.cache.value(for: Key(geometry: geometry, packed: packed),
                                                make: { try? Primitives(context, geometry, postOps: postOps, packing: packed) }) else { return nil }
        self.geometry = geometry
        self.primitives = primitives
        self.context = context
        do {
            source = try .init(context, primitives.source)
            weights = try .init(context, primitives.packed)
            destination = try .init(context, primitives.destination)
            bias = try primitives.bias.map { try .init(context, $0) }
            if let reorder = primitives.weightsIn {
                packedWeights = try reorder.packing(context, frozenWeights, from: OneDNN.Memory(context, primitives.plainWeights), into: weights,
                                                    byteCount: primitives.packed.byteCount)
            } else {
                try weights.bind(frozenWeights)
                packedWeights = nil
            }
        } catch {
            return nil
        }
    }

    /// C = A·B (+ bias, activation) with the packed B; `a` is m×k and `c` m×n, row-major.
    public func run(_ a: UnsafePointer<Float>, bias biasData: UnsafePointer<Float>?, into c: UnsafeMutablePointer<Float>) throws {
        try source.bind(a)
        try destination.bind(c)
        var arguments = [(Int32(SERKD_DNNL_ARG_SRC), source), (Int32(SERKD_DNNL_ARG_WEIGHTS), weights), (Int32(SERKD_DNNL_ARG_DST), destination)]
        if let bias, let biasData {
            try bias.bind(biasData)
            arguments.append((Int32(SERKD_DNNL_ARG_BIAS), bias))
        }
        try primitives.matmul.execute(context, arguments)
    }
}
