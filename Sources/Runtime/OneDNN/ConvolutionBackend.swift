/// Which backend runs a forward convolution: serkd's own kernels over OpenBLAS, or oneDNN.
///
/// oneDNN runs convolutions whose weights are frozen (inference plans): their weights are packed
/// once, which is where most of its advantage lies. Training steps keep serkd's kernels: their
/// backward convolutions are serkd's, and a forward on oneDNN moves the SeRKD fixture's distance
/// loss by 1.3e-5 relative, outside the 1e-5 the PyTorch fixtures allow.
///
/// Among frozen convolutions the rule is per class and comes from `serkd-bench conv` on the shapes
/// of ResNet-18/101 and MobileNetV3 (2 Zen 3 cores, AVX2): oneDNN's direct kernels in blocked layout,
/// reorders included, beat im2col + sgemm and serkd's depthwise loop on every class measured. It
/// stays a rule, not a constant, so that a class where OpenBLAS wins on some machine can be routed
/// back without touching the executor.
public enum ConvolutionBackend: String, Sendable, CaseIterable {
    case openBLAS = "OpenBLAS"
    case oneDNN

    /// The kinds of convolution the rule tells apart.
    public enum Class: String, Sendable, CaseIterable {
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
    public static func classify(_ geometry: Conv2D.Geometry) -> Class {
        if geometry.groups > 1 { return geometry.inputChannels == geometry.groups ? .depthwise : .grouped }
        return geometry.kernelHeight == 1 && geometry.kernelWidth == 1 ? .pointwise : .dense
    }

    /// The backend for `geometry` in this process: OpenBLAS when oneDNN is not loaded (missing, or
    /// `SERKD_DNNL=0`) or the weights may change between runs.
    public static func choose(_ geometry: Conv2D.Geometry, weightsFrozen: Bool) -> ConvolutionBackend {
        guard weightsFrozen, OneDNN.library != nil else { return .openBLAS }
        switch classify(geometry) {
        case .depthwise, .grouped, .pointwise, .dense: return .oneDNN
        }
    }
}
