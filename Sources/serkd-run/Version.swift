import CBLAS
import CLI
import Foundation
import Runtime

/// Prints what a bug report needs: serkd's version, the CPU, and which BLAS kernel was chosen and why.
func printVersion() {
    let blas = BLAS.selection
    print("serkd-run \(Tool.version)")
    print("cpu: \(String(cString: serkd_cpu_brand()).trimmingCharacters(in: .whitespaces)), \(Parallel.threadCount) threads")
    print("blas: OpenBLAS core \(blas.coreName) (\(blas.reason)), \(blas.threads) threads")
    print("blas build: \(blas.config)")
}
