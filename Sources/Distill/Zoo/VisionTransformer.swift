import Data
import GraphIR

/// A Vision Transformer's architecture, built as an inference graph with timm's semantics and
/// parameter names: DeiT's distilled model (`VisionTransformerDistilled`) or an MAE-style model
/// that classifies the mean of its patch tokens.
///
/// The graph: patch embedding (a conv with kernel = stride = patch), the prefix tokens, `pos_embed`
/// added over all tokens, pre-norm blocks x + attn(norm1(x)), x + mlp(norm2(x)) (qkv Linear with
/// bias, q·head_dim^−½ before q·kᵀ, softmax, proj; fc1, exact GELU, fc2), then the head.
public struct VisionTransformer: Hashable, Sendable, Codable {
    /// What reads the last block's tokens.
    public enum Head: String, Hashable, Sendable, Codable, CaseIterable {
        /// DeiT: class and distillation tokens, final `norm`, `head` on token 0 and `head_dist` on
        /// token 1; the prediction is their average. Taps: both heads and `blocks`, 2 prefix tokens.
        case distilled
        /// MAE fine-tuning (`global_pool=True`): no final norm, `fc_norm` of the patch tokens' mean,
        /// `head`. Taps: `head` and `blocks`, 1 prefix token (the class token).
        case globalPool
    }

    /// Input side in pixels (square images).
    public var imageSize: Int
    /// Patch side in pixels; it divides `imageSize`.
    public var patchSize: Int
    /// Input channels: 1 (grayscale) or 3.
    public var channels: Int
    public var classes: Int
    /// Token width (timm's `embed_dim`).
    public var width: Int
    /// Number of blocks.
    public var depth: Int
    /// Attention heads; they divide `width`.
    public var heads: Int
    /// MLP hidden width over token width (the hidden width is ⌊width·ratio⌋, as in timm).
    public var mlpRatio: Double
    public var head: Head
    /// timm's stochastic depth: the residual branches of block i are dropped per sample with
    /// probability dropPath·i/(depth − 1). When positive (and depth > 1) the graph takes a second
    /// input, `VisionTransformer.stepInput`, that seeds the masks.
    public var dropPath: Float
    /// LayerNorm epsilon (timm's ViTs and DeiT use 1e-6).
    public var layerNormEpsilon: Float

