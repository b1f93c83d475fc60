import Autodiff
import Data
import GraphIR

/// The weighted terms of the training objective (METHOD §1.1) and how tokens are formed.
public struct DistillationObjective: Hashable, Sendable {
    /// α: weight of KD on the distillation head (0 leaves the term out).
    public var kdWeight: Float
    /// T of the KD term.
    public var temperature: Float
    /// β: weight of the feature (FitNet) loss on the visual tokens.
    public var featureWeight: Float
    /// γ and δ, and the relation losses' settings.
    public var relation: RelationLoss
    /// How visual tokens become the tokens whose relations are compared.
    public var clustering: TokenClustering
    /// CNN stages: tokenizer and per-stage window strides.
    public var stageTokenizer: StageTokenizer
    public var stageStrides: [Int]

    /// The paper's defaults: α = 1, T = 1, β = 1, γ = 0.5, δ = 1, superpixel tokens (grid 2, one
    /// iteration); CNN stages average-pooled with strides 4, 2, 1.
    public init(kdWeight: Float = 1, temperature: Float = 1, featureWeight: Float = 1, relation: RelationLoss = RelationLoss(),
                clustering: TokenClustering = TokenClustering(), stageTokenizer: StageTokenizer = .avgpool, stageStrides: [Int] = [4, 2, 1]) {
        self.kdWeight = kdWeight
        self.temperature = temperature
        self.featureWeight = featureWeight
        self.relation = relation
        self.clustering = clustering
        self.stageTokenizer = stageTokenizer
        self.stageStrides = stageStrides
    }

    /// Whether any term needs the teacher.
    public var usesTeacher: Bool { kdWeight > 0 || featureWeight > 0 || relation.distanceWeight > 0 || relation.angleWeight > 0 }
}

/// The parameter update and its settings.
public struct OptimizerSettings: Hashable, Sendable {
    /// Which update rule.
    public enum Kind: String, Hashable, Sendable, CaseIterable { case adamw, sgd }

    public var kind: Kind
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    public var momentum: Float
    public var nesterov: Bool
    /// Parameters whose name ends with one of these get no weight decay (as do all 0- and 1-D ones:
    /// biases and norm weights), like timm's optimizer factory.
    public var noWeightDecay: [String]
    /// Clip the gradients' global L2 norm to this value first (PyTorch's clip_grad_norm_), if set.
    public var maxGradientNorm: Float?
    /// Momentum of batch-norm running statistics (PyTorch's default 0.1).
    public var batchNormMomentum: Float

    /// DeiT's AdamW: betas 0.9/0.999, eps 1e-8, weight decay 0.05.
    public init(kind: Kind = .adamw, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0.05,
                momentum: Float = 0.9, nesterov: Bool = false, noWeightDecay: [String] = ["pos_embed", "cls_token", "dist_token"],
                maxGradientNorm: Float? = nil, batchNormMomentum: Float = 0.1) {
        self.kind = kind
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.nesterov = nesterov
        self.noWeightDecay = noWeightDecay
        self.maxGradientNorm = maxGradientNorm
        self.batchNormMomentum = batchNormMomentum
    }
}

/// One SeRKD training step as a single graph: student forward (training mode), frozen teacher
/// forward, every loss term, the backward pass, and the in-place optimizer update (METHOD §11).
///
/// Inputs, in order: `images` [B, C, H, W], `targets` [B, classes] (soft labels: one-hot, smoothed or
/// mixed), `learning_rate` and `step` (float scalars; step counts from 1 for Adam's bias correction).
/// Outputs: the loss terms, unweighted, named `loss/ce`, `loss/kd`, `loss/feat`, `loss/distance`,
/// `loss/angle` (those in use) and the weighted `loss/total`. Running the step updates the student's
/// parameters, the optimizer's moments and batch-norm statistics in place.
public struct TrainingStep {
    /// Input names.
    public static let images = "images", targets = "targets", learningRate = "learning_rate", step = "step"
    /// The optional second student input of models with stochastic depth: the step as int64, which
    /// seeds the drop masks (`VisionTransformer.stepInput`). The step binds it to its own `step`.
    public static let dropPathStep = VisionTransformer.stepInput

