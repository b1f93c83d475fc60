// swift-tools-version:5.9
// serkd: a model converter and static-graph compiler for Semantics-based Relation Knowledge Distillation.
//
// Layers point one way: executables → ONNX/Compiler → GraphIR/Reference/Runtime → Tensor.
import PackageDescription

let package = Package(
    name: "serkd",
    products: [
        .executable(name: "serkd-convert", targets: ["serkd-convert"]),
        .executable(name: "serkd-compile", targets: ["serkd-compile"]),
        .executable(name: "serkd-run", targets: ["serkd-run"]),
        .executable(name: "serkd-bench", targets: ["serkd-bench"]),
    ],
    targets: [
        // C: OpenBLAS resolved with dlopen, so its kernel can be chosen before the library initialises.
        .target(name: "CBLAS", linkerSettings: [.linkedLibrary("dl")]),
        // C: oneDNN's C API resolved with dlopen, so serkd builds and runs without it.
        .target(name: "CDNNL", linkerSettings: [.linkedLibrary("dl")]),
        // C: Open MPI resolved with dlopen, so serkd builds and runs where MPI is not installed.
        .target(name: "CMPI", linkerSettings: [.linkedLibrary("dl")]),
        // C: AVX2 + FMA versions of the exponential kernels, chosen at run time (the Swift build is baseline x86-64).
        .target(name: "CVectorMath"),
        // C: protoc-c output for schemas/*.proto (regenerate with scripts/regenerate-protos.sh).
        .target(name: "CProto", linkerSettings: [.linkedLibrary("protobuf-c")]),

        // C: system zlib (PNG, gzip) and a libjpeg-turbo wrapper that turns its longjmp errors into return codes.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),

        // Dtypes, shapes, storage, .npy files.
        .target(name: "Tensor"),
        // Argument parsing and error reporting shared by the executables.
        .target(name: "CLI", dependencies: ["Tensor"]),
        // The graph IR: ops, shape inference, verifier, text form, .serkd files.
        .target(name: "GraphIR", dependencies: ["Tensor", "CProto"]),
        // Plain, obviously-correct evaluation of every core op: folding and the kernels' yardstick.
        .target(name: "Reference", dependencies: ["GraphIR"]),
        // ONNX ⇄ IR.
        .target(name: "ONNX", dependencies: ["GraphIR", "Reference", "CProto"]),
        // Datasets, image decoding, augmentation, batching.
        .target(name: "Data", dependencies: ["Tensor", "CZlib", "CJPEG"]),
        // Kernels, BLAS, arena, executor, the communicator of data-parallel runs.
        .target(name: "Runtime", dependencies: ["Tensor", "CBLAS", "CDNNL", "CMPI", "CVectorMath"]),
        // Reverse-mode differentiation of IR graphs.
        .target(name: "Autodiff", dependencies: ["GraphIR"]),
        // SeRKD as graph builders: losses, superpixel tokens, models, the training step.
        .target(name: "Distill", dependencies: ["GraphIR", "Autodiff", "Data"]),
        // The training loop, configs, schedules, checkpoints, metrics.
        .target(name: "Train", dependencies: ["Distill", "Data", "Compiler", "Runtime", "ONNX", "GraphIR"]),
        // IR → executable plan: lowering, schedule, memory plan.
        .target(name: "Compiler", dependencies: ["GraphIR", "Runtime"]),

        .executableTarget(name: "serkd-convert", dependencies: ["ONNX", "GraphIR", "CLI"]),
        .executableTarget(name: "serkd-compile", dependencies: ["Compiler", "Train", "Distill", "GraphIR", "ONNX", "CLI"]),
        .executableTarget(name: "serkd-run", dependencies: ["Compiler", "Runtime", "GraphIR", "ONNX", "Data", "Train", "CLI"]),
        .executableTarget(name: "serkd-bench", dependencies: ["Compiler", "Runtime", "GraphIR", "ONNX", "Distill", "Data", "Train", "CBLAS", "CLI"]),

        // The built executables run in a subprocess, shared by the tool tests of several modules.
        .target(name: "BuiltTools", path: "Tests/BuiltTools"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "CLITests", dependencies: ["CLI", "Tensor"]),
        .testTarget(name: "GraphIRTests", dependencies: ["GraphIR", "CProto"]),
        .testTarget(name: "ReferenceTests", dependencies: ["Reference"]),
        .testTarget(name: "ONNXTests", dependencies: ["ONNX", "Reference", "BuiltTools"]),
        .testTarget(name: "DataTests", dependencies: ["Data"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "Reference"]),
        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff", "Reference", "Compiler", "Runtime"]),
        .testTarget(name: "DistillTests", dependencies: ["Distill", "Autodiff", "Reference", "Compiler", "Runtime", "ONNX", "Data"]),
        .testTarget(name: "TrainTests", dependencies: ["Train", "Distill", "Data", "Compiler", "Runtime", "GraphIR", "ONNX", "BuiltTools"]),
        .testTarget(name: "CompilerTests", dependencies: ["Compiler", "Reference", "ONNX", "BuiltTools"]),
    ]
)
