import GraphIR

/// A ResNet of BasicBlocks (torchvision's ResNet-18/34 family), built as an inference graph with
/// torchvision's semantics and parameter names.
///
/// Stem, then `layer1`…`layerN` (the first block of each later layer halves the map with a strided
/// 3×3 conv and a 1×1 conv + BatchNorm `downsample` shortcut), global average pool, `fc`.
public struct ResNet: Hashable, Sendable, Codable {
    /// The layers before `layer1`.
    public enum Stem: String, Hashable, Sendable, Codable, CaseIterable {
        /// torchvision: 7×7 stride-2 `conv1`, `bn1`, ReLU, 3×3 stride-2 max pool (224 px inputs).
        case imageNet
        /// CIFAR-style: 3×3 stride-1 `conv1`, `bn1`, ReLU, no max pool (28–32 px inputs). The
        /// parameter names are torchvision's, with a 3×3 `conv1.weight`.
        case smallImages
    }

    /// Input side in pixels (square images).
    public var imageSize: Int
    /// Input channels: 1 (grayscale) or 3.
    public var channels: Int
    public var classes: Int
    /// BasicBlocks per layer: [2, 2, 2, 2] is ResNet-18, [3, 4, 6, 3] ResNet-34.
    public var blocks: [Int]
    /// Output channels of each layer; the stem has the first layer's width.
    public var widths: [Int]
    public var stem: Stem
    /// BatchNorm epsilon (PyTorch's default 1e-5).
    public var batchNormEpsilon: Float

    /// A ResNet with torchvision's defaults: ResNet-18's blocks and widths, BatchNorm epsilon 1e-5.
    public init(imageSize: Int, channels: Int = 3, classes: Int = 1000, blocks: [Int] = [2, 2, 2, 2],
                widths: [Int] = [64, 128, 256, 512], stem: Stem = .imageNet, batchNormEpsilon: Float = 1e-5) {
        self.imageSize = imageSize
        self.channels = channels
        self.classes = classes
        self.blocks = blocks
        self.widths = widths
        self.stem = stem
        self.batchNormEpsilon = batchNormEpsilon
    }

    /// Throws `InvalidInput` naming the first setting that cannot be built.
    public func validate() throws {
        func fail(_ problem: String) -> InvalidInput { InvalidInput("resnet", problem) }
        guard channels == 1 || channels == 3 else { throw fail("channels must be 1 or 3, got \(channels)") }
        guard classes > 0 else { throw fail("classes must be positive, got \(classes)") }
        guard !blocks.isEmpty, blocks.count == widths.count, blocks.allSatisfy({ $0 > 0 }), widths.allSatisfy({ $0 > 0 }) else {
            throw fail("blocks \(blocks) and widths \(widths) must be positive, one of each per layer")
        }
        guard batchNormEpsilon > 0 else { throw fail("BatchNorm epsilon must be positive, got \(batchNormEpsilon)") }
        guard imageSize > 0 else { throw fail("image size must be positive, got \(imageSize)") }
    }

    /// Builds the model for `batch` images, initialised as torchvision does (convolutions
    /// kaiming-normal over fan-out, BatchNorm weight 1 and bias 0, running statistics 0 and 1, `fc`
    /// PyTorch's default), and its distillation taps: the logits and the outputs of `layer1`…`layer3`
    /// (all but the last layer).
    public func graph(batch: Int, seed: UInt64, name: String = "resnet") throws -> (graph: Graph, taps: ModelTaps) {
        try validate()
        guard batch > 0 else { throw InvalidInput("resnet", "batch must be positive, got \(batch)") }
        var builder = NetworkBuilder(name: name, seed: seed)
        let images = builder.graph.addInput("images", TensorType(.float32, [batch, channels, imageSize, imageSize]))
        let (kernel, stride) = stem == .imageNet ? (7, 2) : (3, 1)
        var x = try builder.conv(images, outputs: widths[0], kernel: kernel, stride: stride, padding: kernel / 2,
                                 weight: .kaimingNormalFanOut, bias: nil, module: "conv1")
        x = try builder.batchNorm(x, epsilon: batchNormEpsilon, module: "bn1")
        x = try builder.graph.apply1(.unary(.relu), [x], name: "relu")
        if stem == .imageNet {
            x = try builder.graph.apply1(.maxPool(Pooling(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1])), [x], name: "maxpool")
        }
        for (layer, (count, width)) in zip(blocks, widths).enumerated() {
            for index in 0..<count {
                let module = "layer\(layer + 1).\(index)"
                let stride = layer > 0 && index == 0 ? 2 : 1
                x = try basicBlock(x, width: width, stride: stride, module: module,
                                   name: index == count - 1 ? "layer\(layer + 1)" : module, builder: &builder)
            }
        }
        let pooled = try builder.graph.apply1(.globalAveragePool, [x], name: "avgpool")
        let flat = try builder.graph.apply1(.reshape([batch, widths.last!]), [pooled], name: "flatten")
        let logits = try builder.linear(flat, outputs: classes, weight: .pytorchDefault(fanIn: widths.last!),
                                        bias: .pytorchDefault(fanIn: widths.last!), module: "fc")
        builder.graph.outputs = [logits]
        let stages = (1..<blocks.count).map { "layer\($0)" }
        return (builder.graph, ModelTaps(logits: "fc", stages: Array(stages.prefix(3))))
    }

    /// torchvision's `BasicBlock`: relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
    private func basicBlock(_ x: ValueID, width: Int, stride: Int, module: String, name: String,
                            builder: inout NetworkBuilder) throws -> ValueID {
        let inputs = builder.graph.type(of: x).shape[1]
        var y = try builder.conv(x, outputs: width, kernel: 3, stride: stride, padding: 1, weight: .kaimingNormalFanOut, bias: nil,
                                 module: "\(module).conv1")
        y = try builder.batchNorm(y, epsilon: batchNormEpsilon, module: "\(module).bn1")
        y = try builder.graph.apply1(.unary(.relu), [y], name: "\(module).relu")
        y = try builder.conv(y, outputs: width, kernel: 3, stride: 1, padding: 1, weight: .kaimingNormalFanOut, bias: nil,
                             module: "\(module).conv2")
        y = try builder.batchNorm(y, epsilon: batchNormEpsilon, module: "\(module).bn2")
        var shortcut = x
        if stride != 1 || inputs != width {
            shortcut = try builder.conv(x, outputs: width, kernel: 1, stride: stride, padding: 0, weight: .kaimingNormalFanOut, bias: nil,
                                        module: "\(module).downsample.0")
            shortcut = try builder.batchNorm(shortcut, epsilon: batchNormEpsilon, module: "\(module).downsample.1", name: "\(module).downsample")
        }
        let sum = try builder.graph.apply1(.binary(.add), [y, shortcut], name: "\(module).add")
        return try builder.graph.apply1(.unary(.relu), [sum], name: name)
    }
}