    /// The whole step.
    public var graph: Graph
    /// Output names, in order (the loss terms, then `loss/total`).
    public var lossNames: [String]
    /// Names of the trained parameters in `graph` (the student's are prefixed `student/`).
    public var parameterNames: [String]
    /// With `exposeGradients`, the names of the gradient outputs after the losses, one per parameter.
    public var gradientNames: [String]

    /// Assembles the step. Student initializers become trainable parameters (except batch-norm running
    /// statistics, which become state); the teacher's become constants. `projection` sets the feature
    /// loss's initial Linear weights (else PyTorch's default uniform initialisation from `seed`).
    /// `exposeGradients` also outputs every parameter's gradient (as applied, after clipping), for
    /// checking a step against a reference. With a `shard` of several, the step is that rank's of a
    /// data-parallel job: its gradients are averaged over the ranks between backward and the update,
    /// and its dropout masks are its own.
    public init(student: Graph, studentTaps: ModelTaps, teacher: (graph: Graph, taps: ModelTaps)?, objective: DistillationObjective,
                optimizer: OptimizerSettings, seed: UInt64 = 0, projection: (weight: Tensor, bias: Tensor)? = nil,
                exposeGradients: Bool = false, shard: Shard = .whole) throws {
        let takesStep = student.inputs.count == 2 && student[student.inputs[1]].name == Self.dropPathStep
        guard student.inputs.count == 1 || takesStep else {
            throw InvalidInput("student", "must take one input (the images), it takes \(student.inputs.count)")
        }
        var graph = Graph(name: "serkd-train-step")
        let imageType = student.type(of: student.inputs[0])
        let images = graph.addInput(Self.images, imageType)
        let studentLogits = try Self.tap(studentTaps.logits, in: student, role: "student logits")
        let logitsType = student.type(of: studentLogits)
        guard logitsType.shape.rank == 2 else { throw InvalidInput("student logits '\(studentTaps.logits)'", "must be [B, classes], got \(logitsType)") }
        let targets = graph.addInput(Self.targets, logitsType)
        let learningRate = graph.addInput(Self.learningRate, TensorType(.float32, []))
        let step = graph.addInput(Self.step, TensorType(.float32, []))

        let trainingStudent = try Self.trainingMode(student, momentum: optimizer.batchNormMomentum)
        var bindings = [trainingStudent.inputs[0]: images]
        if takesStep { bindings[trainingStudent.inputs[1]] = try graph.apply1(.cast(.int64), [step], name: "student/drop_path_step") }
        let s = try graph.insert(trainingStudent, prefix: "student/", bindings: bindings)
        func studentValue(_ name: String, _ role: String) throws -> ValueID { s[try Self.tap(name, in: student, role: role)]! }

        var terms: [(name: String, value: ValueID, weight: Float)] = []
        terms.append(("ce", try graph.softCrossEntropy(logits: s[studentLogits]!, targets: targets, name: "loss/ce"), 1))

        if let (teacherGraph, teacherTaps) = teacher, objective.usesTeacher {
            guard teacherGraph.inputs.count == 1, teacherGraph.type(of: teacherGraph.inputs[0]) == imageType else {
                throw InvalidInput("teacher", "must take one input of the student's type \(imageType), it takes \(teacherGraph.inputs.map { teacherGraph.type(of: $0).description })")
            }
            let t = try graph.insert(teacherGraph, prefix: "teacher/", bindings: [teacherGraph.inputs[0]: images]) { _, _ in .constant }
            func teacherValue(_ name: String, _ role: String) throws -> ValueID { t[try Self.tap(name, in: teacherGraph, role: role)]! }

            if objective.kdWeight > 0 {
                let head = try studentValue(studentTaps.distillationLogits ?? studentTaps.logits, "student distillation logits")
                let teacherLogits = try teacherValue(teacherTaps.logits, "teacher logits")
                terms.append(("kd", try graph.distillationLoss(student: head, teacher: teacherLogits, temperature: objective.temperature, name: "loss/kd"),
                              objective.kdWeight))
            }
            var pairs: [(student: ValueID, teacher: ValueID, name: String)] = []
            if let studentTokens = studentTaps.tokens {
                guard let teacherTokens = teacherTaps.tokens else { throw InvalidInput("teacher taps", "the student taps tokens, so the teacher must too") }
                let x = try graph.visualTokens(try studentValue(studentTokens, "student tokens"), prefix: studentTaps.prefixTokens, name: "student/visual_tokens")
                let y = try graph.visualTokens(try teacherValue(teacherTokens, "teacher tokens"), prefix: teacherTaps.prefixTokens, name: "teacher/visual_tokens")
                if objective.featureWeight > 0 {
                    let (ds, dt) = (graph.type(of: x).shape[2], graph.type(of: y).shape[2])
                    let initial = projection ?? Self.linearInitialisation(inputs: ds, outputs: dt, seed: seed)
                    terms.append(("feat", try graph.featureLoss(student: x, teacher: y, projection: initial, name: "loss/feat").loss, objective.featureWeight))
                }
                pairs.append((x, y, "tokens"))
            }
            guard studentTaps.stages.count == teacherTaps.stages.count else {
                throw InvalidInput("taps", "the student taps \(studentTaps.stages.count) stages, the teacher \(teacherTaps.stages.count)")
            }
            if !studentTaps.stages.isEmpty && objective.stageStrides.count != studentTaps.stages.count {
                throw InvalidInput("stage strides", "\(objective.stageStrides.count) strides for \(studentTaps.stages.count) stages")
            }
            for (index, (studentStage, teacherStage)) in zip(studentTaps.stages, teacherTaps.stages).enumerated() {
                let stride = objective.stageStrides[index]
                let x = try studentValue(studentStage, "student stage \(index + 1)"), y = try teacherValue(teacherStage, "teacher stage \(index + 1)")
                let weights = objective.stageTokenizer == .conv
                    ? (student: try graph.tokenizerWeights(channels: graph.type(of: x).shape[1], stride: stride, kind: .parameter, seed: seed &+ UInt64(2 * index + 1), name: "student/tokenizer\(index + 1)"),
                       teacher: try graph.tokenizerWeights(channels: graph.type(of: y).shape[1], stride: stride, kind: .constant, seed: seed &+ UInt64(2 * index + 2), name: "teacher/tokenizer\(index + 1)"))
                    : nil
                pairs.append((try graph.stageTokens(x, stride: stride, tokenizer: objective.stageTokenizer, weights: weights?.student, name: "student/stage\(index + 1)/tokens"),
                              try graph.stageTokens(y, stride: stride, tokenizer: objective.stageTokenizer, weights: weights?.teacher, name: "teacher/stage\(index + 1)/tokens"),
                              "stage\(index + 1)"))
            }
            if objective.relation.distanceWeight > 0 || objective.relation.angleWeight > 0 {
                guard !pairs.isEmpty else { throw InvalidInput("taps", "relation losses need token or stage taps on both models") }
                var distances: [ValueID] = [], angles: [ValueID] = []
                for pair in pairs {
                    let x = try graph.clusterTokens(pair.student, objective.clustering, name: "student/\(pair.name)/clustered")
                    let y = try graph.clusterTokens(pair.teacher, objective.clustering, name: "teacher/\(pair.name)/clustered")
                    let relation = try graph.relationLoss(student: x, teacher: y, objective.relation, name: "relation/\(pair.name)")
                    distances += relation.distance.map { [$0] } ?? []
                    angles += relation.angle.map { [$0] } ?? []
                }
                if !distances.isEmpty {
                    terms.append(("distance", try graph.weightedSum(distances.map { ($0, 1) }, name: "loss/distance"), objective.relation.distanceWeight))
                }
                if !angles.isEmpty {
                    terms.append(("angle", try graph.weightedSum(angles.map { ($0, 1) }, name: "loss/angle"), objective.relation.angleWeight))
                }
            }
        } else if objective.usesTeacher {
            throw InvalidInput("teacher", "the objective has teacher terms (α, β, γ or δ > 0) but no teacher was given")
        }

        let total = try graph.weightedSum(terms.map { ($0.value, $0.weight) }, name: "loss/total")
        graph.outputs = terms.map(\.value) + [total]
        let parameters = graph.values.indices.map(ValueID.init).filter { graph[$0].kind == .parameter }
        var gradients = try Autodiff.gradients(of: total, withRespectTo: parameters, in: &graph).values
        if shard.count > 1 { gradients = try graph.averagingOverRanks(gradients, ranks: shard.count) }
        if let maxNorm = optimizer.maxGradientNorm {
            gradients = try graph.clipGradients(gradients, maxNorm: maxNorm)
        }
        try graph.appendUpdates(gradients, optimizer, learningRate: learningRate, step: step)
        let trained = parameters.filter { gradients[$0] != nil }
        gradientNames = []
        if exposeGradients {
            for parameter in trained {
                let name = "gradient/" + graph[parameter].name
                graph.outputs.append(try graph.apply1(.identity, [gradients[parameter]!], name: name))
                gradientNames.append(name)
            }
        }
        graph.reseedingMasks(for: shard)
        self.graph = graph.removingDeadNodes()
        lossNames = terms.map { "loss/\($0.name)" } + ["loss/total"]
        parameterNames = trained.map { graph[$0].name }
    }

