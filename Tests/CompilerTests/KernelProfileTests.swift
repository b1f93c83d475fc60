import Compiler
import GraphIR
import Runtime
import Tensor
import Testing

@Suite struct KernelProfileTests {
    @Test("products and convolutions count their multiply-adds twice; memory-bound kernels count none")
    func arithmeticIsCountedWhereItSetsTheSpeed() {
        let gemm = Kernel.gemm(Gemm.Geometry(a: [3, 4, 5], b: [5, 6]))
        let gemmFlops: Double = 2 * 3 * 4 * 5 * 6
        #expect(gemm.flops == gemmFlops)
        let conv = Conv2D.Geometry(input: [2, 8, 10, 10], weight: [4, 4, 3, 3], pads: [1, 1, 1, 1], groups: 2)
        // batch 2 × 4 filters × 4 input channels per group × 3·3 taps × 10·10 outputs, ×2.
        let convFlops: Double = 2 * 2 * 4 * 4 * 9 * 100
        #expect(Kernel.conv2d(conv).flops == convFlops)
        #expect(Kernel.conv2d(conv).workClass == .convolution)
        #expect(Kernel.unary(.relu, dtype: .float32, count: 10).flops == nil)
        #expect(Kernel.unary(.relu, dtype: .float32, count: 10).workClass == .elementwise)
    }

    @Test("a profile sums time and arithmetic per class, slowest class first, and rates it against the peak")
    func profileGroupsByClass() throws {
        func values(_ count: Int) -> String { "[" + (0..<count).map { String(Double($0 % 5) / 5) }.joined(separator: ", ") + "]" }
        let graph = try Graph(text: """
        graph "mlp" {
          input %x: f32[8,16]
          const %w: f32[16,32] = \(values(512))
          const %v: f32[32,4] = \(values(128))
          %h: f32[8,32] = matmul(%x, %w) {transpose_a=0, transpose_b=0} @"h"
          %r: f32[8,32] = relu(%h) @"r"
          %y: f32[8,4] = matmul(%r, %v) {transpose_a=0, transpose_b=0} @"y"
          output %y
        }
        """)
        let plan = try Lowering.plan(graph).plan
        let kinds = plan.steps.map(\.kernel.workClass)
        #expect(kinds == [.matmul, .elementwise, .matmul])
        let profile = KernelProfile(plan: plan, seconds: [0.001, 0.004, 0.002])
        #expect(profile.rows.map(\.workClass) == [.elementwise, .matmul])
        #expect(profile.rows[1].seconds == 0.003 && profile.rows[1].kernels == 2)
        let products: Double = 2 * 8 * 16 * 32 + 2 * 8 * 32 * 4
        #expect(profile.rows[1].flops == products)
        #expect(profile.slowest.map(\.step.label) == ["r", "y", "h"])
        let lines = profile.lines(plan: plan, peak: 10, slowest: 2)
        let matmulLine = try #require(lines.first { $0.contains("matmul") })
        // 10240 flops in 3 ms: 0.0034 GFLOP/s, 0% of a 10 GFLOP/s peak.
        #expect(matmulLine.contains("0.0") && matmulLine.contains("0%"))
        #expect(lines.contains("slowest steps:"))
        #expect(lines.count == 7, "header, two classes, the total, the heading and two steps")
    }

    @Test("the sgemm peak is a positive, finite rate")
    func sgemmPeakIsMeasured() {
        let peak = KernelProfile.measuredSgemmPeak()
        #expect(peak.isFinite && peak > 0.1)
    }
}
