import CBLAS
import Foundation
import Tensor

/// Where a plan's time goes, by class of work: one timed run (`Executor.profile`) summed per class,
/// with the arithmetic rate of the classes that do arithmetic set against the machine's measured
/// sgemm peak, so a reader sees at once which classes are slow and which are merely large.
///
/// Convolutions are told apart as the backend rule tells them apart (`Backend.ConvolutionClass`),
/// and steps oneDNN ran are their own rows, so a backend choice can be read off the profile.
public struct KernelProfile {
    /// The time and arithmetic of one class of kernels.
    public struct Row {
        public var workClass: Kernel.WorkClass
        /// The class as printed: the work class, the convolution class, and the backend if not OpenBLAS.
        public var label: String
        public var seconds: Double
        public var kernels: Int
        /// Floating-point operations, where the class's kernels count them (`Kernel.flops`).
        public var flops: Double?
    }

    /// Classes, slowest first.
    public var rows: [Row]
    /// The steps, each with its time, slowest first.
    public var slowest: [(step: Step, seconds: Double)]
    /// Seconds for the whole run.
    public var total: Double { rows.reduce(0) { $0 + $1.seconds } }

    /// The profile of one run of `plan` that took `seconds` per step (in step order), each step run
    /// by the backend `backends` names (all OpenBLAS if not given).
    public init(plan: Plan, seconds: [Double], backends: [Backend]? = nil) {
        precondition(seconds.count == plan.steps.count, "one time per step")
        var byLabel: [String: Row] = [:]
        for (index, (step, time)) in zip(plan.steps, seconds).enumerated() {
            let workClass = step.kernel.workClass
            var label = workClass.rawValue
            if case .conv2d(let geometry) = step.kernel { label += "." + Backend.classify(geometry).rawValue }
            if let backend = backends?[index], backend != .openBLAS { label += " [\(backend.rawValue)]" }
            var row = byLabel[label] ?? Row(workClass: workClass, label: label, seconds: 0, kernels: 0, flops: nil)
            row.seconds += time
            row.kernels += 1
            if let flops = step.kernel.flops { row.flops = (row.flops ?? 0) + flops }
            byLabel[label] = row
        }
        rows = byLabel.values.sorted { ($0.seconds, $0.label) > ($1.seconds, $1.label) }
        slowest = zip(plan.steps, seconds).sorted { $0.1 > $1.1 }.map { ($0, $1) }
    }

    /// Times `runs` runs of `executor` on `inputs` kernel by kernel and keeps each step's median, so
    /// that one run a neighbour disturbed does not move the picture; each step tagged with its backend.
    public init(_ executor: Executor, _ inputs: [Tensor], runs: Int = 1) throws {
        let samples = try (0..<max(runs, 1)).map { _ in try executor.profile(inputs) }
        let seconds = executor.plan.steps.indices.map { step in samples.map { $0[step] }.sorted()[samples.count / 2] }
        self.init(plan: executor.plan, seconds: seconds, backends: executor.plan.steps.indices.map(executor.backend(ofStep:)))
    }

    /// The report: a line per class (time, share, kernels, GFLOP/s and its share of `peak` GFLOP/s),
    /// then the `slowest` slowest steps with their operand shapes.
    public func lines(plan: Plan, peak: Double, slowest count: Int) -> [String] {
        func column(_ text: String, _ width: Int, left: Bool = false) -> String {
            let padding = String(repeating: " ", count: max(0, width - text.count))
            return left ? text + padding : padding + text
        }
        func row(_ cells: [String]) -> String {
            "  " + column(cells[0], 26, left: true) + zip(cells.dropFirst(), [9, 7, 8, 9, 8]).map { column($0, $1) }.joined()
        }
        var lines = [row(["class", "ms", "share", "kernels", "GFLOP/s", "of peak"])]
        for entry in rows {
            let rate = entry.flops.map { $0 / max(entry.seconds, 1e-12) / 1e9 }
            lines.append(row([entry.label, String(format: "%.2f", entry.seconds * 1000),
                              String(format: "%.1f%%", 100 * entry.seconds / max(total, 1e-12)), String(entry.kernels),
                              rate.map { String(format: "%.1f", $0) } ?? "-", rate.map { String(format: "%.0f%%", 100 * $0 / peak) } ?? "-"]))
        }
        let arithmetic = rows.compactMap(\.flops).reduce(0, +)
        lines.append(String(format: "  all: %.2f ms, %.2f GFLOP counted, %.1f GFLOP/s overall (sgemm peak %.1f GFLOP/s)",
                            total * 1000, arithmetic / 1e9, arithmetic / max(total, 1e-12) / 1e9, peak))
        lines.append("slowest steps:")
        for (step, seconds) in slowest.prefix(count) {
            let shapes = step.operands.map { plan.buffers[$0.index].shape.description }.joined(separator: " ")
            let rate = step.kernel.flops.map { String(format: " %.1f GFLOP/s", $0 / max(seconds, 1e-12) / 1e9) } ?? ""
            lines.append(String(format: "  %7.2f ms  ", seconds * 1000) + "\(step.kernel.name) \(step.label)  \(shapes)\(rate)")
        }
        return lines
    }

