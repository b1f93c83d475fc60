import CDNNL
import Foundation
import Tensor

/// A forward convolution (dense, grouped or depthwise) through oneDNN's direct kernels, with the
/// bias and the fused activation as post-ops.
///
/// serkd's tensors are NCHW; oneDNN's fast kernels work on channel-blocked layouts (nChw8c on AVX2,
/// nChw16c on AVX-512) with weights blocked to match. The input is reordered into the blocked layout
/// and the output back, in a scratch area the executor lends (`scratchBytes`). Weights that never
/// change (a frozen plan's persistent tensors) are reordered once, here, into storage this object
/// owns; others are reordered on each call, which is once per training step.
///
/// Where oneDNN convolutions feed each other, directly or through elementwise steps such as a
/// residual add, the executor lets the first leave its output in oneDNN's layout and the next read
/// it as it is (`passesBlockedOutput`, `takesBlockedInput`, chosen by `BlockedRegions`): the
/// tensors' buffers then hold the blocked layout and the reorders between them disappear.
///
/// Primitives depend only on the geometry, so convolutions of one shape share them (`shared`).
public final class DNNLConvolution {
    /// The geometry's primitives, shared by every convolution of that geometry.
    final class Primitives {
        let convolution: OneDNN.Primitive
        let source: OneDNN.MemoryDescriptor, weights: OneDNN.MemoryDescriptor, destination: OneDNN.MemoryDescriptor
        let bias: OneDNN.MemoryDescriptor?
        /// Reorders from serkd's layouts into the convolution's, nil where they agree.
        let sourceIn: OneDNN.Primitive?, weightsIn: OneDNN.Primitive?, destinationOut: OneDNN.Primitive?
        /// serkd's layouts: NCHW activations, [M, C/g, kH, kW] weights.
        let plainSource: OneDNN.MemoryDescriptor, plainWeights: OneDNN.MemoryDescriptor, plainDestination: OneDNN.MemoryDescriptor

        init(_ context: OneDNN.Context, _ g: Conv2D.Geometry, postOps: [OneDNN.PostOp]) throws {
            let any = Int32(SERKD_DNNL_TAG_ANY)
            let sourceDims = [g.batch, g.inputChannels, g.inputHeight, g.inputWidth]
            let destinationDims = [g.batch, g.outputChannels, g.outputHeight, g.outputWidth]
            let perGroup = [g.outputChannels / g.groups, g.inputChannels / g.groups, g.kernelHeight, g.kernelWidth]
            let weightDims = g.groups == 1 ? perGroup : [g.groups] + perGroup
            let weightTag = Int32(g.groups == 1 ? SERKD_DNNL_TAG_ABCD : SERKD_DNNL_TAG_ABCDE)
            plainSource = try .init(sourceDims, tag: Int32(SERKD_DNNL_TAG_ABCD))
            plainWeights = try .init(weightDims, tag: weightTag)
            plainDestination = try .init(destinationDims, tag: Int32(SERKD_DNNL_TAG_ABCD))
            let anySource = try OneDNN.MemoryDescriptor(sourceDims, tag: any)
            let anyWeights = try OneDNN.MemoryDescriptor(weightDims, tag: any)
            let anyDestination = try OneDNN.MemoryDescriptor(destinationDims, tag: any)
            let biasDescriptor = g.hasBias ? try OneDNN.MemoryDescriptor([g.outputChannels], tag: Int32(SERKD_DNNL_TAG_A)) : nil
            bias = biasDescriptor
            let strides = [Int64(g.strideHeight), Int64(g.strideWidth)]
            let dilations = [Int64(g.dilationHeight - 1), Int64(g.dilationWidth - 1)]
            let padBefore = [Int64(g.padTop), Int64(g.padLeft)]
            // The bottom and right padding that give the output extents (what the geometry dropped).
            let padAfter = [Int64((g.outputHeight - 1) * g.strideHeight + (g.kernelHeight - 1) * g.dilationHeight + 1 - g.inputHeight - g.padTop),
                            Int64((g.outputWidth - 1) * g.strideWidth + (g.kernelWidth - 1) * g.dilationWidth + 1 - g.inputWidth - g.padLeft)]
            let attributes = postOps.isEmpty ? nil : try OneDNN.Attributes(eltwise: postOps)
            let descriptor = try OneDNN.PrimitiveDescriptor(context, attributes: attributes) { op in
                var (s, w, d) = (anySource.raw, anyWeights.raw, anyDestination.raw)
                if var b = biasDescriptor?.raw {
                    return serkd_dnnl_convolution_forward_desc_init(&op, Int32(SERKD_DNNL_FORWARD_INFERENCE), &s, &w, &b, &d,
                                                                    strides, dilations, padBefore, padAfter)
                }
                return serkd_dnnl_convolution_forward_desc_init(&op, Int32(SERKD_DNNL_FORWARD_INFERENCE), &s, &w, nil, &d,
                                                                strides, dilations, padBefore, padAfter)
            }
            convolution = try OneDNN.Primitive(descriptor)
            source = try .init(of: descriptor, Int32(SERKD_DNNL_QUERY_SRC_MD))
            weights = try .init(of: descriptor, Int32(SERKD_DNNL_QUERY_WEIGHTS_MD))
            destination = try .init(of: descriptor, Int32(SERKD_DNNL_QUERY_DST_MD))
            func reorder(_ from: OneDNN.MemoryDescriptor, _ to: OneDNN.MemoryDescriptor) throws -> OneDNN.Primitive? {
                from.matches(to) ? nil : try OneDNN.Primitive(OneDNN.PrimitiveDescriptor(context, reorderFrom: from, to: to))
            }
            sourceIn = try reorder(plainSource, source)
            weightsIn = try reorder(plainWeights, weights)
            destinationOut = try reorder(destination, plainDestination)
        }

