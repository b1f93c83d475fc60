import Tensor

extension Normalization {
    /// The metadata keys a model's input normalisation is stored under (comma-separated numbers, one
    /// per channel): written by training and by ONNX export, read by `serkd-run infer` and `eval`.
    public static let metadataKeys = (mean: "normalization.mean", std: "normalization.std")

    /// The normalisation a model's metadata records under `prefix + metadataKeys`, or nil when it
    /// records none. A model made by serkd knows how its inputs were normalised in training, so
    /// running it must not fall back to some other default.
    public init?(metadata: [String: String], prefix: String = "", source: String) throws {
        let meanKey = prefix + Self.metadataKeys.mean, stdKey = prefix + Self.metadataKeys.std
        guard let meanText = metadata[meanKey], let stdText = metadata[stdKey] else { return nil }
        func numbers(_ text: String, _ key: String) throws -> [Float] {
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Float($0.filter { $0 != " " }) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil && $0!.isFinite }) else {
                throw InvalidInput(source, "metadata \(key) should be comma-separated numbers, not '\(text)'")
            }
            return parts.map { $0! }
        }
        let mean = try numbers(meanText, meanKey), std = try numbers(stdText, stdKey)
        guard mean.count == std.count, std.allSatisfy({ $0 > 0 }) else {
            throw InvalidInput(source, "metadata \(stdKey) needs positive values, as many as \(meanKey) has")
        }
        self.init(mean: mean, std: std)
    }

    /// This normalisation as metadata entries, the form `init(metadata:)` reads (shortest
    /// round-trip decimal per value).
    public var metadata: [String: String] {
        [Self.metadataKeys.mean: mean.map { "\($0)" }.joined(separator: ","), Self.metadataKeys.std: std.map { "\($0)" }.joined(separator: ",")]
    }
}