    /// The best rate of a 1024³ single-precision product through the BLAS serkd runs (three tries
    /// after a warm-up), in GFLOP/s: what "of peak" is measured against on this machine.
    public static func measuredSgemmPeak() -> Double {
        _ = BLAS.selection
        let n = 1024
        let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var best = Double.infinity
        for attempt in 0..<4 {
            let start = DispatchTime.now().uptimeNanoseconds
            serkd_sgemm(Int32(SERKD_ROW_MAJOR), Int32(SERKD_NO_TRANS), Int32(SERKD_NO_TRANS), Int32(n), Int32(n), Int32(n),
                        1, a, Int32(n), b, Int32(n), 0, &c, Int32(n))
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if attempt > 0 { best = min(best, seconds) }
        }
        return 2 * pow(Double(n), 3) / best / 1e9
    }
}

extension Kernel {
    /// Kinds of work a profile groups kernels by: arithmetic-bound classes first.
    public enum WorkClass: String, Hashable, Sendable {
        case matmul, convolution, convolutionBackward = "convolution-bwd", attention
        case normalization, softmax, elementwise, pooling, reduction, dataMovement = "data-movement"
        case relation = "seRKD", loss, optimizer, allReduce = "all-reduce"
    }

    /// The class of work this kernel does.
    public var workClass: WorkClass {
        switch self {
        case .gemm: .matmul
        case .conv2d: .convolution
        case .attention: .attention
        case .unary, .binary, .compare, .select, .logicalNot, .cast, .fusedElementwise: .elementwise
        case .copy, .concat, .gather, .pad: .dataMovement
        case .maxPool, .averagePool, .globalAveragePool, .globalMaxPool: .pooling
        case .batchNorm, .layerNorm: .normalization
        case .softmax, .logSoftmax: .softmax
        case .reduce, .argMax: .reduction
        case .seRKD: .relation
        case .loss: .loss
        case .optimizer: .optimizer
        case .allReduce: .allReduce
        case .gradient(let kernel):
            switch kernel {
            case .convBackwardData, .convBackwardWeight: .convolutionBackward
            case .maxPoolBackward, .averagePoolBackward: .pooling
            case .unaryBackward, .dropout: .elementwise
            case .softmaxBackward, .logSoftmaxBackward: .softmax
            case .layerNormBackward, .batchNormTraining, .batchNormBackward: .normalization
            case .scatterAdd, .sliceBackward: .dataMovement
            }
        }
    }

    /// Floating-point operations (a multiply-add counts two) of the kernels whose speed is set by
    /// arithmetic: products, convolutions and attention; nil for those set by memory traffic.
    public var flops: Double? {
        switch self {
        case .gemm(let g): 2 * Double(g.m) * Double(g.n) * Double(g.k) * Double(g.batchCount)
        case .conv2d(let g): g.flops
        case .attention(let g): 2 * Double(g.count) * Double(g.queries) * Double(g.keys) * Double(g.depth + g.valueDepth)
        case .gradient(.convBackwardData(let g)), .gradient(.convBackwardWeight(let g)): g.forward.flops
        case .gradient, .unary, .binary, .compare, .select, .logicalNot, .cast, .fusedElementwise, .copy, .concat, .gather, .pad,
             .maxPool, .averagePool, .globalAveragePool, .globalMaxPool, .batchNorm, .layerNorm, .softmax, .logSoftmax,
             .reduce, .argMax, .seRKD, .loss, .optimizer, .allReduce:
            nil
        }
    }
}

extension Conv2D.Geometry {
    /// Multiply-adds ×2 of the convolution (the same for its data and weight gradients).
    var flops: Double {
        2 * Double(batch) * Double(outputChannels) * Double(inputChannels / groups) * Double(kernelHeight * kernelWidth)
            * Double(outputHeight * outputWidth)
    }
}
