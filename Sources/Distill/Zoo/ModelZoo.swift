import GraphIR

/// An architecture the zoo can build: a description to adjust (width, depth, drop path…) before
/// building it.
public enum ZooModel: Hashable, Sendable, Codable {
    case visionTransformer(VisionTransformer)
    case resNet(ResNet)

    /// Builds the inference graph for `batch` images, weights initialised from `seed`, and its
    /// default distillation taps.
    public func graph(batch: Int, seed: UInt64, name: String) throws -> (graph: Graph, taps: ModelTaps) {
        switch self {
        case .visionTransformer(let model): try model.graph(batch: batch, seed: seed, name: name)
        case .resNet(let model): try model.graph(batch: batch, seed: seed, name: name)
        }
    }
}

/// Students and teachers built directly as IR graphs, without an ONNX file: DeiT with a
/// distillation token, MAE-style ViTs and torchvision's ResNet-18, at ImageNet scale and in variants
/// for 28–32 px images that train in minutes on a CPU.
///
/// Weights and running statistics are named exactly like the PyTorch state dict of the timm or
/// torchvision model (`blocks.0.attn.qkv.weight`, `layer1.0.bn1.running_mean`), so a checkpoint
/// saved from PyTorch loads with `Graph.load(_:source:)`. Module outputs are named by module path
/// (`blocks`, `head_dist`, `layer2`), which is what the default taps name.
public enum ModelZoo {
    /// The presets, by name.
    public static let names = presets.map(\.name)

    /// The architecture of preset `name` for `classes` classes and images of `channels` × `imageSize`²
    /// (nil: the preset's own size, 224 px, or 32 for the small-image presets).
    public static func architecture(_ name: String, classes: Int, imageSize: Int? = nil, channels: Int = 3) throws -> ZooModel {
        guard let preset = presets.first(where: { $0.name == name }) else {
            throw InvalidInput("model '\(name)'", "not in the zoo, which has \(names.joined(separator: ", "))")
        }
        return preset.make(classes, imageSize ?? preset.imageSize, channels)
    }

    /// Builds preset `name` as an inference graph for `batch` images, weights initialised like timm
    /// or torchvision from `seed`, and returns it with its default distillation taps.
    public static func model(_ name: String, batch: Int, classes: Int, imageSize: Int? = nil, channels: Int = 3,
                             seed: UInt64 = 0) throws -> (graph: Graph, taps: ModelTaps) {
        try architecture(name, classes: classes, imageSize: imageSize, channels: channels).graph(batch: batch, seed: seed, name: name)
    }

    /// A named architecture and its default input size.
    private struct Preset: Sendable {
        let name: String
        let imageSize: Int
        let make: @Sendable (_ classes: Int, _ imageSize: Int, _ channels: Int) -> ZooModel
    }

    /// The presets. The ImageNet ones are the originals (DeiT-Ti/S distilled, MAE's ViT-B/16 with
    /// global pooling, ResNet-18). The small-image ViT pair is sized for Fashion-MNIST or CIFAR on two
    /// CPU cores: patch 4 (an 8×8 token map at 32 px, so SeRKD's 2×2 superpixel grid divides it;
    /// Fashion-MNIST is padded to 32, since at 28 px the 7×7 map needs grid 1 or 7), head width 32
    /// like common small ViTs, and depth 4, which keeps one distillation epoch over 60,000 images at
    /// about two minutes (PyTorch on two threads, batch 128: ~0.2 M student and ~0.8 M teacher
    /// weights); depth 6 or width 96 costs 1.5–2× that.
    private static let presets: [Preset] = [
        Preset(name: "deit_tiny_distilled", imageSize: 224) { classes, size, channels in
            .visionTransformer(VisionTransformer(imageSize: size, patchSize: 16, channels: channels, classes: classes, width: 192, depth: 12, heads: 3))
        },
        Preset(name: "deit_small_distilled", imageSize: 224) { classes, size, channels in
            .visionTransformer(VisionTransformer(imageSize: size, patchSize: 16, channels: channels, classes: classes, width: 384, depth: 12, heads: 6))
        },
        Preset(name: "deit_distilled_small_images", imageSize: 32) { classes, size, channels in
            .visionTransformer(VisionTransformer(imageSize: size, patchSize: 4, channels: channels, classes: classes, width: 64, depth: 4, heads: 2))
        },
        Preset(name: "vit_base_mae", imageSize: 224) { classes, size, channels in
            .visionTransformer(VisionTransformer(imageSize: size, patchSize: 16, channels: channels, classes: classes, width: 768, depth: 12, heads: 12,
                                                 head: .globalPool))
        },
        Preset(name: "vit_mae_small_images", imageSize: 32) { classes, size, channels in
            .visionTransformer(VisionTransformer(imageSize: size, patchSize: 4, channels: channels, classes: classes, width: 128, depth: 4, heads: 4,
                                                 head: .globalPool))
        },
        Preset(name: "resnet18", imageSize: 224) { classes, size, channels in
            .resNet(ResNet(imageSize: size, channels: channels, classes: classes))
        },
        Preset(name: "resnet18_small_images", imageSize: 32) { classes, size, channels in
            .resNet(ResNet(imageSize: size, channels: channels, classes: classes, stem: .smallImages))
        },
    ]
}