        /// The implementation oneDNN chose for the convolution.
        var implementation: String { convolution.descriptor.implementation }
    }

    private static let cache = OneDNN.PrimitiveCache<Conv2D.Geometry, Primitives>()

    /// The primitives of `geometry`, created on first use; nil when oneDNN has no direct kernel for
    /// it. Its fallbacks ("gemm:jit", "ref:any") unfold patches as serkd's im2col does, plus reorders;
    /// everything else is a direct kernel, named by ISA and family ("jit:avx2", "jit_dw:avx2" on
    /// AVX2; "brgconv:avx512_core", "brdgmm_dw:avx512_core" on AVX-512).
    static func shared(_ context: OneDNN.Context, _ geometry: Conv2D.Geometry) -> Primitives? {
        guard let postOps = OneDNN.postOps(for: geometry.activation) else { return nil }
        return cache.value(for: geometry) {
            guard let made = try? Primitives(context, geometry, postOps: postOps), Self.isDirect(made.implementation) else { return nil }
            return made
        }
    }

    /// Whether oneDNN's `implementation` name is a direct kernel rather than an im2col fallback.
    static func isDirect(_ implementation: String) -> Bool {
        !implementation.hasPrefix("gemm") && !implementation.hasPrefix("ref")
    }

    /// The convolution this computes.
    public let geometry: Conv2D.Geometry
    let primitives: Primitives
    private let context: OneDNN.Context
    /// Weights already in the convolution's layout, when they were frozen.
    private let packedWeights: TensorStorage?
    private let plainSource: OneDNN.Memory, plainWeights: OneDNN.Memory, plainDestination: OneDNN.Memory
    private let source: OneDNN.Memory, weights: OneDNN.Memory, destination: OneDNN.Memory
    private let bias: OneDNN.Memory?
    /// Offsets in the scratch area of the reordered input, weights and output.
    private let sourceOffset: Int, weightsOffset: Int, destinationOffset: Int

    /// Bytes of scratch `run` needs: the input, output and (unless packed) weights in oneDNN's layouts.
    public let scratchBytes: Int

