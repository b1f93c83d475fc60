import CBLAS
import CLI
import Foundation
import Runtime

/// Prints what a bug report needs: serkd's version, the CPU, which BLAS kernel was chosen and why,
/// whether oneDNN runs the convolutions (with its ISA), and whether MPI is available.
func printVersion() {
    let blas = BLAS.selection
    print("serkd-run \(Tool.version)")
    print("cpu: \(String(cString: serkd_cpu_brand()).trimmingCharacters(in: .whitespaces)), \(Parallel.threadCount) threads")
    print("blas: OpenBLAS core \(blas.coreName) (\(blas.reason)), \(blas.threads) threads")
    print("blas build: \(blas.config)")
    print("dnnl: \(OneDNN.status)")
    print(OneDNN.library == nil ? "backends: serkd's kernels and OpenBLAS for every op"
          : "backends: oneDNN for the convolutions of inference plans, serkd's kernels and OpenBLAS for the rest")
    print("mpi: \(Communicator.availability)")
}
