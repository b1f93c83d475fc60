import CLI
import Foundation
import Runtime
import Tensor

/// The gradient all-reduce's cost, measured between the ranks of an MPI job (`mpirun -np N
/// serkd-bench allreduce`), and what it makes of a training step on more ranks.
///
/// For each message size it times `MPI_Allreduce` (sum of floats, in place, as the training step
/// calls it) and reports the bus bandwidth of a ring all-reduce, 2(N−1)/N · bytes / time, the
/// number that does not depend on N. From the smallest message (latency α) and the one nearest the
/// model's gradients in size (bus bandwidth β) it then estimates a step on N ranks for a model of `--gradients` floats whose
/// step computes for `--compute-ms` on `--batch` images per rank: compute + 2(N−1)·α + 2(N−1)/N ·
/// bytes/β, and the images/s that gives. `--bandwidth` (GB/s) and `--latency` (µs) replace the
/// measured values, e.g. with a network's between machines.
enum AllReduceBenchmark {
    static func run(_ arguments: inout Arguments) throws {
        let repeats = try arguments.intOption("repeat", in: 1...10_000) ?? 20
        let largest = try arguments.intOption("max-floats", in: 1...(1 << 28)) ?? (8 << 20)
        let gradients = try arguments.intOption("gradients", in: 1...(1 << 32))
        let computeMilliseconds = try arguments.option("compute-ms").map { try number($0, "--compute-ms") }
        let batch = try arguments.intOption("batch", in: 1...65_536)
        let givenBandwidth = try arguments.option("bandwidth").map { try number($0, "--bandwidth") }
        let givenLatency = try arguments.option("latency").map { try number($0, "--latency") }
        try arguments.finish()

        let communicator = try Communicator.world()
        guard communicator.size > 1 else {
            communicator.finalize()
            throw InvalidInput("allreduce", "needs an MPI job of 2 or more ranks: mpirun -np 2 serkd-bench allreduce")
        }
        let ranks = Double(communicator.size)
        let ring = 2 * (ranks - 1) / ranks
        var sizes: [Int] = []
        var count = 256
        while count <= largest {
            sizes.append(count)
            count *= 4
        }
        let buffer = Tensor(zeros: .float32, [largest])
        var measured: [(floats: Int, seconds: Double)] = []
        for floats in sizes {
            try communicator.barrier()
            let timing = try Timing.measure(repeats: repeats, warmup: 2) { try communicator.allReduceSum(buffer, elements: floats) }
            // The slowest rank's time is the step's.
            let seconds = try communicator.allReduceMax([timing.median])[0]
            measured.append((floats, seconds))
        }
        communicator.finalize()
        guard communicator.isRoot else { return }

        print("MPI_Allreduce (sum, float32, in place) over \(communicator.size) ranks, median of \(repeats):")
        for (floats, seconds) in measured {
            let bytes = Double(floats * 4)
            let label = size(floats * 4).padding(toLength: 10, withPad: " ", startingAt: 0)
            print("  " + label + String(format: " %10.1f µs  bus bandwidth %6.2f GB/s", seconds * 1e6, ring * bytes / seconds / 1e9))
        }
        let latency = givenLatency.map { $0 / 1e6 } ?? measured[0].seconds / (2 * (ranks - 1))
        // β from the message nearest the model's gradients in size (else the largest): what its all-reduce sees.
        let target = Double(gradients ?? largest)
        let nearest = measured.min { abs(log(Double($0.floats) / target)) < abs(log(Double($1.floats) / target)) }!
        let bandwidth = givenBandwidth.map { $0 * 1e9 } ?? ring * Double(nearest.floats * 4) / nearest.seconds
        let latencySource = givenLatency == nil ? "measured" : "given"
        let bandwidthSource = givenBandwidth == nil ? "measured at \(size(nearest.floats * 4))" : "given"
        print(String(format: "model: α = %.1f µs per ring step (", latency * 1e6) + latencySource
              + String(format: "), β = %.2f GB/s bus bandwidth (", bandwidth / 1e9) + bandwidthSource + ")")

        guard let gradients, let computeMilliseconds, let batch else { return }
        let bytes = Double(gradients * 4)
        let compute = computeMilliseconds / 1000
        print("estimate for \(gradients) gradients (\(size(gradients * 4))), \(computeMilliseconds) ms compute on \(batch) images per rank:")
        print("  ranks   all-reduce   step    share   images/s   scaling")
        let single = Double(batch) / compute
        for n in [1, 2, 4, 8, 16, 32, 64] {
            let r = Double(n)
            let reduce = n == 1 ? 0 : 2 * (r - 1) * latency + 2 * (r - 1) / r * bytes / bandwidth
            let step = compute + reduce
            let rate = r * Double(batch) / step
            print(String(format: "  %5d  %8.2f ms  %6.1f ms  %5.1f%%  %9.1f   %5.2f×", n, reduce * 1000, step * 1000, 100 * reduce / step, rate, rate / single))
        }
    }

    /// `64 KiB`, `32 MiB`.
    static func size(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? String(format: "%.1f MiB", Double(bytes) / Double(1 << 20)) : String(format: "%.0f KiB", Double(bytes) / 1024)
    }

    static func number(_ text: String, _ flag: String) throws -> Double {
        guard let value = Double(text), value > 0, value.isFinite else { throw InvalidInput(flag, "'\(text)' is not a positive number") }
        return value
    }
}
