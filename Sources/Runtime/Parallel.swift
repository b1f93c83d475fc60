import Dispatch
import Foundation

/// Splits loops across the machine's cores.
///
/// Kernels call `Parallel.forEach` with a count of independent work items and a grain (the smallest
/// number of items worth giving a thread); small loops run inline on the caller, so a kernel never
/// pays thread hand-off for a few hundred elements.
public enum Parallel {
    /// Threads used by serkd's own kernels: `SERKD_THREADS`, else this process's share of the cores.
    public static let threadCount: Int = {
        if let text = ProcessInfo.processInfo.environment["SERKD_THREADS"], let n = Int(text), n > 0 { return n }
        return coresPerProcess
    }()

    /// The active cores divided among the MPI ranks on this machine (all of them outside an MPI job),
    /// so that `mpirun -np 2` on two cores runs two single-threaded ranks rather than four threads.
    public static let coresPerProcess: Int = {
        let environment = ProcessInfo.processInfo.environment
        let local = (environment["OMPI_COMM_WORLD_LOCAL_SIZE"] ?? environment["PMIX_LOCAL_SIZE"]).flatMap(Int.init) ?? 1
        return max(1, ProcessInfo.processInfo.activeProcessorCount / max(local, 1))
    }()

    /// Calls `body` on disjoint ranges covering `0..<count`, concurrently when there is enough work.
    /// `grain` is the minimum number of items per range.
    @inlinable
    public static func forEach(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let chunks = min(threadCount, max(1, count / max(grain, 1)))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = count * chunk / chunks
                let end = count * (chunk + 1) / chunks
                body(start..<end)
            }
        }
    }
}
