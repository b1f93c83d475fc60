import Foundation

/// One thread budget for the three pools that share the cores: serkd's own (`Parallel`), OpenBLAS's
/// and oneDNN's OpenMP team.
///
/// They never run at the same time (kernels run one after another), so each may use every core.
/// Between regions a pool's threads either spin, stealing the cores from the next pool, or sleep,
/// and pay a wake-up on the next region. On a virtual machine that wake-up is an inter-processor
/// interrupt through the hypervisor: with OpenMP's threads sleeping at once (`OMP_WAIT_POLICY=PASSIVE`)
/// ResNet-18 and DeiT-Ti at batch 1 ran 1.5–2× slower than with them spinning (Zen 5, 2 cores,
/// alternating runs), since each of their ~100 oneDNN regions waited for its workers. So both
/// libraries spin for a bounded time and then sleep: OpenMP (libgomp) for 30,000 spins
/// (`GOMP_SPINCOUNT`, well under a millisecond), OpenBLAS for 2²⁰ cycles (~0.3 ms): far longer than
/// the gap between two kernels, far shorter than a convolution, so nothing spins for long while
/// another pool works. The libraries read these variables once, when they load, so `apply` runs
/// before either is opened; a value the user set is kept, and `OMP_WAIT_POLICY`, when set, wins
/// over the spin count as libgomp defines it.
enum ThreadPolicy {
    /// Sets the variables, once per process.
    static func apply() { _ = applied }

    private static let applied: Void = {
        let environment = ProcessInfo.processInfo.environment
        let defaults = [
            "OMP_NUM_THREADS": String(Parallel.threadCount),
            "GOMP_SPINCOUNT": "30000",
            "OPENBLAS_THREAD_TIMEOUT": "20",
        ]
        for (name, value) in defaults where environment[name] == nil { setenv(name, value, 1) }
    }()
}
