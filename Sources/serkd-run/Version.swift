import CBLAS
import Runtime

/// The program's version.
let serkdVersion = "0.1.0"

/// Prints what a bug report needs: serkd's version, the CPU, which BLAS kernel was chosen and why,
/// and whether oneDNN runs the convolutions, with its ISA.
func printVersion() {
    let blas = BLAS.selection
    print("serkd-run \(serkdVersion)")
    print("cpu: \(String(cString: serkd_cpu_brand()).trimmingCharacters(in: .whitespaces)), \(Parallel.threadCount) threads")
    print("blas: OpenBLAS core \(blas.coreName) (\(blas.reason)), \(blas.threads) threads")
    print("blas build: \(blas.config)")
    print("dnnl: \(OneDNN.status)")
    print(OneDNN.library == nil ? "backends: serkd's kernels and OpenBLAS for every op"
          : "backends: oneDNN for the convolutions and linear layers of inference plans, serkd's kernels and OpenBLAS for the rest")
}

import Foundation
