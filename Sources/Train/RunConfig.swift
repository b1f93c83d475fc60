import Distill
import Foundation
import GraphIR
import Tensor

/// Everything one distillation run needs, read from a JSON file (documented in examples/README.md)
/// with `--set key.path=value` overrides. Defaults are the paper's (METHOD §1).
public struct RunConfig {
    /// Which terms a run uses: the baselines of the README's results table.
    public enum Method: String, CaseIterable, Sendable {
        /// Cross-entropy only: the student trained alone.
        case none
        /// CE + α·KD.
        case kd
        /// CE + α·KD + β·feature + relations on the raw visual tokens ("Direct-based" RKD).
        case rkd
        /// CE + α·KD + β·feature + relations on superpixel tokens.
        case serkd
    }

    /// A model: a file (.serkd or .onnx) or a zoo name, its taps, and the normalisation of its input.
    public struct Model {
        public var source: String
        public var taps: ModelTaps?
        public var mean: [Float]
        public var std: [Float]
        /// Zoo settings (width, depth, heads, patch, drop path) when `source` is a zoo name.
        public var zoo: [String: Double]

        public init(source: String, taps: ModelTaps? = nil, mean: [Float], std: [Float], zoo: [String: Double] = [:]) {
            self.source = source
            self.taps = taps
            self.mean = mean
            self.std = std
            self.zoo = zoo
        }
    }

    /// Where the images come from and how they are prepared.
    public struct DataSettings {
        /// `fashion-mnist`, `mnist-csv`, `cifar10`, `cifar100`, `npz`, `image-folder`, `idx`.
        public var dataset: String
        /// Dataset location (a folder or a file, per dataset).
        public var root: String
        public var imageSize: Int
        public var channels: Int
        public var classes: Int
        /// Use only the first N training / evaluation samples (quick runs, tests).
        public var trainLimit: Int?
        public var evalLimit: Int?
        public var randomResizedCrop: Bool
        public var scale: [Double]
        public var horizontalFlip: Double
        public var randAugment: String?
        public var mixup: Double
        public var cutmix: Double
        public var labelSmoothing: Double
        public var randomErasing: Double
        /// Background threads decoding and augmenting.
        public var workers: Int
    }

    /// The learning-rate schedule: linear warm-up, then cosine decay (timm's defaults).
    public struct Schedule {
        public var learningRate: Double
        public var warmupEpochs: Double
        public var warmupLearningRate: Double
        public var minimumLearningRate: Double
    }

    public var name: String
    public var seed: UInt64
    public var method: Method
    public var teacher: Model?
    public var student: Model
    public var data: DataSettings
    public var objective: DistillationObjective
    public var optimizer: OptimizerSettings
    public var schedule: Schedule
    public var epochs: Int
    /// Stop after this many steps (short runs); nil runs all epochs.
    public var steps: Int?
    public var batch: Int
    public var evalBatch: Int
    /// Run folder: resolved config, metrics.jsonl, checkpoints.
    public var output: String
    /// No augmentation and no shuffling: every run with the same seed sees the same batches.
    public var deterministic: Bool
    /// Print a progress line every this many steps.
    public var logEvery: Int
    /// Write a resumable checkpoint every this many steps (and at every epoch's end).
    public var checkpointEvery: Int

    /// Reads the configuration in `path` (JSON), applying `overrides` ("key.path=value") first.
    public static func load(_ path: String, overrides: [String] = []) throws -> RunConfig {
        let text = try MappedFile.text(path)
        var tree = try ConfigTree(json: text, source: path)
        for assignment in overrides { tree = try tree.overriding(assignment) }
        return try RunConfig(tree, source: path, baseFolder: (path as NSString).deletingLastPathComponent, overrides: overrides)
    }

