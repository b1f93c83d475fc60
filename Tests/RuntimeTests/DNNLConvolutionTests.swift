import GraphIR
@testable import Runtime
import Tensor
import Testing

/// The oneDNN convolution against the float64 reference and against serkd's own kernels. Runs
/// where oneDNN is installed (setup.sh installs it); elsewhere `Backend` never picks it.
@Suite(.enabled(if: OneDNN.library != nil, "oneDNN (libdnnl.so.2) is not loaded"))
struct DNNLConvolutionTests {
    /// The convolution of case `c` on both backends and the reference (activation included); nil
    /// when oneDNN has no direct kernel for it.
    func outputs(_ c: ConvolutionCase) throws -> (dnnl: Tensor, openBLAS: Tensor, reference: Tensor)? {
        var noise = Noise(seed: 23)
        let x = noise.tensor(Shape(c.input)), w = noise.tensor(Shape(c.weight))
        let bias = c.bias ? noise.tensor([c.weight[0]]) : nil
        let geometry = Conv2D.Geometry(input: c.input, weight: c.weight, strides: c.strides, pads: c.pads,
                                       dilations: c.dilations, groups: c.groups, hasBias: c.bias, activation: c.activation)
        let op = Op.conv(Convolution(strides: c.strides, pads: c.pads, dilations: c.dilations, groups: c.groups))
        let inputs = [x, w] + (bias.map { [$0] } ?? [])
        var expected = try reference(op, inputs)
        if let activation = c.activation { expected = try reference(.unary(activation), [expected]) }
        guard let convolution = DNNLConvolution(geometry) else { return nil }
        let dnnl = Tensor(zeros: .float32, expected.shape), openBLAS = Tensor(zeros: .float32, expected.shape)
        try withWorkspace(convolution.scratchBytes) { scratch in
            try convolution.run(input: x.f32, weight: w.f32, bias: bias?.f32, output: dnnl.f32, scratch: scratch)
        }
        withWorkspace(geometry.workspaceBytes) { workspace in
            Conv2D.run(geometry, input: x.f32, weight: w.f32, bias: bias?.f32, output: openBLAS.f32, workspace: workspace)
        }
        return (dnnl, openBLAS, expected)
    }

    @Test("every convolution case matches the float64 reference and the OpenBLAS path within 1e-5 of the output's scale",
          arguments: ConvolutionTests.cases)
    func matchesReferenceAndOpenBLAS(c: ConvolutionCase) throws {
        guard let (dnnl, openBLAS, expected) = try outputs(c) else {
            // oneDNN has direct kernels for every ungrouped case; it lacks some for grouped layers of
            // a few channels per group, depthwise channel multipliers and large dilated windows.
            #expect(c.groups > 1)
            return
        }
        expectClose(dnnl, expected, tolerance: 1e-5)
        expectClose(dnnl, openBLAS, tolerance: 1e-5)
    }

    @Test("GELU, sigmoid, tanh, leaky ReLU, clip, hard sigmoid and hard swish run as oneDNN post-ops with serkd's definitions", arguments: [
        UnaryFunction.gelu, .geluTanh, .sigmoid, .tanh, .leakyRelu(alpha: 0.1), .clip(min: -0.25, max: 0.5),
        .hardSigmoid(alpha: 0.2, beta: 0.5), .hardSwish,
    ])
    func postOps(activation: UnaryFunction) throws {
        let c = ConvolutionCase(name: "3×3", input: [2, 8, 6, 7], weight: [16, 8, 3, 3], pads: [1, 1, 1, 1], bias: true,
                                activation: activation, algorithm: .im2col)
        let (dnnl, _, expected) = try #require(try outputs(c))
        expectClose(dnnl, expected, tolerance: 1e-5)
    }

    @Test("an activation oneDNN lacks keeps the convolution on serkd's kernels")
    func unsupportedActivation() {
        #expect(OneDNN.postOps(for: .exp) == nil)
        #expect(DNNLConvolution(Conv2D.Geometry(input: [1, 8, 4, 4], weight: [8, 8, 1, 1], activation: .exp)) == nil)
    }

    @Test("frozen weights are reordered once, when the convolution is prepared: later changes to them are not seen")
    func frozenWeightsPackedOnce() throws {
        var noise = Noise(seed: 5)
        let geometry = Conv2D.Geometry(input: [1, 16, 8, 8], weight: [32, 16, 3, 3], pads: [1, 1, 1, 1])
        let x = noise.tensor([1, 16, 8, 8]), w = noise.tensor([32, 16, 3, 3])
        let frozen = try #require(DNNLConvolution(geometry, frozenWeights: w.f32))
        let perCall = try #require(DNNLConvolution(geometry))
        #expect(frozen.scratchBytes < perCall.scratchBytes || perCall.primitives.weightsIn == nil)
        let before = Tensor(zeros: .float32, [1, 32, 8, 8]), after = Tensor(zeros: .float32, [1, 32, 8, 8])
        try withWorkspace(perCall.scratchBytes) { scratch in
            try frozen.run(input: x.f32, weight: w.f32, bias: nil, output: before.f32, scratch: scratch)
            w.f32.update(repeating: 0, count: w.shape.elementCount)
            try frozen.run(input: x.f32, weight: w.f32, bias: nil, output: after.f32, scratch: scratch)
        }
        #expect(after.bitwiseEqual(before))
        #expect(before.f32[0] != 0)
    }

    @Test("oneDNN's direct kernels are kept on AVX2 (jit) and AVX-512 (brgemm); its im2col and reference fallbacks are not")
    func directKernels() {
        #expect(DNNLConvolution.isDirect("jit:avx2"))
        #expect(DNNLConvolution.isDirect("brgconv:avx512_core"))
        #expect(DNNLConvolution.isDirect("brgconv_1x1:avx512_core"))
        #expect(DNNLConvolution.isDirect("brdgmm_dw:avx512_core"))
        #expect(DNNLConvolution.isDirect("jit_dw:avx2"))
        #expect(!DNNLConvolution.isDirect("gemm:jit"))
        #expect(!DNNLConvolution.isDirect("ref:any"))
    }

    @Test("convolutions are classified by groups and kernel size")
    func classes() {
        #expect(Backend.classify(Conv2D.Geometry(input: [1, 8, 5, 5], weight: [8, 1, 3, 3], groups: 8)) == .depthwise)
        #expect(Backend.classify(Conv2D.Geometry(input: [1, 8, 5, 5], weight: [8, 2, 3, 3], groups: 4)) == .grouped)
        #expect(Backend.classify(Conv2D.Geometry(input: [1, 8, 5, 5], weight: [4, 8, 1, 1])) == .pointwise)
        #expect(Backend.classify(Conv2D.Geometry(input: [1, 8, 5, 5], weight: [4, 8, 3, 3])) == .dense)
    }
}
