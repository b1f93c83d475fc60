import CBLAS
import Foundation

/// The BLAS library serkd runs its GEMMs on, and the kernel it chose.
///
/// OpenBLAS reads `OPENBLAS_CORETYPE` once, when it loads. Debian's build does not know recent CPUs
/// and falls back to a slow SSE3 kernel (5× slower GEMM on an AVX-512 machine), so serkd loads the
/// library itself, after choosing the core type from the CPU's features. A core type set by the user
/// in the environment is always respected. The choice is then checked against a plain reference
/// GEMM: if a kernel computes wrong results on this processor, the process restarts itself with the
/// next candidate.
public enum BLAS {
    /// How the library was loaded.
    public struct Selection: Sendable {
        /// The core type OpenBLAS reports it is using (e.g. "SkylakeX").
        public var coreName: String
        /// Where the choice came from: the user's environment, serkd's CPU check, or OpenBLAS itself.
        public var reason: String
        /// OpenBLAS's build configuration string.
        public var config: String
        /// Number of BLAS threads.
        public var threads: Int
    }

    /// Loads OpenBLAS on first use and returns what was chosen. Exits with a one-line error when no
    /// BLAS library can be loaded or none computes correct results.
    public static var selection: Selection { loaded }

    /// Runs `body` with the library to itself. OpenBLAS's thread count is one setting for the whole
    /// process and its results depend on it (a 200³ product differs in the last bits between one and
    /// two threads), so kernels that change it, and executor runs that rely on it, hold this lock:
    /// two executors in one process then compute what each computes alone. Reentrant on one thread.
    public static func exclusively<Result>(_ body: () throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private static let lock = NSRecursiveLock()

    private static let rejectedVariable = "SERKD_BLAS_REJECTED"

    private static let loaded: Selection = {
        ThreadPolicy.apply()
        let environment = ProcessInfo.processInfo.environment
        let rejected = Set((environment[rejectedVariable] ?? "").split(separator: ",").map(String.init))
        var reason: String
        var chosen: String?
        if let user = environment["OPENBLAS_CORETYPE"], !user.isEmpty, !rejected.contains(user) {
            chosen = user
            reason = "OPENBLAS_CORETYPE from the environment"
        } else {
            let candidates = coreCandidates(features: serkd_cpu_features())
            chosen = candidates.first { !rejected.contains($0.core) }?.core
            reason = candidates.first { $0.core == chosen }?.why ?? "OpenBLAS's own CPU detection"
            if let chosen { setenv("OPENBLAS_CORETYPE", chosen, 1) } else { unsetenv("OPENBLAS_CORETYPE") }
        }
        if !rejected.isEmpty { reason += " (rejected as incorrect here: \(rejected.sorted().joined(separator: ", ")))" }

        var message = [CChar](repeating: 0, count: 512)
        let paths = ["libopenblas.so.0", "libopenblas.so", "/usr/lib/x86_64-linux-gnu/libopenblas.so.0"]
        guard paths.contains(where: { serkd_blas_open($0, &message, message.count) == 0 }) else {
            fail("cannot load OpenBLAS (\(String(cString: message))); install it with: apt-get install libopenblas-dev")
        }
        let threads = Parallel.coresPerProcess
        if environment["OPENBLAS_NUM_THREADS"] == nil { serkd_blas_set_threads(Int32(threads)) }

        if !selfTestPasses() {
            let core = chosen ?? String(cString: serkd_blas_corename())
            restart(rejecting: rejected.union([core]))
        }
        return Selection(coreName: String(cString: serkd_blas_corename()), reason: reason,
                         config: String(cString: serkd_blas_config()).trimmingCharacters(in: .whitespaces),
                         threads: Int(serkd_blas_threads()))
    }()

    /// Core types worth trying on a CPU, fastest first, each with the reason it applies.
    static func coreCandidates(features: UInt32) -> [(core: String, why: String)] {
        let avx512: UInt32 = UInt32(SERKD_CPU_AVX512F | SERKD_CPU_AVX512BW | SERKD_CPU_AVX512DQ | SERKD_CPU_AVX512VL)
        let avx2: UInt32 = UInt32(SERKD_CPU_AVX2 | SERKD_CPU_FMA)
        var candidates: [(String, String)] = []
        if features & avx512 == avx512 { candidates.append(("SkylakeX", "CPU has AVX-512 F/BW/DQ/VL")) }
        if features & avx2 == avx2 { candidates.append(("Haswell", "CPU has AVX2 and FMA")) }
        return candidates
    }

    /// Compares the loaded sgemm with a float64 reference on awkward sizes, all four transpose cases,
    /// with alpha and beta. Wrong kernels produce errors orders of magnitude above this tolerance.
    static func selfTestPasses() -> Bool {
        let (m, n, k) = (67, 45, 83)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int(state >> 40) % 2001 - 1000) / 1000
        }
        let a = (0..<(m * k)).map { _ in next() }
        let b = (0..<(k * n)).map { _ in next() }
        let c0 = (0..<(m * n)).map { _ in next() }
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            var c = c0
            let lda = ta ? m : k, ldb = tb ? k : n
            serkd_sgemm(Int32(SERKD_ROW_MAJOR), Int32(ta ? SERKD_TRANS : SERKD_NO_TRANS),
                        Int32(tb ? SERKD_TRANS : SERKD_NO_TRANS), Int32(m), Int32(n), Int32(k), 0.5,
                        a, Int32(lda), b, Int32(ldb), 2, &c, Int32(n))
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0
                    for p in 0..<k {
                        let av = Double(ta ? a[p * m + i] : a[i * k + p])
                        let bv = Double(tb ? b[j * k + p] : b[p * n + j])
                        sum += av * bv
                    }
                    let expected = 0.5 * sum + 2 * Double(c0[i * n + j])
                    if abs(Double(c[i * n + j]) - expected) > 1e-4 * max(1, abs(expected)) { return false }
                }
            }
        }
        return true
    }

    /// Re-executes this program with the failing core type excluded; the kernel cannot be changed
    /// once OpenBLAS has initialised in this process.
    private static func restart(rejecting rejected: Set<String>) -> Never {
        setenv(rejectedVariable, rejected.sorted().joined(separator: ","), 1)
        unsetenv("OPENBLAS_CORETYPE")
        let arguments = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        fail("OpenBLAS computes wrong results with core type(s) \(rejected.sorted().joined(separator: ", ")) and serkd could not restart itself")
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("serkd: \(message)\n".utf8))
        exit(70)
    }
}