    /// Reads a configuration tree. Relative paths in it are relative to `baseFolder`; problems with
    /// values that `overrides` set are blamed on them.
    public init(_ tree: ConfigTree, source: String, baseFolder: String = "", overrides: [String] = []) throws {
        let root = try ConfigReader(tree, source: source, overrides: overrides)
        func path(_ text: String) -> String {
            text.hasPrefix("/") || baseFolder.isEmpty || !text.contains("/") && !text.contains(".") ? text : (baseFolder as NSString).appendingPathComponent(text)
        }
        name = try root.string("name", default: "run")
        seed = UInt64(try root.integer("seed", default: 0, in: 0...Int.max))
        method = try root.choice("method", default: Method.serkd)
        epochs = try root.integer("epochs", default: 300, in: 1...100_000)
        steps = try root.optionalInteger("steps", in: 1...Int.max)
        batch = try root.integer("batch", default: 128, in: 1...65_536)
        evalBatch = try root.integer("eval_batch", default: batch, in: 1...65_536)
        deterministic = try root.bool("deterministic", default: false)
        logEvery = try root.integer("log_every", default: 10, in: 1...1_000_000)
        checkpointEvery = try root.integer("checkpoint_every", default: 500, in: 1...Int.max)
        // Outputs go where the user runs serkd from; inputs (models, data) are found beside the config.
        output = try root.optionalString("output") ?? "runs/\(name)"

        func model(_ reader: ConfigReader, role: String) throws -> Model {
            guard let source = try reader.optionalString("model") else { throw reader.error("model", "missing (a .serkd/.onnx path or a zoo name)") }
            let isFile = source.hasSuffix(".onnx") || source.hasSuffix(".serkd")
            var taps: ModelTaps?
            if reader.has("taps") {
                let t = try reader.object("taps")
                guard let logits = try t.optionalString("logits") else { throw t.error("logits", "missing (the name of the \(role)'s logits tensor)") }
                taps = ModelTaps(logits: logits, distillationLogits: try t.optionalString("distillation_logits"), tokens: try t.optionalString("tokens"),
                                 prefixTokens: try t.integer("prefix_tokens", default: 0, in: 0...16), stages: try t.strings("stages", default: []))
            }
            let normalization = try reader.object("normalization")
            let mean = try normalization.numbers("mean", default: [0.485, 0.456, 0.406]).map { Float($0) }
            let std = try normalization.numbers("std", default: [0.229, 0.224, 0.225]).map { Float($0) }
            guard std.allSatisfy({ $0 > 0 }), mean.count == std.count else {
                throw normalization.error("std", "needs positive values, as many as the mean's")
            }
            var zoo: [String: Double] = [:]
            let options = try reader.object("options")
            for key in ["dim", "depth", "heads", "patch", "drop_path", "mlp_ratio", "width"] {
                if let value = try options.optionalNumber(key, in: 0...1_000_000) { zoo[key] = value }
            }
            return Model(source: isFile ? path(source) : source, taps: taps, mean: mean, std: std, zoo: zoo)
        }
        student = try model(try root.object("student"), role: "student")
        teacher = root.has("teacher") ? try model(try root.object("teacher"), role: "teacher") : nil

        let d = try root.object("data")
        let augmentation = try d.object("augmentation")
        data = DataSettings(
            dataset: try d.string("dataset", default: "fashion-mnist"),
            root: path(try d.string("root", default: "/usr/share/datasets/fashion-mnist")),
            imageSize: try d.integer("image_size", default: 224, in: 1...4096),
            channels: try d.integer("channels", default: 3, in: 1...4),
            classes: try d.integer("classes", default: 1000, in: 1...1_000_000),
            trainLimit: try d.optionalInteger("train_limit", in: 1...Int.max),
            evalLimit: try d.optionalInteger("eval_limit", in: 1...Int.max),
            randomResizedCrop: try augmentation.bool("random_resized_crop", default: true),
            scale: try augmentation.numbers("scale", default: [0.08, 1]),
            horizontalFlip: try augmentation.number("flip", default: 0.5, in: 0...1),
            randAugment: ["", "none"].contains(try augmentation.string("rand_augment", default: "rand-m9-mstd0.5-inc1")) ? nil
                : try augmentation.string("rand_augment", default: "rand-m9-mstd0.5-inc1"),
            mixup: try augmentation.number("mixup", default: 0.8, in: 0...100),
            cutmix: try augmentation.number("cutmix", default: 1.0, in: 0...100),
            labelSmoothing: try augmentation.number("label_smoothing", default: 0.1, in: 0...1),
            randomErasing: try augmentation.number("random_erasing", default: 0.25, in: 0...1),
            workers: try d.integer("workers", default: 2, in: 1...64))
        guard data.scale.count == 2, data.scale[0] > 0, data.scale[0] <= data.scale[1], data.scale[1] <= 1 else {
            throw augmentation.error("scale", "expected [min, max] with 0 < min ≤ max ≤ 1")
        }

        let loss = try root.object("loss")
        let kd = try loss.object("kd"), feat = try loss.object("feat"), distance = try loss.object("distance"), angle = try loss.object("angle")
        let cluster = try loss.object("cluster"), stages = try loss.object("stages")
        let ce = try loss.object("ce")
        guard try ce.number("weight", default: 1, in: 1...1) == 1 else { throw ce.error("weight", "must be 1") }
        let uses = (kd: method != .none, feat: method == .rkd || method == .serkd, relations: method == .rkd || method == .serkd)
        objective = DistillationObjective(
            kdWeight: uses.kd ? try kd.float("weight", default: 1, in: 0...1000) : 0,
            temperature: try kd.float("temperature", default: 1, in: 1e-3...1000),
            featureWeight: uses.feat ? try feat.float("weight", default: 1, in: 0...1000) : 0,
            relation: RelationLoss(distanceWeight: uses.relations ? try distance.float("weight", default: 0.5, in: 0...1000) : 0,
                                   angleWeight: uses.relations ? try angle.float("weight", default: 1, in: 0...1000) : 0,
                                   perImageMean: try distance.bool("per_image_mean", default: true),
                                   angleChunk: try angle.integer("chunk", default: 8, in: 1...4096)),
            clustering: TokenClustering(mode: method == .rkd ? .none : try cluster.choice("mode", default: TokenClustering.Mode.superpixel),
                                        grid: try cluster.integer("grid", default: 2, in: 1...64),
                                        iterations: try cluster.integer("iterations", default: 1, in: 0...16),
                                        border: try cluster.choice("border", default: SuperpixelBorder.stvit)),
            stageTokenizer: try stages.choice("tokenizer", default: StageTokenizer.avgpool),
            stageStrides: try stages.integers("strides", default: [4, 2, 1]))
        // Read but unused under this method: still validated, so a typo is caught whatever the method.
        _ = try kd.float("weight", default: 1, in: 0...1000)
        _ = try feat.float("weight", default: 1, in: 0...1000)
        _ = try distance.float("weight", default: 0.5, in: 0...1000)
        _ = try angle.float("weight", default: 1, in: 0...1000)
        _ = try cluster.string("mode", default: "superpixel")

        let o = try root.object("optimizer")
        let betas = try o.numbers("betas", default: [0.9, 0.999])
        guard betas.count == 2, betas.allSatisfy({ $0 >= 0 && $0 < 1 }) else { throw o.error("betas", "expected two numbers in [0, 1)") }
        optimizer = OptimizerSettings(kind: try o.choice("name", default: OptimizerSettings.Kind.adamw), beta1: Float(betas[0]), beta2: Float(betas[1]),
                                      epsilon: try o.float("eps", default: 1e-8, in: 0...1), weightDecay: try o.float("weight_decay", default: 0.05, in: 0...10),
                                      momentum: try o.float("momentum", default: 0.9, in: 0...1), nesterov: try o.bool("nesterov", default: false),
                                      noWeightDecay: try o.strings("no_weight_decay", default: ["pos_embed", "cls_token", "dist_token"]),
                                      maxGradientNorm: try o.optionalNumber("clip_grad", in: 1e-12...1e12).map { Float($0) },
                                      batchNormMomentum: try o.float("batch_norm_momentum", default: 0.1, in: 0...1))
        let s = try root.object("schedule")
        schedule = Schedule(learningRate: try s.number("lr", default: 5e-4 * Double(batch) / 512, in: 0...100),
                            warmupEpochs: try s.number("warmup_epochs", default: 5, in: 0...100_000),
                            warmupLearningRate: try s.number("warmup_lr", default: 1e-6, in: 0...100),
                            minimumLearningRate: try s.number("min_lr", default: 1e-5, in: 0...100))
        try root.finish()
        if objective.usesTeacher && teacher == nil {
            throw InvalidInput(source, "method '\(method.rawValue)' needs a teacher (set 'teacher.model', or method none)")
        }
    }

