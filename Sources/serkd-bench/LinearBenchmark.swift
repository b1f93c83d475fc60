import CLI
import Foundation
import Runtime
import Tensor

/// Linear layers (C = A·Bᵀ + bias, B frozen) on both backends, same process, alternating: serkd's
/// GEMM over OpenBLAS against oneDNN's matmul with B packed once. The numbers behind `Backend.linear`.
enum LinearBenchmark {
    /// A named layer: rows per image, input and output features.
    struct Layer {
        var name: String
        var tokens: Int, inputs: Int, outputs: Int
    }

    /// ViT-B/16, DeiT-S and DeiT-Ti blocks at 224×224, and ResNet's classifier.
    static let layers: [Layer] = [
        Layer(name: "vit-b qkv 768>2304", tokens: 197, inputs: 768, outputs: 2304),
        Layer(name: "vit-b proj 768>768", tokens: 197, inputs: 768, outputs: 768),
        Layer(name: "vit-b fc1 768>3072", tokens: 197, inputs: 768, outputs: 3072),
        Layer(name: "vit-b fc2 3072>768", tokens: 197, inputs: 3072, outputs: 768),
        Layer(name: "deit-s qkv 384>1152", tokens: 198, inputs: 384, outputs: 1152),
        Layer(name: "deit-s fc2 1536>384", tokens: 198, inputs: 1536, outputs: 384),
        Layer(name: "deit-ti qkv 192>576", tokens: 198, inputs: 192, outputs: 576),
        Layer(name: "deit-ti proj 192>192", tokens: 198, inputs: 192, outputs: 192),
        Layer(name: "deit-ti fc1 192>768", tokens: 198, inputs: 192, outputs: 768),
        Layer(name: "deit-ti fc2 768>192", tokens: 198, inputs: 768, outputs: 192),
        Layer(name: "resnet fc 2048>1000", tokens: 1, inputs: 2048, outputs: 1000),
    ]

    static func run(_ arguments: inout Arguments) throws {
        let batch = try arguments.intOption("batch", in: 1...512) ?? 1
        let repeats = try arguments.intOption("repeat", in: 1...1000) ?? 10
        try arguments.finish()
        print("linear layers (A·Bᵀ + bias), batch \(batch), median of \(repeats) alternating runs; \(OneDNN.status)")
        print("\("layer".padding(toLength: 24, withPad: " ", startingAt: 0))  OpenBLAS ms  GFLOP/s   oneDNN ms  GFLOP/s  speed-up  oneDNN kernel")
        for layer in layers {
            let m = batch * layer.tokens
            let g = Gemm.Geometry(a: [m, layer.inputs], b: [layer.outputs, layer.inputs], transposeB: true,
                                  epilogue: Epilogue(bias: .perColumn))
            let a = Tensor(zeros: .float32, [m, layer.inputs]), b = Tensor(zeros: .float32, [layer.outputs, layer.inputs])
            let bias = Tensor(zeros: .float32, [layer.outputs]), c = Tensor(zeros: .float32, [m, layer.outputs])
            func floats(_ t: Tensor) -> UnsafeMutablePointer<Float> { t.rawPointer.assumingMemoryBound(to: Float.self) }
            for t in [a, b] {
                for j in 0..<t.shape.elementCount { floats(t)[j] = Float(j % 11) / 11 - 0.5 }
            }
            let dnnl = DNNLMatmul(g, frozenWeights: floats(b))
            var openBLAS = Timing(), oneDNN = Timing()
            for round in 0..<(repeats + 1) {
                let start = DispatchTime.now().uptimeNanoseconds
                Gemm.multiply(g, floats(a), floats(b), bias: floats(bias), into: floats(c))
                let middle = DispatchTime.now().uptimeNanoseconds
                try dnnl?.run(floats(a), bias: floats(bias), into: floats(c))
                let end = DispatchTime.now().uptimeNanoseconds
                if round > 0 {
                    openBLAS.seconds.append(Double(middle - start) / 1e9)
                    oneDNN.seconds.append(Double(end - middle) / 1e9)
                }
            }
            let flops = 2.0 * Double(m) * Double(layer.inputs) * Double(layer.outputs)
            func ms(_ t: Timing) -> String { String(format: "%11.3f", t.median * 1000) }
            func rate(_ t: Timing) -> String { String(format: "%8.1f", flops / t.median / 1e9) }
            let name = layer.name.padding(toLength: 24, withPad: " ", startingAt: 0)
            if let dnnl {
                print("\(name)  \(ms(openBLAS)) \(rate(openBLAS))  \(ms(oneDNN)) \(rate(oneDNN))  \(String(format: "%7.2f", openBLAS.median / oneDNN.median))×  \(dnnl.implementation)")
            } else {
                print("\(name)  \(ms(openBLAS)) \(rate(openBLAS))           -        -         -  (no oneDNN)")
            }
        }
    }
}
