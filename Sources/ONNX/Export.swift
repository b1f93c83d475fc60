import GraphIR

/// Writes a serkd inference graph as an ONNX model that onnxruntime and serkd's own importer load.
///
/// Every inference op of the core set becomes standard default-domain ONNX ops at the chosen opset
/// (13–21), composed where the opset lacks one (GELU before 20, LayerNormalization before 17,
/// HardSwish before 14). Weights and constants become initializers with `raw_data`; graph
/// metadata (labels, taps, normalisation, training facts) becomes `metadata_props`, with the
/// importer's `onnx.KEY` entries written back under their original keys; the producer is "serkd".
///
/// A `.serkd` graph is saved for one batch size. Unless `Options.dynamicBatch` is off, the export
/// follows the batch through the graph (`BatchAnalysis`); when no node mixes samples, inputs and
/// outputs get the symbolic batch dimension "N" and reshape/expand targets are written so ONNX
/// computes their batch extent. Otherwise the fixed batch is kept and `Summary.fixedBatchReason`
/// names the node that mixes samples.
public enum ONNXExport {
    /// Choices that shape the exported file.
    public struct Options: Sendable {
        /// Default-domain opset, in `supportedOpsets`.
        public var opset: Int
        /// Give inputs and outputs a symbolic batch where the graph allows it.
        public var dynamicBatch: Bool
        /// Written as `producer_version`.
        public var producerVersion: String

        /// Creates options; the defaults suit onnxruntime and every current ONNX tool.
        public init(opset: Int = 17, dynamicBatch: Bool = true, producerVersion: String = "") {
            self.opset = opset
            self.dynamicBatch = dynamicBatch
            self.producerVersion = producerVersion
        }
    }

    /// What an export produced.
    public struct Summary: Sendable {
        /// Whether inputs and outputs carry the symbolic batch "N".
        public var dynamicBatch: Bool
        /// When a dynamic batch was asked for but not possible: the node that mixes samples and how.
        public var fixedBatchReason: String?
        /// Number of ONNX nodes written.
        public var nodeCount: Int
        /// Number of initializers written.
        public var initializerCount: Int
    }

    /// The default-domain opsets the exporter writes.
    public static let supportedOpsets: ClosedRange<Int> = 13...21

    /// Writes `graph` to `path` atomically: on any error nothing is left at `path`.
    ///
    /// Throws `InvalidInput` without a subject for problems of the graph (a training op, an op the
    /// opset cannot express), so callers can attribute it to the file the graph came from, and with
    /// the path as subject when the file cannot be written.
    @discardableResult
    public static func write(_ graph: Graph, to path: String, options: Options = .init()) throws -> Summary {
        let (model, summary) = try model(of: graph, options: options)
        try model.write(to: path)
        return summary
    }

    /// The serialized model, for callers that keep it in memory.
    public static func serialized(_ graph: Graph, options: Options = .init()) throws -> (bytes: [UInt8], summary: Summary) {
        let (model, summary) = try model(of: graph, options: options)
        return (model.serialized(), summary)
    }

    private static func model(of graph: Graph, options: Options) throws -> (ExportedModel, Summary) {
        guard supportedOpsets.contains(options.opset) else {
            throw InvalidInput("opset", "\(options.opset) is not supported (serkd writes opsets \(supportedOpsets.lowerBound)–\(supportedOpsets.upperBound))")
        }
        if let node = graph.nodes.first(where: { $0.op.isTrainingOnly }) {
            throw InvalidInput(nil, "node '\(node.name)' (\(node.op.kindName)) is a training op; export takes inference graphs")
        }
        let analysis = options.dynamicBatch ? BatchAnalysis(graph) : nil
        var exporter = Exporter(graph: graph, opset: options.opset, batch: analysis?.isDynamic == true ? analysis : nil)
        try exporter.run()
        let model = ExportedModel(graph: exporter.result, opset: options.opset, producerVersion: options.producerVersion,
                                  metadata: metadataProperties(graph.metadata))
        let summary = Summary(dynamicBatch: analysis?.isDynamic == true, fixedBatchReason: analysis?.failure,
                              nodeCount: exporter.result.nodes.count, initializerCount: exporter.result.initializers.count)
        return (model, summary)
    }

    /// `graph.metadata` as `metadata_props`: `onnx.KEY` (what the importer kept of the source
    /// model's own properties) goes back to `KEY` unless the graph sets `KEY` itself.
    static func metadataProperties(_ metadata: [String: String]) -> [(key: String, value: String)] {
        var properties: [String: String] = [:]
        for (key, value) in metadata where key.hasPrefix("onnx.") && metadata[String(key.dropFirst(5))] == nil {
            properties[String(key.dropFirst(5))] = value
        }
        for (key, value) in metadata where !key.hasPrefix("onnx.") { properties[key] = value }
        return properties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
