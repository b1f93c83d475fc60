import CLI
import Tensor

let usage = """
    usage: serkd-bench BENCHMARK [OPTIONS]

    benchmarks:
      allreduce     under mpirun -np N: MPI_Allreduce time and bus bandwidth, and an N-rank step estimate
      conv          forward convolutions of ResNet and MobileNet layers on OpenBLAS and oneDNN
      gemm          cblas_sgemm through serkd's BLAS loader: GFLOP/s and the kernel
      linear        linear layers of ViT-B, DeiT-S/Ti and ResNet on OpenBLAS and oneDNN (packed weights)
      infer MODEL   latency of a model (.serkd, .onnx, or IR text form .txt) on random input
      rkd-angle     RKD angle loss forward+backward (Gram form): time, arena, max RSS
      train-step    one compiled SeRKD training step of zoo or ONNX models: kernels, arena, step time, max RSS

    serkd-bench BENCHMARK --help (or -h) lists its options. Measure release builds.
    """

Tool.main("serkd-bench", usage: usage, commands: [
    Command("allreduce", usage: """
        usage: serkd-bench allreduce [--repeat R] [--max-floats N] [--gradients G --compute-ms T --batch B]
                                     [--bandwidth GB/s] [--latency µs]

        Under mpirun -np N: MPI_Allreduce time and bus bandwidth by size, and an estimated step time
        and images/s on more ranks for a model of G gradients.
        """, syntax: Syntax(options: ["repeat", "max-floats", "gradients", "compute-ms", "batch", "bandwidth", "latency"]),
        run: AllReduceBenchmark.run),
    Command("conv", usage: """
        usage: serkd-bench conv [--batch B] [--repeat R]

        Forward convolutions of ResNet and MobileNet layers on OpenBLAS and oneDNN: time and GFLOP/s.
        """, syntax: Syntax(options: ["batch", "repeat"]), run: ConvolutionBenchmark.run),
    Command("gemm", usage: """
        usage: serkd-bench gemm [--size N | --m M --n N --k K] [--transpose-a] [--transpose-b] [--repeat R]

        cblas_sgemm through serkd's BLAS loader: GFLOP/s (median, best) and the kernel in use.
        """, syntax: Syntax(flags: ["transpose-a", "transpose-b"], options: ["size", "m", "n", "k", "repeat"]), run: GemmBenchmark.run),
    Command("linear", usage: """
        usage: serkd-bench linear [--batch B] [--repeat R]

        Linear layers of ViT-B, DeiT-S/Ti and ResNet's classifier on OpenBLAS and on oneDNN with packed
        weights: time and GFLOP/s.
        """, syntax: Syntax(options: ["batch", "repeat"]), run: LinearBenchmark.run),
    Command("infer", usage: """
        usage: serkd-bench infer MODEL [--batch B] [--repeat R] [--warmup W] [--json]

        Latency of MODEL (.serkd, .onnx, or IR text form .txt) on random input: median and minimum,
        or one line of JSON with --json.
        """, syntax: Syntax(flags: ["json"], options: ["batch", "repeat", "warmup"]), run: InferenceBenchmark.run),
    Command("rkd-angle", usage: """
        usage: serkd-bench rkd-angle [--batch B] [--tokens N] [--width D] [--chunk C] [--repeat R] [--warmup W] [--json]

        The RKD angle loss forward and backward (Gram form): time, arena, max RSS.
        """, syntax: Syntax(flags: ["json"], options: ["batch", "tokens", "width", "chunk", "repeat", "warmup"]), run: RKDAngleBenchmark.run),
    Command("train-step", usage: """
        usage: serkd-bench train-step [--student NAME|FILE.onnx] [--teacher NAME|FILE.onnx] [--batch B] [--image-size S] [--classes C (zoo presets)]
                                      [--disable-pass NAME]… [--repeat R] [--warmup W] [--profile] [--json]

        One compiled SeRKD training step of zoo presets (default deit_tiny_distilled ← vit_base_mae)
        or ONNX models (taps inferred as `serkd-run train` infers them): kernels, arena, step time, max RSS.
        """, syntax: Syntax(flags: ["json", "profile"], options: ["student", "teacher", "batch", "image-size", "classes", "disable-pass", "repeat", "warmup"]),
        run: TrainStepBenchmark.run),
])