    /// The value named `name` in `graph`, or an error naming the tap and its role.
    static func tap(_ name: String, in graph: Graph, role: String) throws -> ValueID {
        guard let id = graph.value(named: name) else {
            throw InvalidInput("\(role) tap '\(name)'", "no tensor of that name in graph '\(graph.name)'")
        }
        return id
    }

    /// The student in training mode: inference batch norms become training batch norms whose running
    /// statistics are state updated in place.
    static func trainingMode(_ model: Graph, momentum: Float) throws -> Graph {
        var graph = model
        for index in graph.nodes.indices {
            guard case .core(.batchNorm(let epsilon)) = graph.nodes[index].op else { continue }
            let node = graph.nodes[index]
            for statistic in node.inputs[3...4] {
                guard graph.tensors[statistic] != nil else {
                    throw InvalidInput("batch norm '\(node.name)'", "running statistics must be stored weights, '\(graph[statistic].name)' is computed")
                }
                graph.setKind(statistic, .state)
            }
            let channel = graph.type(of: node.inputs[3])
            let extra = ["batch_mean", "batch_inverse_std", "running_mean_updated", "running_var_updated"].map {
                graph.addValue("\(node.name)/\($0)", channel, kind: .intermediate)
            }
            graph.nodes[index] = Node(op: .batchNormTraining(epsilon: epsilon, momentum: momentum), inputs: node.inputs,
                                      outputs: [node.outputs[0]] + extra, name: node.name)
        }
        return graph
    }

