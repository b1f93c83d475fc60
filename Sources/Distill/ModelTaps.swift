import GraphIR

/// Where a model's distillation signals are, by tensor name in its graph (ONNX names for imports).
public struct ModelTaps: Hashable, Sendable {
    /// Logits: the student's class head, or the teacher's output.
    public var logits: String
    /// Student only: the distillation head (DeiT); KD is applied there when present, else to `logits`.
    public var distillationLogits: String?
    /// ViTs: the last block's token sequence [B, T, D], before the final norm.
    public var tokens: String?
    /// Leading tokens of `tokens` that are not visual (class, distillation).
    public var prefixTokens: Int
    /// CNNs: the feature maps [B, C, H, W] whose relations are distilled (stages 1–3).
    public var stages: [String]

    public init(logits: String, distillationLogits: String? = nil, tokens: String? = nil, prefixTokens: Int = 0, stages: [String] = []) {
        self.logits = logits
        self.distillationLogits = distillationLogits
        self.tokens = tokens
        self.prefixTokens = prefixTokens
        self.stages = stages
    }
}

extension ModelTaps {
    /// The taps as metadata entries whose keys start with `prefix` ("taps." in a trained model,
    /// "student.taps." in a training plan); `init(metadata:prefix:)` reads them back.
    public func metadata(prefix: String) -> [String: String] {
        var entries = [prefix + "logits": logits]
        if let distillationLogits { entries[prefix + "distillation_logits"] = distillationLogits }
        if let tokens {
            entries[prefix + "tokens"] = tokens
            entries[prefix + "prefix_tokens"] = String(prefixTokens)
        }
        if !stages.isEmpty { entries[prefix + "stages"] = stages.joined(separator: ",") }
        return entries
    }

    /// The taps recorded in `metadata` under `prefix`, or nil when it records none.
    public init?(metadata: [String: String], prefix: String) {
        guard let logits = metadata[prefix + "logits"] else { return nil }
        self.init(logits: logits, distillationLogits: metadata[prefix + "distillation_logits"], tokens: metadata[prefix + "tokens"],
                  prefixTokens: metadata[prefix + "prefix_tokens"].flatMap { Int($0) } ?? 0,
                  stages: metadata[prefix + "stages"].map { $0.split(separator: ",").map(String.init) } ?? [])
    }
}