    /// A ViT with timm's defaults: MLP ratio 4, LayerNorm epsilon 1e-6, no drop path.
    public init(imageSize: Int, patchSize: Int, channels: Int = 3, classes: Int = 1000, width: Int, depth: Int, heads: Int,
                mlpRatio: Double = 4, head: Head = .distilled, dropPath: Float = 0, layerNormEpsilon: Float = 1e-6) {
        self.imageSize = imageSize
        self.patchSize = patchSize
        self.channels = channels
        self.classes = classes
        self.width = width
        self.depth = depth
        self.heads = heads
        self.mlpRatio = mlpRatio
        self.head = head
        self.dropPath = dropPath
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// Name of the second graph input of a model with drop path: the training step, an int64 scalar,
    /// from which each step's masks are drawn (the `dropout` op's step).
    public static let stepInput = "drop_path_step"

    /// Tokens before the patch tokens: class and distillation (`distilled`) or class only.
    public var prefixTokens: Int { head == .distilled ? 2 : 1 }

    /// Hidden width of the MLPs.
    public var hiddenWidth: Int { Int(Double(width) * mlpRatio) }

    /// Drop-path probability of each block (timm's `torch.linspace(0, drop_path_rate, depth)`).
    public var dropPathRates: [Float] {
        depth > 1 ? (0..<depth).map { dropPath * Float($0) / Float(depth - 1) } : [Float](repeating: 0, count: depth)
    }

    /// Throws `InvalidInput` naming the first setting that cannot be built.
    public func validate() throws {
        func fail(_ problem: String) -> InvalidInput { InvalidInput("vision transformer", problem) }
        guard imageSize > 0, patchSize > 0, imageSize % patchSize == 0 else {
            throw fail("patch size \(patchSize) must divide the image size \(imageSize)")
        }
        guard channels == 1 || channels == 3 else { throw fail("channels must be 1 or 3, got \(channels)") }
        guard classes > 0 else { throw fail("classes must be positive, got \(classes)") }
        guard width > 0, depth > 0, heads > 0, width % heads == 0 else {
            throw fail("width \(width), depth \(depth) and heads \(heads) must be positive with heads dividing width")
        }
        guard mlpRatio > 0, hiddenWidth > 0 else { throw fail("MLP ratio \(mlpRatio) gives no hidden units") }
        guard dropPath >= 0, dropPath < 1 else { throw fail("drop path must be in [0, 1), got \(dropPath)") }
        guard layerNormEpsilon > 0 else { throw fail("LayerNorm epsilon must be positive, got \(layerNormEpsilon)") }
    }

    /// Builds the model for `batch` images, weights initialised from `seed` as timm does (Linear
    /// weights, `pos_embed` and the prefix tokens truncated-normal with std 0.02, zero biases,
    /// LayerNorm 1 and 0, the patch-embedding conv PyTorch's default), and its distillation taps.
    /// The class token follows DeiT's code (std 0.02), where recent timm draws it with std 1e-6.
    public func graph(batch: Int, seed: UInt64, name: String = "vision_transformer") throws -> (graph: Graph, taps: ModelTaps) {
        try validate()
        guard batch > 0 else { throw InvalidInput("vision transformer", "batch must be positive, got \(batch)") }
        var builder = NetworkBuilder(name: name, seed: seed)
        let images = builder.graph.addInput("images", TensorType(.float32, [batch, channels, imageSize, imageSize]))
        let rates = dropPathRates
        let step = rates.contains { $0 > 0 } ? builder.graph.addInput(Self.stepInput, TensorType(.int64, [])) : nil

        var x = try embed(images, batch: batch, builder: &builder)
        for block in 0..<depth {
            x = try self.block(x, index: block, dropPath: rates[block], step: step, seed: seed, builder: &builder)
        }
        let tokens = x
        let logits: ValueID
        let taps: ModelTaps
        switch head {
        case .distilled:
            let normed = try builder.layerNorm(tokens, epsilon: layerNormEpsilon, module: "norm")
            let classHead = try builder.linear(try builder.token(normed, 0, name: "forward_head.cls"), outputs: classes,
                                               weight: .truncatedNormal(standardDeviation: 0.02), bias: .zeros, module: "head")
            let distillationHead = try builder.linear(try builder.token(normed, 1, name: "forward_head.dist"), outputs: classes,
                                                      weight: .truncatedNormal(standardDeviation: 0.02), bias: .zeros, module: "head_dist")
            let sum = try builder.graph.apply1(.binary(.add), [classHead, distillationHead], name: "forward_head.sum")
            logits = try builder.graph.apply1(.binary(.div), [sum, builder.scalar(2, name: "forward_head.heads")], name: "logits")
            taps = ModelTaps(logits: "head", distillationLogits: "head_dist", tokens: "blocks", prefixTokens: 2)
        case .globalPool:
            let patches = builder.graph.type(of: tokens).shape[1] - 1
            let patchTokens = try builder.graph.apply1(.slice(Slice(starts: [0, 1, 0], ends: [batch, patches + 1, width], steps: [1, 1, 1])),
                                                       [tokens], name: "forward_head.patch_tokens")
            let pooled = try builder.graph.apply1(.reduce(.mean, axes: [1], keepDims: false), [patchTokens], name: "forward_head.pool")
            let normed = try builder.layerNorm(pooled, epsilon: layerNormEpsilon, module: "fc_norm")
            logits = try builder.linear(normed, outputs: classes, weight: .truncatedNormal(standardDeviation: 0.02), bias: .zeros, module: "head")
            taps = ModelTaps(logits: "head", tokens: "blocks", prefixTokens: 1)
        }
        builder.graph.outputs = [logits]
        return (builder.graph, taps)
    }

    /// Patch embedding, prefix tokens and position embedding, [B, prefix + N, D], named `pos_drop`
    /// after the (inference-time identity) dropout that timm applies next.
    private func embed(_ images: ValueID, batch: Int, builder: inout NetworkBuilder) throws -> ValueID {
        let grid = imageSize / patchSize, patches = grid * grid
        let fanIn = channels * patchSize * patchSize
        let map = try builder.conv(images, outputs: width, kernel: patchSize, stride: patchSize, padding: 0,
                                   weight: .pytorchDefault(fanIn: fanIn), bias: .pytorchDefault(fanIn: fanIn), module: "patch_embed.proj")
        let flat = try builder.graph.apply1(.reshape([batch, width, patches]), [map], name: "patch_embed.flatten")
        let patchTokens = try builder.graph.apply1(.transpose(permutation: [0, 2, 1]), [flat], name: "patch_embed")
        var sequence: [ValueID] = []
        for token in head == .distilled ? ["cls_token", "dist_token"] : ["cls_token"] {
            let value = builder.parameter(token, [1, 1, width], .truncatedNormal(standardDeviation: 0.02))
            sequence.append(try builder.graph.apply1(.expand([batch, 1, width]), [value], name: "\(token).expand"))
        }
        let joined = try builder.graph.apply1(.concat(axis: 1), sequence + [patchTokens], name: "_pos_embed.concat")
        let position = builder.parameter("pos_embed", [1, prefixTokens + patches, width], .truncatedNormal(standardDeviation: 0.02))
        return try builder.graph.apply1(.binary(.add), [joined, position], name: "pos_drop")
    }

    /// Block `index`: x + attn(norm1(x)), then x + mlp(norm2(x)), each branch through drop path when
    /// its rate is positive. The last block's output is named `blocks`.
    private func block(_ x: ValueID, index: Int, dropPath: Float, step: ValueID?, seed: UInt64,
                       builder: inout NetworkBuilder) throws -> ValueID {
        let module = "blocks.\(index)"
        let truncated = WeightInitialization.truncatedNormal(standardDeviation: 0.02)
        let attention = try self.attention(try builder.layerNorm(x, epsilon: layerNormEpsilon, module: "\(module).norm1"),
                                           module: "\(module).attn", builder: &builder)
        let afterAttention = try builder.graph.apply1(.binary(.add), [x, try dropBranch(attention, rate: dropPath, step: step, seed: seed, branch: 1, module: module, builder: &builder)],
                                                      name: "\(module).residual1")
        let normed = try builder.layerNorm(afterAttention, epsilon: layerNormEpsilon, module: "\(module).norm2")
        let hidden = try builder.linear(normed, outputs: hiddenWidth, weight: truncated, bias: .zeros, module: "\(module).mlp.fc1")
        let activated = try builder.graph.apply1(.unary(.gelu), [hidden], name: "\(module).mlp.act")
        let mlp = try builder.linear(activated, outputs: width, weight: truncated, bias: .zeros, module: "\(module).mlp.fc2", name: "\(module).mlp")
        let branch = try dropBranch(mlp, rate: dropPath, step: step, seed: seed, branch: 2, module: module, builder: &builder)
        return try builder.graph.apply1(.binary(.add), [afterAttention, branch], name: index == depth - 1 ? "blocks" : module)
    }

    /// timm's `Attention` (the unfused path): qkv, heads split, q·scale, softmax(q·kᵀ)·v, heads merged, proj.
    private func attention(_ x: ValueID, module: String, builder: inout NetworkBuilder) throws -> ValueID {
        let shape = builder.graph.type(of: x).shape
        let (batch, count) = (shape[0], shape[1])
        let headWidth = width / heads
        let truncated = WeightInitialization.truncatedNormal(standardDeviation: 0.02)
        let qkv = try builder.linear(x, outputs: 3 * width, weight: truncated, bias: .zeros, module: "\(module).qkv")
        let split = try builder.graph.apply1(.reshape([batch, count, 3, heads, headWidth]), [qkv], name: "\(module).qkv_heads")
        let stacked = try builder.graph.apply1(.transpose(permutation: [2, 0, 3, 1, 4]), [split], name: "\(module).qkv_stacked")
        let (q, k, v) = (try part(0, "q"), try part(1, "k"), try part(2, "v"))
        func part(_ index: Int, _ label: String) throws -> ValueID {
            let window = Slice(starts: [index, 0, 0, 0, 0], ends: [index + 1, batch, heads, count, headWidth], steps: [1, 1, 1, 1, 1])
            let slice = try builder.graph.apply1(.slice(window), [stacked], name: "\(module).\(label)_slice")
            return try builder.graph.apply1(.reshape([batch, heads, count, headWidth]), [slice], name: "\(module).\(label)")
        }
        let scale = builder.scalar(Float(1 / Double(headWidth).squareRoot()), name: "\(module).scale")
        let scaled = try builder.graph.apply1(.binary(.mul), [q, scale], name: "\(module).q_scaled")
        let scores = try builder.graph.apply1(.matMul(MatMul(transposeB: true)), [scaled, k], name: "\(module).scores")
        let weights = try builder.graph.apply1(.softmax(axis: 3), [scores], name: "\(module).softmax")
        let context = try builder.graph.apply1(.matMul(MatMul()), [weights, v], name: "\(module).context")
        let merged = try builder.graph.apply1(.transpose(permutation: [0, 2, 1, 3]), [context], name: "\(module).heads_merged")
        let flat = try builder.graph.apply1(.reshape([batch, count, width]), [merged], name: "\(module).flatten")
        return try builder.linear(flat, outputs: width, weight: truncated, bias: .zeros, module: "\(module).proj", name: module)
    }

    /// timm's `DropPath` on a residual branch (`drop_path1` after attention, `drop_path2` after the
    /// MLP): whole samples zeroed with probability `rate`, the rest scaled by 1/(1 − rate). Each
    /// branch has its own seed, derived from the model seed and its name.
    private func dropBranch(_ x: ValueID, rate: Float, step: ValueID?, seed: UInt64, branch: Int, module: String,
                            builder: inout NetworkBuilder) throws -> ValueID {
        guard rate > 0, let step else { return x }
        let name = "\(module).drop_path\(branch)"
        var generator = Xoshiro256(seed: seed, stream: [WeightInitialization.streamTag, WeightInitialization.nameKey(name)])
        let maskSeed = Int(truncatingIfNeeded: generator.next())
        return try builder.graph.apply(.dropout(ratio: rate, seed: maskSeed, perSample: true), [x, step], name: name,
                                       outputNames: [name, "\(name).mask"])[0]
    }
}