    /// PyTorch's default `nn.Linear` initialisation: weight and bias uniform in ±1/√inputs.
    static func linearInitialisation(inputs: Int, outputs: Int, seed: UInt64) -> (weight: Tensor, bias: Tensor) {
        var generator = Xoshiro256(seed: seed, stream: [0x11ea7])
        let bound = 1 / Float(inputs).squareRoot()
        let weight = (0..<(inputs * outputs)).map { _ in Float(generator.uniform(-Double(bound), Double(bound))) }
        let bias = (0..<outputs).map { _ in Float(generator.uniform(-Double(bound), Double(bound))) }
        return (Tensor(weight, shape: [outputs, inputs]), Tensor(bias, shape: [outputs]))
    }
}

extension Graph {
    /// The visual tokens [B, T − prefix, D] of a token sequence [B, T, D].
    mutating func visualTokens(_ tokens: ValueID, prefix: Int, name: String) throws -> ValueID {
        let shape = type(of: tokens).shape
        guard shape.rank == 3, prefix >= 0, prefix < shape[1] else {
            throw InvalidInput("tokens '\(self[tokens].name)'", "expected [B, T, D] with more than \(prefix) tokens, got \(shape)")
        }
        if prefix == 0 { return tokens }
        return try apply1(.slice(Slice(starts: [0, prefix, 0], ends: [shape[0], shape[1], shape[2]], steps: [1, 1, 1])), [tokens], name: name)
    }