    /// The configuration with every default filled in: what the run actually uses, printed at the
    /// start and saved as `config.json` in the run folder.
    public var resolved: ConfigTree {
        func numbers(_ values: [Float]) -> ConfigTree { .array(values.map { .float($0) }) }
        func model(_ m: Model) -> ConfigTree {
            var members: [(key: String, value: ConfigTree)] = [("model", .string(m.source))]
            if let taps = m.taps {
                var t: [(key: String, value: ConfigTree)] = [("logits", .string(taps.logits))]
                if let d = taps.distillationLogits { t.append(("distillation_logits", .string(d))) }
                if let tokens = taps.tokens { t.append(("tokens", .string(tokens))); t.append(("prefix_tokens", .number(Double(taps.prefixTokens)))) }
                if !taps.stages.isEmpty { t.append(("stages", .array(taps.stages.map { .string($0) }))) }
                members.append(("taps", .object(t)))
            }
            members.append(("normalization", .object([("mean", numbers(m.mean)), ("std", numbers(m.std))])))
            if !m.zoo.isEmpty { members.append(("options", .object(m.zoo.keys.sorted().map { ($0, .number(m.zoo[$0]!)) }))) }
            return .object(members)
        }
        let o = objective, d = data
        var root: [(key: String, value: ConfigTree)] = [
            ("name", .string(name)), ("seed", .number(Double(seed))), ("method", .string(method.rawValue)),
            ("student", model(student)),
        ]
        if let teacher { root.append(("teacher", model(teacher))) }
        root += [
            ("data", .object([
                ("dataset", .string(d.dataset)), ("root", .string(d.root)), ("image_size", .number(Double(d.imageSize))),
                ("channels", .number(Double(d.channels))), ("classes", .number(Double(d.classes))),
                ("train_limit", d.trainLimit.map { .number(Double($0)) } ?? .null), ("eval_limit", d.evalLimit.map { .number(Double($0)) } ?? .null),
                ("workers", .number(Double(d.workers))),
                ("augmentation", .object([
                    ("random_resized_crop", .bool(d.randomResizedCrop)), ("scale", .array(d.scale.map { .number($0) })),
                    ("flip", .number(d.horizontalFlip)), ("rand_augment", .string(d.randAugment ?? "none")), ("mixup", .number(d.mixup)),
                    ("cutmix", .number(d.cutmix)), ("label_smoothing", .number(d.labelSmoothing)), ("random_erasing", .number(d.randomErasing)),
                ])),
            ])),
            ("loss", .object([
                ("ce", .object([("weight", .number(1))])),
                ("kd", .object([("weight", .float(o.kdWeight)), ("temperature", .float(o.temperature))])),
                ("feat", .object([("weight", .float(o.featureWeight))])),
                ("distance", .object([("weight", .float(o.relation.distanceWeight)), ("per_image_mean", .bool(o.relation.perImageMean))])),
                ("angle", .object([("weight", .float(o.relation.angleWeight)), ("chunk", .number(Double(o.relation.angleChunk)))])),
                ("cluster", .object([("mode", .string(o.clustering.mode.rawValue)), ("grid", .number(Double(o.clustering.grid))),
                                     ("iterations", .number(Double(o.clustering.iterations))), ("border", .string(o.clustering.border.rawValue))])),
                ("stages", .object([("tokenizer", .string(o.stageTokenizer.rawValue)), ("strides", .array(o.stageStrides.map { .number(Double($0)) }))])),
            ])),
            ("optimizer", .object([
                ("name", .string(optimizer.kind.rawValue)), ("betas", numbers([optimizer.beta1, optimizer.beta2])),
                ("eps", .float(optimizer.epsilon)), ("weight_decay", .float(optimizer.weightDecay)),
                ("momentum", .float(optimizer.momentum)), ("nesterov", .bool(optimizer.nesterov)),
                ("no_weight_decay", .array(optimizer.noWeightDecay.map { .string($0) })),
                ("clip_grad", optimizer.maxGradientNorm.map { .float($0) } ?? .null),
                ("batch_norm_momentum", .float(optimizer.batchNormMomentum)),
            ])),
            ("schedule", .object([("lr", .number(schedule.learningRate)), ("warmup_epochs", .number(schedule.warmupEpochs)),
                                  ("warmup_lr", .number(schedule.warmupLearningRate)), ("min_lr", .number(schedule.minimumLearningRate))])),
            ("epochs", .number(Double(epochs))), ("steps", steps.map { .number(Double($0)) } ?? .null),
            ("batch", .number(Double(batch))), ("eval_batch", .number(Double(evalBatch))),
            ("output", .string(output)), ("deterministic", .bool(deterministic)), ("log_every", .number(Double(logEvery))),
            ("checkpoint_every", .number(Double(checkpointEvery))),
        ]
        return .object(root)
    }
}
