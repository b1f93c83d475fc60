import CBLAS
import Dispatch
import GraphIR
@testable import Runtime
import Tensor
import Testing

@Suite struct GemmTests {
    @Test("the OpenBLAS kernel chosen for this CPU passes the float64 self-check")
    func blasSelfCheck() {
        _ = BLAS.selection
        #expect(BLAS.selfTestPasses())
    }

    @Test("kernels that run OpenBLAS single-threaded from many threads leave its thread count as it was chosen")
    func singleThreadedSectionsRestoreTheChosenThreadCount() {
        let chosen = BLAS.selection.threads
        // Before the sections took the BLAS lock, one section could save another's "1" and restore it
        // last, leaving every later product in the process on one thread and with different bits.
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<200 { Gemm.withSingleThreadedBLAS { #expect(serkd_blas_threads() == 1) } }
        }
        #expect(Int(serkd_blas_threads()) == chosen)
    }

    /// Runs `Gemm.multiply` on fresh operands of the given shapes and compares with the reference
    /// matMul (computed in float64) followed by the epilogue's reference ops.
    private func check(_ a: [Int], _ b: [Int], transposeA: Bool = false, transposeB: Bool = false,
                       epilogue: Epilogue = .none, seed: UInt64 = 1) throws {
        var noise = Noise(seed: seed)
        let x = noise.tensor(Shape(a)), w = noise.tensor(Shape(b))
        let flags = MatMul(transposeA: transposeA, transposeB: transposeB)
        let shape = try outputShape(.matMul(flags), [x, w])
        let (m, n) = (shape[-2], shape[-1])
        let bias: Tensor? = switch epilogue.bias {
        case .none: nil
        case .perRow: noise.tensor([m, 1])
        case .perColumn: noise.tensor([n])
        }
        let geometry = Gemm.Geometry(a: a, b: b, transposeA: transposeA, transposeB: transposeB, epilogue: epilogue)
        let y = Tensor(zeros: .float32, shape)
        Gemm.multiply(geometry, x.f32, w.f32, bias: bias?.f32, into: y.f32)
        var expected = try reference(.matMul(flags), [x, w])
        if let bias { expected = try reference(.binary(.add), [expected, bias]) }
        if let activation = epilogue.activation { expected = try reference(.unary(activation), [expected]) }
        expectClose(y, expected, tolerance: 1e-5, "\(a)\(transposeA ? "ᵀ" : "") · \(b)\(transposeB ? "ᵀ" : "")")
    }

    @Test("all four transpose combinations match a float64 product on awkward sizes",
          arguments: [(false, false), (true, false), (false, true), (true, true)])
    func transposes(flags: (Bool, Bool)) throws {
        let (m, n, k) = (37, 29, 53)
        try check(flags.0 ? [k, m] : [m, k], flags.1 ? [n, k] : [k, n], transposeA: flags.0, transposeB: flags.1)
    }

    @Test("batch axes broadcast like numpy matmul", arguments: [
        ([2, 3, 5, 4], [3, 4, 6]),   // B broadcast over the leading axis
        ([4, 5, 6], [6, 7]),         // shared B: stacked into one tall product
        ([1, 5, 6], [3, 6, 7]),      // A broadcast
        ([2, 1, 3, 4], [1, 3, 4, 2]), // both broadcast on different axes
        ([12, 9, 8], [12, 8, 9]),    // many small products, one per thread
    ])
    func batched(shapes: ([Int], [Int])) throws {
        try check(shapes.0, shapes.1)
    }

    @Test("attention-shaped batches with transposed operands run per thread and stay exact")
    func attentionShapes() throws {
        let geometry = Gemm.Geometry(a: [6, 17, 8], b: [6, 17, 8], transposeB: true)
        #expect(geometry.parallelOverBatch)
        try check([6, 17, 8], [6, 17, 8], transposeB: true)
        try check([6, 8, 17], [6, 8, 17], transposeA: true)
    }

    @Test("a shared weight with untransposed A folds the batch into one product")
    func foldedBatch() {
        let geometry = Gemm.Geometry(a: [8, 197, 192], b: [192, 768])
        #expect(geometry.batchCount == 1 && geometry.m == 8 * 197)
    }

    @Test("the fused epilogue adds the bias, then applies the activation", arguments: [
        Epilogue(bias: .perColumn, activation: .gelu),
        Epilogue(bias: .perColumn, activation: nil),
        Epilogue(bias: .perRow, activation: .relu),
        Epilogue(bias: .none, activation: .hardSwish),
    ])
    func epilogue(epilogue: Epilogue) throws {
        try check([3, 11, 19], [19, 13], epilogue: epilogue)
        try check([40, 24], [24, 30], transposeB: false, epilogue: epilogue, seed: 2)
    }

    @Test("beta 1 accumulates into C and alpha scales the product")
    func accumulate() {
        let a = Tensor([1, 2, 3, 4], shape: [2, 2]), b = Tensor([1, 0, 0, 1], shape: [2, 2])
        let c = Tensor([10, 20, 30, 40], shape: [2, 2])
        Gemm.multiply(Gemm.Geometry(a: [2, 2], b: [2, 2], alpha: 2, beta: 1), a.f32, b.f32, into: c.f32)
        #expect(c.floats == [12, 24, 36, 48])
    }

    @Test("an empty inner extent gives zeros, not a BLAS parameter error")
    func emptyInner() {
        let a = Tensor(zeros: .float32, [3, 0]), b = Tensor(zeros: .float32, [0, 2])
        let c = Tensor([1, 1, 1, 1, 1, 1], shape: [3, 2])
        Gemm.multiply(Gemm.Geometry(a: [3, 0], b: [0, 2]), a.f32, b.f32, into: c.f32)
        #expect(c.floats == [0, 0, 0, 0, 0, 0])
    }
}
