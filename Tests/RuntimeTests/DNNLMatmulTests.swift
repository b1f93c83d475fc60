@testable import Runtime
import Tensor
import Testing

/// oneDNN's matmul with packed or in-place weights against serkd's GEMM (OpenBLAS) and a float64 product.
@Suite(.enabled(if: OneDNN.library != nil, "oneDNN (libdnnl.so.2) is not loaded"))
struct DNNLMatmulTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var a: [Int], b: [Int], transposeB: Bool, bias: Bool, activation: UnaryFunction?
        var testDescription: String { "\(a)·\(b)\(transposeB ? "ᵀ" : "")\(bias ? " + bias" : "")\(activation.map { " \($0)" } ?? "")" }
    }

    static let cases = [
        Case(a: [7, 33], b: [19, 33], transposeB: true, bias: true, activation: nil),
        Case(a: [5, 24], b: [24, 40], transposeB: false, bias: false, activation: nil),
        Case(a: [2, 9, 48], b: [64, 48], transposeB: true, bias: true, activation: .gelu),
        Case(a: [1, 70], b: [70, 17], transposeB: false, bias: true, activation: .relu),
    ]

    @Test("linear layers, with weights packed or read in place, match the float64 product within 1e-5 of the output's scale, and OpenBLAS's result",
          arguments: cases, [true, false])
    func matches(c: Case, packed: Bool) throws {
        var noise = Noise(seed: 31)
        let a = noise.tensor(Shape(c.a)), b = noise.tensor(Shape(c.b))
        let g = Gemm.Geometry(a: c.a, b: c.b, transposeB: c.transposeB, epilogue: Epilogue(bias: c.bias ? .perColumn : .none, activation: c.activation))
        let bias = noise.tensor([g.n])
        let matmul = try #require(DNNLMatmul(g, frozenWeights: b.f32, packed: packed))
        let rows = g.m, dnnl = Tensor(zeros: .float32, [rows, g.n]), openBLAS = Tensor(zeros: .float32, [rows, g.n])
        try matmul.run(a.f32, bias: c.bias ? bias.f32 : nil, into: dnnl.f32)
        Gemm.multiply(g, a.f32, b.f32, bias: c.bias ? bias.f32 : nil, into: openBLAS.f32)
        var exact = [Float](repeating: 0, count: rows * g.n)
        for i in 0..<rows {
            for j in 0..<g.n {
                var sum = c.bias ? Double(bias.f32[j]) : 0
                for p in 0..<g.k { sum += Double(a.f32[i * g.k + p]) * Double(c.transposeB ? b.f32[j * g.k + p] : b.f32[p * g.n + j]) }
                exact[i * g.n + j] = Float(sum)
            }
        }
        var expected = Tensor(exact, shape: [rows, g.n])
        if let activation = c.activation { expected = try reference(.unary(activation), [expected]) }
        expectClose(dnnl, expected, tolerance: 1e-5)
        expectClose(dnnl, openBLAS, tolerance: 1e-5)
    }

    @Test("products oneDNN's matmul does not take stay on OpenBLAS: transposed A, accumulation, per-row bias, batches of B")
    func unsupported() {
        #expect(!DNNLMatmul.supports(Gemm.Geometry(a: [8, 4], b: [8, 6], transposeA: true)))
        #expect(!DNNLMatmul.supports(Gemm.Geometry(a: [4, 8], b: [8, 6], beta: 1)))
        #expect(!DNNLMatmul.supports(Gemm.Geometry(a: [4, 8], b: [8, 6], epilogue: Epilogue(bias: .perRow))))
        #expect(!DNNLMatmul.supports(Gemm.Geometry(a: [3, 4, 8], b: [3, 8, 6])))
        #expect(DNNLMatmul.supports(Gemm.Geometry(a: [3, 4, 8], b: [8, 6])))
    }
}
