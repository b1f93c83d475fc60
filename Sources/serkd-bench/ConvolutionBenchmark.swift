import CLI
import Foundation
import Runtime
import Tensor

/// Forward convolution on both backends, same process, alternating: serkd's kernels over OpenBLAS
/// against oneDNN with weights packed once. The numbers behind `Backend.convolution`.
enum ConvolutionBenchmark {
    /// A named convolution shape: input [N, C, H, W], filters M, kernel k×k, stride, padding, groups.
    struct Shape {
        var name: String
        var channels: Int, size: Int, filters: Int, kernel: Int, stride = 1, groups = 1

        func geometry(batch: Int) -> Conv2D.Geometry {
            let pad = kernel / 2
            return Conv2D.Geometry(input: [batch, channels, size, size], weight: [filters, channels / groups, kernel, kernel],
                                   strides: [stride, stride], pads: [pad, pad, pad, pad], groups: groups, hasBias: true, activation: .relu)
        }
    }

    /// ResNet-18/101 and MobileNetV3-Large layers at 224×224.
    static let shapes: [Shape] = [
        Shape(name: "resnet stem 7x7/2", channels: 3, size: 224, filters: 64, kernel: 7, stride: 2),
        Shape(name: "resnet 3x3 c64 56", channels: 64, size: 56, filters: 64, kernel: 3),
        Shape(name: "resnet 3x3 c128 28", channels: 128, size: 28, filters: 128, kernel: 3),
        Shape(name: "resnet 3x3 c256 14", channels: 256, size: 14, filters: 256, kernel: 3),
        Shape(name: "resnet 3x3 c512 7", channels: 512, size: 7, filters: 512, kernel: 3),
        Shape(name: "resnet 1x1 c256>64 56", channels: 256, size: 56, filters: 64, kernel: 1),
        Shape(name: "resnet 1x1 c1024>256 14", channels: 1024, size: 14, filters: 256, kernel: 1),
        Shape(name: "resnet 1x1 c512>2048 7", channels: 512, size: 7, filters: 2048, kernel: 1),
        Shape(name: "mobilenet dw 3x3 c64 112/2", channels: 64, size: 112, filters: 64, kernel: 3, stride: 2, groups: 64),
        Shape(name: "mobilenet dw 5x5 c120 28", channels: 120, size: 28, filters: 120, kernel: 5, groups: 120),
        Shape(name: "mobilenet dw 3x3 c480 14", channels: 480, size: 14, filters: 480, kernel: 3, groups: 480),
        Shape(name: "mobilenet 1x1 c40>120 28", channels: 40, size: 28, filters: 120, kernel: 1),
        Shape(name: "mobilenet 1x1 c960>160 7", channels: 960, size: 7, filters: 160, kernel: 1),
        Shape(name: "grouped 3x3 c128 g32 28", channels: 128, size: 28, filters: 128, kernel: 3, groups: 32),
    ]

    static func run(_ arguments: inout Arguments) throws {
        let batch = try arguments.intOption("batch", in: 1...512) ?? 1
        let repeats = try arguments.intOption("repeat", in: 1...1000) ?? 10
        try arguments.finish()
        print("forward convolution, batch \(batch), median of \(repeats) alternating runs; \(OneDNN.status)")
        print("\("shape".padding(toLength: 28, withPad: " ", startingAt: 0)) \("class".padding(toLength: 10, withPad: " ", startingAt: 0))"
              + "  OpenBLAS ms  GFLOP/s   oneDNN ms  GFLOP/s  speed-up  oneDNN kernel")
        for shape in shapes {
            let g = shape.geometry(batch: batch)
            let input = Tensor(zeros: .float32, [g.batch, g.inputChannels, g.inputHeight, g.inputWidth])
            let weight = Tensor(zeros: .float32, [g.outputChannels, g.inputChannels / g.groups, g.kernelHeight, g.kernelWidth])
            let bias = Tensor(zeros: .float32, [g.outputChannels])
            let output = Tensor(zeros: .float32, [g.batch, g.outputChannels, g.outputHeight, g.outputWidth])
            func floats(_ t: Tensor) -> UnsafeMutablePointer<Float> { t.rawPointer.assumingMemoryBound(to: Float.self) }
            for t in [input, weight] {
                for j in 0..<t.shape.elementCount { floats(t)[j] = Float(j % 13) / 13 - 0.5 }
            }
            let (x, w, b, y) = (UnsafePointer(floats(input)), UnsafePointer(floats(weight)), UnsafePointer(floats(bias)), floats(output))
            let workspace = TensorStorage(byteCount: g.workspaceBytes)
            let dnnl = DNNLConvolution(g, frozenWeights: w)
            let scratch = TensorStorage(byteCount: dnnl?.scratchBytes ?? 0)
            var openBLAS = Timing(), oneDNN = Timing()
            for round in 0..<(repeats + 1) {
                let start = DispatchTime.now().uptimeNanoseconds
                Conv2D.run(g, input: x, weight: w, bias: b, output: y, workspace: workspace.base)
                let middle = DispatchTime.now().uptimeNanoseconds
                try dnnl?.run(input: x, weight: w, bias: b, output: y, scratch: scratch.base)
                let end = DispatchTime.now().uptimeNanoseconds
                if round > 0 {
                    openBLAS.seconds.append(Double(middle - start) / 1e9)
                    oneDNN.seconds.append(Double(end - middle) / 1e9)
                }
            }
            let flops = 2.0 * Double(g.batch * g.outputChannels * g.outputHeight * g.outputWidth) * Double(g.inputChannels / g.groups * g.kernelHeight * g.kernelWidth)
            func ms(_ t: Timing) -> String { String(format: "%11.3f", t.median * 1000) }
            func rate(_ t: Timing) -> String { String(format: "%8.1f", flops / t.median / 1e9) }
            let name = shape.name.padding(toLength: 28, withPad: " ", startingAt: 0)
            let kind = Backend.classify(g).rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
            if let dnnl {
                print("\(name) \(kind)  \(ms(openBLAS)) \(rate(openBLAS))  \(ms(oneDNN)) \(rate(oneDNN))  \(String(format: "%7.2f", openBLAS.median / oneDNN.median))×  \(dnnl.implementation)")
            } else {
                print("\(name) \(kind)  \(ms(openBLAS)) \(rate(openBLAS))           -        -         -  (no oneDNN)")
            }
        }
    }
}
