import CBLAS
import CLI
import Foundation
import Runtime

/// Prints what a bug report needs: serkd's version, the CPU, which BLAS kernel was chosen and why,
/// which ops oneDNN runs (with its ISA), and whether MPI is available.
func printVersion() {
    let blas = BLAS.selection
    print("serkd-run \(Tool.version)")
    print("cpu: \(String(cString: serkd_cpu_brand()).trimmingCharacters(in: .whitespaces)), \(Parallel.threadCount) threads")
    print("blas: OpenBLAS core \(blas.coreName) (\(blas.reason)), \(blas.threads) threads")
    print("blas build: \(blas.config)")
    print("dnnl: \(OneDNN.status)")
    if OneDNN.library == nil {
        print("backends: serkd's kernels and OpenBLAS for every op")
    } else {
        func list(_ items: [String]) -> String { items.dropLast().joined(separator: ", ") + (items.count > 1 ? " and " : "") + (items.last ?? "") }
        let inference = list(["convolutions", "linear layers"] + (Backend.attention == .oneDNN ? ["attention"] : []))
        let training = list((Backend.trainingStepLinearLayers ? ["linear layers"] : []) + (Backend.trainingStepConvolutions ? ["the teacher's convolutions"] : []))
        print("backends: oneDNN for the \(inference) of inference plans" + (training.isEmpty ? "" : " and the \(training) of training steps")
              + ", serkd's kernels and OpenBLAS for the rest")
    }
    print("mpi: \(Communicator.availability)")
}
