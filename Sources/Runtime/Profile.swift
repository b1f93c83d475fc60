import CBLAS
import Dispatch
import Foundation
import Tensor

/// Where a run's time goes, by op class: seconds, share, and for the kernels that multiply matrices
/// the rate in GFLOP/s and as a share of the machine's measured sgemm peak.
///
/// An op class is a kernel kind, refined where the backend choice is made per class (convolutions
/// by `Backend.ConvolutionClass`) and tagged with the backend that ran it.
public struct Profile {
    /// One op class of the run.
    public struct Entry {
        public var name: String
        public var seconds: Double
        public var count: Int
        /// Floating-point operations of the class's kernels, when they are counted.
        public var flops: Double?
    }

    /// Classes, most time first.
    public var entries: [Entry]
    /// Seconds of each step, in step order.
    public var stepSeconds: [Double]
    /// The executor profiled.
    public let executor: Executor
    /// Seconds of the whole run.
    public var total: Double
    /// GFLOP/s of a 1024³ OpenBLAS sgemm on this machine, now.
    public var peak: Double

    /// Times one run of `executor` on `inputs`, kernel by kernel, and measures the sgemm peak.
    public init(_ executor: Executor, _ inputs: [Tensor]) throws {
        self.executor = executor
        let seconds = try executor.profile(inputs)
        var byName: [String: Entry] = [:]
        for (index, (step, time)) in zip(executor.plan.steps, seconds).enumerated() {
            var name = step.kernel.name
            if case .conv2d(let geometry) = step.kernel { name += ".\(Backend.classify(geometry).rawValue)" }
            if executor.backend(ofStep: index) == .oneDNN { name += " [oneDNN]" }
            var entry = byName[name] ?? Entry(name: name, seconds: 0, count: 0, flops: step.kernel.flops.map { _ in 0 })
            entry.seconds += time
            entry.count += 1
            if let flops = step.kernel.flops { entry.flops = (entry.flops ?? 0) + flops }
            byName[name] = entry
        }
        entries = byName.values.sorted { $0.seconds > $1.seconds }
        stepSeconds = seconds
        total = seconds.reduce(0, +)
        peak = Self.sgemmPeak()
    }

    /// The lines of the report.
    public var lines: [String] {
        var lines = ["profile: one run, \(String(format: "%.2f", total * 1000)) ms; sgemm peak \(String(format: "%.0f", peak)) GFLOP/s (1024³, \(BLAS.selection.threads) threads)"]
        if executor.blockedHandoffs > 0 { lines.append("  (\(executor.blockedHandoffs) convolution outputs passed to the next in oneDNN's layout, unreordered)") }
        for entry in entries {
            var line = "  \(entry.name.padding(toLength: 30, withPad: " ", startingAt: 0)) \(String(format: "%9.2f ms %5.1f%%", entry.seconds * 1000, 100 * entry.seconds / max(total, 1e-12)))  ×\(entry.count)"
            if let flops = entry.flops, entry.seconds > 0 {
                let rate = flops / entry.seconds / 1e9
                line += String(format: "  %7.1f GFLOP/s %5.1f%% of peak", rate, 100 * rate / peak)
            }
            lines.append(line)
        }
        return lines
    }

    /// The best of three 1024³ sgemms, in GFLOP/s.
    static func sgemmPeak() -> Double {
        let n = 1024
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var best = Double.infinity
        for _ in 0..<3 {
            let start = DispatchTime.now().uptimeNanoseconds
            BLAS.exclusively {
                serkd_sgemm(Int32(SERKD_ROW_MAJOR), Int32(SERKD_NO_TRANS), Int32(SERKD_NO_TRANS), Int32(n), Int32(n), Int32(n),
                            1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
            }
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return 2 * Double(n * n * n) / best / 1e9
    }
}

extension Kernel {
    /// Multiply-adds ×2 of the kernels that multiply matrices (GEMM, convolution, attention); nil
    /// for the others, whose cost is memory traffic.
    public var flops: Double? {
        switch self {
        case .gemm(let g): 2 * Double(g.m) * Double(g.n) * Double(g.k) * Double(g.batchCount)
        case .conv2d(let g):
            2 * Double(g.batch * g.outputChannels * g.outputHeight * g.outputWidth) * Double(g.inputChannels / g.groups * g.kernelHeight * g.kernelWidth)
        case .attention(let g): 2 * Double(g.count * g.queries * g.keys) * Double(g.depth + g.valueDepth)
        default: nil
        }
    }
}
