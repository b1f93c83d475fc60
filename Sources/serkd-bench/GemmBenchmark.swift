import CBLAS
import CLI
import Foundation
import Runtime

/// GEMM throughput through the BLAS serkd loads, the number DESIGN §3 is about.
enum GemmBenchmark {
    static func run(_ arguments: inout Arguments) throws {
        let size = try arguments.intOption("size", in: 1...8192) ?? 2048
        let (m, n, k) = (try arguments.intOption("m", in: 1...65536) ?? size, try arguments.intOption("n", in: 1...65536) ?? size,
                         try arguments.intOption("k", in: 1...65536) ?? size)
        let (ta, tb) = (arguments.flag("transpose-a"), arguments.flag("transpose-b"))
        let repeats = try arguments.intOption("repeat", in: 1...1000) ?? 5
        try arguments.finish()
        let blas = BLAS.selection
        let a = (0..<(m * k)).map { Float($0 % 7) - 3 }, b = (0..<(k * n)).map { Float($0 % 5) - 2 }
        var c = [Float](repeating: 0, count: m * n)
        let timing = Timing.measure(repeats: repeats, warmup: 1) {
            serkd_sgemm(Int32(SERKD_ROW_MAJOR), Int32(ta ? SERKD_TRANS : SERKD_NO_TRANS), Int32(tb ? SERKD_TRANS : SERKD_NO_TRANS),
                        Int32(m), Int32(n), Int32(k), 1, a, Int32(ta ? m : k), b, Int32(tb ? k : n), 0, &c, Int32(n))
        }
        let flops = 2 * Double(m) * Double(n) * Double(k)
        print("sgemm \(m)×\(n)×\(k)\(ta ? " Aᵀ" : "")\(tb ? " Bᵀ" : ""): \(String(format: "%.1f", flops / timing.median / 1e9)) GFLOP/s median, "
              + "\(String(format: "%.1f", flops / timing.minimum / 1e9)) best; OpenBLAS core \(blas.coreName) (\(blas.reason)), \(blas.threads) threads")
    }
}
