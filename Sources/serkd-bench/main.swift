import CLI
import Tensor

let usage = """
    usage: serkd-bench <benchmark> [options]

    benchmarks:
      conv [--batch B] [--repeat R]     forward convolutions of ResNet and MobileNet layers on OpenBLAS and oneDNN
      linear [--batch B] [--repeat R]   linear layers of ViT-B, DeiT-S/Ti and ResNet on OpenBLAS and oneDNN (packed weights)
      gemm [--size N | --m M --n N --k K] [--transpose-a] [--transpose-b] [--repeat R]
                                        cblas_sgemm through serkd's BLAS loader: GFLOP/s and the kernel
      infer MODEL [--batch B] [--repeat R] [--warmup W]
                                        latency of a model (.serkd, .onnx, or IR text form .txt) on random input
                                        (median, min; one line of JSON with --json)
      rkd-angle [--batch B] [--tokens N] [--width D] [--chunk C] [--repeat R] [--json]
                                        RKD angle loss forward+backward (Gram form): time, arena, max RSS
      train-step [--student NAME] [--teacher NAME] [--batch B] [--image-size S] [--disable-pass NAME]… [--repeat R] [--profile] [--json]
                                        one compiled SeRKD training step of zoo models: kernels, arena, step time, max RSS
    """

Tool.main("serkd-bench") {
    var arguments = try Arguments(Array(CommandLine.arguments.dropFirst()), flags: ["help", "json", "profile", "transpose-a", "transpose-b"])
    switch arguments.optionalPositional() {
    case "conv": try ConvolutionBenchmark.run(&arguments)
    case "linear": try LinearBenchmark.run(&arguments)
    case "gemm": try GemmBenchmark.run(&arguments)
    case "infer": try InferenceBenchmark.run(&arguments)
    case "rkd-angle": try RKDAngleBenchmark.run(&arguments)
    case "train-step": try TrainStepBenchmark.run(&arguments)
    case nil, "help": print(usage)
    case let name?: throw InvalidInput(nil, "unknown benchmark '\(name)' (try --help)")
    }
}
