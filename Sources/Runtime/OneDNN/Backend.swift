/// Which backend runs an op: serkd's own kernels over OpenBLAS, or oneDNN. One rule per op class.
///
/// In inference plans oneDNN runs convolutions and linear layers with their frozen weights packed
/// once, which on AVX2 is where most of its advantage lies. In training steps it runs the linear
/// layers, reading the weights in place (`Executor.FrozenWeights`), and the frozen teacher's
/// convolutions where `trainingStepConvolutions` allows; the student's convolutions, forward and
/// backward, keep serkd's kernels.
///
/// The rules come from `serkd-bench conv` and `serkd-bench linear` (2 Zen 3 cores, AVX2, alternating
/// runs). They stay rules, not constants, so that a class where OpenBLAS wins on some machine can be
/// routed back without touching the executor.
public enum Backend: String, Sendable, CaseIterable {
    case openBLAS = "OpenBLAS"
    case oneDNN

    /// The kinds of convolution the rule tells apart.
    public enum ConvolutionClass: String, Sendable, CaseIterable {
        /// One input channel per group.
        case depthwise
        /// Several groups of several channels.
        case grouped
        /// 1×1 kernels, one group.
        case pointwise
        /// Larger kernels, one group.
        case dense
    }

    /// The class of `geometry`.
    public static func classify(_ geometry: Conv2D.Geometry) -> ConvolutionClass {
        if geometry.groups > 1 { return geometry.inputChannels == geometry.groups ? .depthwise : .grouped }
        return geometry.kernelHeight == 1 && geometry.kernelWidth == 1 ? .pointwise : .dense
    }

    /// The backend for a forward convolution. oneDNN's direct kernels (in blocked layout, reorders
    /// included) beat im2col + sgemm on dense and pointwise layers and serkd's depthwise loop by
    /// 1.3–8×; where oneDNN has no direct kernel (grouped layers of a few channels per group) it falls
    /// back to im2col itself, and `DNNLConvolution` declines.
    public static func convolution(_ geometry: Conv2D.Geometry, weightsFrozen: Bool) -> Backend {
        guard weightsFrozen, OneDNN.library != nil else { return .openBLAS }
        switch classify(geometry) {
        case .depthwise, .grouped, .pointwise, .dense: return .oneDNN
        }
    }

    /// Whether a training step's linear layers run on oneDNN's matmul, reading their weights in
    /// place. Measured on AVX-512 only (Zen 5: the DeiT-Ti ← ViT-B step at batch 8 went from 2093 to
    /// 1282 ms, OpenBLAS's AVX2 kernel at 190 GFLOP/s against oneDNN's 380); on AVX2 the in-place
    /// matmul has not been measured against OpenBLAS, so training there keeps OpenBLAS.
    public static var trainingStepLinearLayers: Bool { hasAVX512Kernels }

    /// Whether a training step's frozen convolutions (the teacher's) run on oneDNN. Only where its
    /// kernels are AVX-512 ones: there the ResNet fixture's RKD distance loss lands 2.5e-6 from
    /// PyTorch's (serkd's own kernels: 2.1e-6), inside the 2.8e-6 (1e-5 relative) the fixture
    /// allows; oneDNN's AVX2 kernels put it 3.4e-6 away, outside. On a Zen 5 the ResNet-18 ←
    /// ResNet-101 step at batch 8 took 1092 ms this way against 1689 ms on serkd's convolutions.
    public static var trainingStepConvolutions: Bool { hasAVX512Kernels }

    /// The backend for attention in an inference plan: oneDNN's batched matmul (a chunk of heads
    /// per call) where its kernels are AVX-512 ones, twice the width of OpenBLAS's AVX2 kernel.
    public static var attention: Backend { hasAVX512Kernels ? .oneDNN : .openBLAS }

    /// Whether oneDNN is loaded and runs its AVX-512 kernels: the machines the rules above were measured on.
    private static var hasAVX512Kernels: Bool { OneDNN.library?.isa.hasPrefix("avx512") == true }

    /// The backend for a product whose B operand is a frozen weight matrix. oneDNN 2.6's matmul on
    /// AVX2 ("gemm:jit", B packed once) measured 1.07–1.41× OpenBLAS on the linear layers of ViT-B,
    /// DeiT-S/Ti and 1.4–2.0× on ResNet's classifier at batch 2 and 8 (`serkd-bench linear`, a quiet
    /// Zen 3); on the same machine under load it measured 0.1–1.3×, so the rule holds for a machine
    /// running one job at a time. Products oneDNN cannot compute stay on OpenBLAS (`DNNLMatmul` declines).
    public static func linear(_ geometry: Gemm.Geometry, weightsFrozen: Bool) -> Backend {
        weightsFrozen && OneDNN.library != nil ? .oneDNN : .openBLAS
    }
}
