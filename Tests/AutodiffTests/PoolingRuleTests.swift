import Autodiff
import GraphIR
import Testing

@Suite("Autodiff: pooling rules match finite differences")
struct PoolingRuleTests {
    /// 3×2 windows, stride 2, padding on three sides, dilated columns, ceil mode: windows overlap,
    /// some are clipped by padding, and the last row of windows overhangs the input.
    static let geometry = Pooling(kernel: [3, 2], strides: [2, 2], pads: [1, 0, 1, 1], dilations: [1, 2], ceilMode: true)

    @Test("maxPool sends each window's gradient to its maximum")
    func maxPool() throws {
        var random = TestRandom(seed: 5)
        let x = random.separated([1, 2, 6, 7])
        try checkGradients(GradientCase(.maxPool(Self.geometry), [TensorType(.float32, [1, 2, 6, 7])], values: ["x0": x]),
                           withRespectTo: ["x0"])
    }

    @Test("averagePool spreads each window's gradient over the positions it counted", arguments: [false, true])
    func averagePool(countIncludePad: Bool) throws {
        var geometry = Self.geometry
        geometry.countIncludePad = countIncludePad
        try checkGradients(GradientCase(.averagePool(geometry), [TensorType(.float32, [1, 2, 6, 7])]), withRespectTo: ["x0"])
    }

    @Test("globalAveragePool divides dY evenly over each plane")
    func globalAveragePool() throws {
        try checkGradients(GradientCase(.globalAveragePool, [TensorType(.float32, [2, 3, 4, 5])]), withRespectTo: ["x0"])
    }

    @Test("globalMaxPool sends dY to each plane's maximum")
    func globalMaxPool() throws {
        var random = TestRandom(seed: 6)
        try checkGradients(GradientCase(.globalMaxPool, [TensorType(.float32, [2, 3, 3, 4])], values: ["x0": random.separated([2, 3, 3, 4])]),
                           withRespectTo: ["x0"])
    }
}
