import CBLAS
import Runtime

/// The program's version.
let serkdVersion = "0.1.0"

/// Prints what a bug report needs: serkd's version, the CPU, and which BLAS kernel was chosen and why.
func printVersion() {
    let blas = BLAS.selection
    print("serkd-run \(serkdVersion)")
    print("cpu: \(String(cString: serkd_cpu_brand()).trimmingCharacters(in: .whitespaces)), \(Parallel.threadCount) threads")
    print("blas: OpenBLAS core \(blas.coreName) (\(blas.reason)), \(blas.threads) threads")
    print("blas build: \(blas.config)")
    print("mpi: \(Communicator.availability)")
}

import Foundation