    /// Weight [C, C, s, s] and bias [C] of a strided-conv tokenizer, PyTorch's default Conv2d
    /// initialisation, as parameters (student) or constants (the detached teacher side).
    mutating func tokenizerWeights(channels: Int, stride: Int, kind: ValueKind, seed: UInt64, name: String) throws -> (ValueID, ValueID) {
        var generator = Xoshiro256(seed: seed, stream: [0x70c3])
        let fanIn = channels * stride * stride
        let bound = 1 / Float(fanIn).squareRoot()
        let weight = Tensor((0..<(channels * fanIn)).map { _ in Float(generator.uniform(-Double(bound), Double(bound))) }, shape: [channels, channels, stride, stride])
        let bias = Tensor((0..<channels).map { _ in Float(generator.uniform(-Double(bound), Double(bound))) }, shape: [channels])
        if kind == .parameter { return (addParameter("\(name).weight", weight), addParameter("\(name).bias", bias)) }
        return (addConstant("\(name).weight", weight), addConstant("\(name).bias", bias))
    }

    /// Differentiates `loss` and clips the gradients as a training step does: the clipping alone,
    /// exposed so tests can check it.
    public mutating func clipGradientsForTesting(of loss: ValueID, parameters: [ValueID], maxNorm: Float) throws -> [ValueID: ValueID] {
        try clipGradients(try Autodiff.gradients(of: loss, withRespectTo: parameters, in: &self).values, maxNorm: maxNorm)
    }

    /// Scales all gradients by min(1, maxNorm / (‖g‖₂ + 1e-6)), PyTorch's `clip_grad_norm_`.
    mutating func clipGradients(_ gradients: [ValueID: ValueID], maxNorm: Float) throws -> [ValueID: ValueID] {
        let ordered = gradients.sorted { $0.key < $1.key }
        var squares: [ValueID] = []
        for (index, (_, gradient)) in ordered.enumerated() {
            let square = try apply1(.binary(.mul), [gradient, gradient], name: "clip/square\(index)")
            squares.append(try apply1(.reduce(.sum, axes: Array(0..<type(of: square).shape.rank), keepDims: false), [square], name: "clip/sum\(index)"))
        }
        let total = try weightedSum(squares.map { ($0, 1) }, name: "clip/squared_norm")
        let norm = try apply1(.unary(.sqrt), [total], name: "clip/norm")
        let shifted = try apply1(.binary(.add), [norm, scalar(1e-6, name: "clip/epsilon")], name: "clip/norm_eps")
        let ratio = try apply1(.binary(.div), [scalar(maxNorm, name: "clip/max_norm"), shifted], name: "clip/ratio")
        let factor = try apply1(.binary(.min), [ratio, scalar(1, name: "clip/one")], name: "clip/factor")
        var clipped: [ValueID: ValueID] = [:]
        for (index, (parameter, gradient)) in ordered.enumerated() {
            clipped[parameter] = try apply1(.binary(.mul), [gradient, factor], name: "clip/gradient\(index)")
        }
        return clipped
    }

    /// One optimizer node per parameter, with zero-initialised state.
    mutating func appendUpdates(_ gradients: [ValueID: ValueID], _ settings: OptimizerSettings, learningRate: ValueID, step: ValueID) throws {
        for (parameter, gradient) in gradients.sorted(by: { $0.key < $1.key }) {
            let value = self[parameter]
            let decays = value.type.shape.rank > 1 && !settings.noWeightDecay.contains { value.name.hasSuffix($0) }
            let weightDecay = decays ? settings.weightDecay : 0
            switch settings.kind {
            case .adamw:
                let m = addState("adamw/m/\(value.name)", Tensor(zeros: .float32, value.type.shape))
                let v = addState("adamw/v/\(value.name)", Tensor(zeros: .float32, value.type.shape))
                try apply(.adamW(beta1: settings.beta1, beta2: settings.beta2, epsilon: settings.epsilon, weightDecay: weightDecay),
                          [parameter, gradient, m, v, learningRate, step], name: "update/\(value.name)")
            case .sgd:
                let velocity = addState("sgd/velocity/\(value.name)", Tensor(zeros: .float32, value.type.shape))
                try apply(.sgd(momentum: settings.momentum, nesterov: settings.nesterov, weightDecay: weightDecay),
                          [parameter, gradient, velocity, learningRate], name: "update/\(value.name)")
            }
        }
    }
}
