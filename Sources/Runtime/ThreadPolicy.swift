import Foundation

/// One thread budget for the three pools that share the cores: serkd's own (`Parallel`), OpenBLAS's
/// and oneDNN's OpenMP team.
///
/// They never run at the same time (kernels run one after another), so each may use every core, but
/// a pool that spins after its work steals the cores from the next: OpenMP by default spins for
/// milliseconds after each parallel region and OpenBLAS's workers for about 2²⁸ cycles (~0.1 s) after
/// each GEMM. The policy gives OpenMP `Parallel.threadCount` threads that sleep as soon as a region
/// ends, and caps OpenBLAS's spin at 2²⁰ cycles (~0.3 ms, far longer than a wake-up, far shorter
/// than a convolution). The libraries read these variables once, when they load, so `apply` runs
/// before either is opened; a value the user set is kept.
enum ThreadPolicy {
    /// Sets the variables, once per process.
    static func apply() { _ = applied }

    private static let applied: Void = {
        let environment = ProcessInfo.processInfo.environment
        let defaults = [
            "OMP_NUM_THREADS": String(Parallel.threadCount),
            "OMP_WAIT_POLICY": "PASSIVE",
            "OPENBLAS_THREAD_TIMEOUT": "20",
        ]
        for (name, value) in defaults where environment[name] == nil { setenv(name, value, 1) }
    }()
}