    /// `run` reads its input in oneDNN's layout, as the convolution before it left it.
    var takesBlockedInput = false
    /// `run` leaves its output in oneDNN's layout, for the convolution after it.
    var passesBlockedOutput = false

    /// The implementation oneDNN chose ("jit:avx2", …), for reports.
    public var implementation: String { primitives.implementation }

    /// Prepares `geometry` on oneDNN; nil when oneDNN is not loaded or has no primitive for it.
    /// `frozenWeights`, when given, are the convolution's weights for every later call: they are
    /// reordered now, and `run`'s weights are then ignored.
    public init?(_ geometry: Conv2D.Geometry, frozenWeights: UnsafePointer<Float>? = nil) {
        guard let context = OneDNN.context, let primitives = Self.shared(context, geometry) else { return nil }
        self.geometry = geometry
        self.primitives = primitives
        self.context = context
        do {
            plainSource = try .init(context, primitives.plainSource)
            plainWeights = try .init(context, primitives.plainWeights)
            plainDestination = try .init(context, primitives.plainDestination)
            source = try .init(context, primitives.source)
            weights = try .init(context, primitives.weights)
            destination = try .init(context, primitives.destination)
            bias = try primitives.bias.map { try .init(context, $0) }
            func rounded(_ bytes: Int) -> Int { (bytes + TensorStorage.alignment - 1) / TensorStorage.alignment * TensorStorage.alignment }
            var offset = 0
            sourceOffset = offset
            if primitives.sourceIn != nil { offset += rounded(primitives.source.byteCount) }
            destinationOffset = offset
            if primitives.destinationOut != nil { offset += rounded(primitives.destination.byteCount) }
            weightsOffset = offset
            if let frozenWeights, let reorder = primitives.weightsIn {
                packedWeights = try reorder.packing(context, frozenWeights, from: plainWeights, into: weights, byteCount: primitives.weights.byteCount)
            } else {
                if primitives.weightsIn != nil { offset += rounded(primitives.weights.byteCount) }
                packedWeights = nil
            }
            scratchBytes = offset
        } catch {
            return nil
        }
    }

    /// Computes the convolution: NCHW `input` into NCHW `output`. `scratch` holds `scratchBytes`.
    public func run(input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias biasData: UnsafePointer<Float>?,
             output: UnsafeMutablePointer<Float>, scratch: UnsafeMutableRawPointer?) throws {
        let p = primitives
        let (src, dst, wei) = (Int32(SERKD_DNNL_ARG_SRC), Int32(SERKD_DNNL_ARG_DST), Int32(SERKD_DNNL_ARG_WEIGHTS))
        if let reorder = p.sourceIn, !takesBlockedInput {
            try plainSource.bind(input)
            try source.bind(scratch! + sourceOffset)
            try reorder.execute(context, [(src, plainSource), (dst, source)])
        } else {
            try source.bind(input)
        }
        if let packedWeights {
            try weights.bind(packedWeights.base)
        } else if let reorder = p.weightsIn {
            try plainWeights.bind(weight)
            try weights.bind(scratch! + weightsOffset)
            try reorder.execute(context, [(src, plainWeights), (dst, weights)])
        } else {
            try weights.bind(weight)
        }
        let direct = p.destinationOut == nil || passesBlockedOutput
        try destination.bind(direct ? UnsafeRawPointer(output) : UnsafeRawPointer(scratch! + destinationOffset))
        var arguments = [(src, source), (wei, weights), (dst, destination)]
        if let bias, let biasData {
            try bias.bind(biasData)
            arguments.append((Int32(SERKD_DNNL_ARG_BIAS), bias))
        }
        try p.convolution.execute(context, arguments)
        if let reorder = p.destinationOut, !passesBlockedOutput {
            try plainDestination.bind(output)
            try reorder.execute(context, [(src, destination), (dst, plainDestination)])
        }
    }
}
