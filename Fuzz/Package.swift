// swift-tools-version:5.3
// libFuzzer targets for every reader of files users share: ONNX models, .serkd models, plans, .npy
// arrays, PNG and JPEG images, run configs and safetensors. Build and run with Fuzz/build.sh and
// Fuzz/run.sh; crashers go to Tests/Fixtures/hostile/, which the main test suite replays.
//
// A package of its own, at tools 5.3 as swift-protobuf's FuzzTesting is: with tools 5.9 SwiftPM does
// not link `-sanitize=fuzzer` executables. The library sources are the main package's, through the
// symlinks in Sources/.
import PackageDescription

let package = Package(
    name: "serkd-fuzz",
    targets: [
        .target(name: "CBLAS", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CDNNL", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CMPI", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CVectorMath"),
        .target(name: "CProto", linkerSettings: [.linkedLibrary("protobuf-c")]),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),
        .target(name: "Tensor"),
        .target(name: "GraphIR", dependencies: ["Tensor", "CProto"]),
        .target(name: "Reference", dependencies: ["GraphIR"]),
        .target(name: "ONNX", dependencies: ["GraphIR", "Reference", "CProto"]),
        .target(name: "Data", dependencies: ["Tensor", "CZlib", "CJPEG"]),
        .target(name: "Runtime", dependencies: ["Tensor", "CBLAS", "CDNNL", "CMPI", "CVectorMath"]),
        .target(name: "Autodiff", dependencies: ["GraphIR"]),
        .target(name: "Distill", dependencies: ["GraphIR", "Autodiff", "Data"]),
        .target(name: "Compiler", dependencies: ["GraphIR", "Runtime"]),
        .target(name: "Train", dependencies: ["Distill", "Data", "Compiler", "Runtime", "ONNX", "GraphIR"]),

        .target(name: "FuzzInput", dependencies: ["Tensor"], path: "Targets/FuzzInput"),
        .target(name: "FuzzONNX", dependencies: ["ONNX", "FuzzInput"], path: "Targets/FuzzONNX"),
        .target(name: "FuzzModel", dependencies: ["Compiler", "FuzzInput"], path: "Targets/FuzzModel"),
        .target(name: "FuzzPlan", dependencies: ["Compiler", "Runtime", "FuzzInput"], path: "Targets/FuzzPlan"),
        .target(name: "FuzzNumPy", dependencies: ["Tensor"], path: "Targets/FuzzNumPy"),
        .target(name: "FuzzPNG", dependencies: ["Data"], path: "Targets/FuzzPNG"),
        .target(name: "FuzzJPEG", dependencies: ["Data"], path: "Targets/FuzzJPEG"),
        .target(name: "FuzzRunConfig", dependencies: ["Train"], path: "Targets/FuzzRunConfig"),
        .target(name: "FuzzSafeTensors", dependencies: ["ONNX", "FuzzInput"], path: "Targets/FuzzSafeTensors"),
    ]
)
