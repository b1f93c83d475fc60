import CBLAS
import CLI
import Foundation
import Runtime

/// GEMM throughput through the BLAS serkd loads, the number DESIGN §3 is about.
enum GemmBenchmark {
    static func run(_ arguments: inout Arguments) throws {
        let n = try arguments.intOption("size", in: 1...8192) ?? 2048
        let repeats = try arguments.intOption("repeat", in: 1...1000) ?? 5
        try arguments.finish()
        let blas = BLAS.selection
        let a = (0..<(n * n)).map { Float($0 % 7) - 3 }, b = (0..<(n * n)).map { Float($0 % 5) - 2 }
        var c = [Float](repeating: 0, count: n * n)
        let timing = Timing.measure(repeats: repeats, warmup: 1) {
            serkd_sgemm(Int32(SERKD_ROW_MAJOR), Int32(SERKD_NO_TRANS), Int32(SERKD_NO_TRANS), Int32(n), Int32(n), Int32(n),
                        1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
        }
        let flops = 2 * pow(Double(n), 3)
        print("sgemm \(n)³: \(String(format: "%.1f", flops / timing.median / 1e9)) GFLOP/s median, "
              + "\(String(format: "%.1f", flops / timing.minimum / 1e9)) best; OpenBLAS core \(blas.coreName) (\(blas.reason)), \(blas.threads) threads")
    }
}
