import GraphIR

/// Reads an ONNX model into serkd's graph IR.
///
/// Every ONNX op is lowered to the core op set (`Op`); weights from initializers, `Constant` nodes
/// and external-data files become `constant` values (frozen; a later stage decides what trains);
/// graph inputs get static shapes, with a symbolic leading axis set to the batch size; and every
/// node whose inputs are all known is evaluated at import, so shape-computing chains
/// (`Shape → Gather → Unsqueeze → Concat → Reshape`) leave only the resulting reshape behind.
///
/// Opsets 1–25 of the default domain (`""` or `"ai.onnx"`) are read; the rules follow each op's
/// definition at the model's opset (e.g. `Split` sizes from an attribute before opset 13 and from an
/// input after, `Softmax`'s 2-D coercion before opset 13). Element types are converted as
/// `ElementType` describes: float16/bfloat16/double become float32, small and unsigned integers
/// become int64, string and complex tensors are rejected.
///
/// Problems that are serkd's limits (an op, attribute value or dtype it does not implement, a
/// shape that depends on run-time data) are collected over the whole model and reported in one
/// `InvalidInput`, one entry per distinct problem; problems that mean the file is broken are
/// reported at once. Either way nothing is half-built.
public enum ONNXImport {
    /// Choices that shape the imported graph.
    public struct Options: Sendable {
        /// The extent given to a symbolic (or unknown) leading axis of the graph inputs. Nil uses
        /// the model's own batch when its inputs fix one, else 1.
        public var batch: Int?
        /// Graph inputs to replace by fixed tensors, by ONNX name. They become constants, so
        /// whatever they determine (a `Reshape` target, `Slice` bounds) folds at import.
        public var bindings: [String: Tensor]

        /// Creates options; the defaults suit a model exported for inference.
        public init(batch: Int? = nil, bindings: [String: Tensor] = [:]) {
            self.batch = batch
            self.bindings = bindings
        }
    }

    /// Imports the ONNX model at `path`. Errors are `InvalidInput`s naming the file.
    ///
    /// Value names are the ONNX tensor names and node names the ONNX node names; `graph.metadata`
    /// records `source`, `producer`, `ir_version`, `opsets`, `batch`, the model's `metadata_props`
    /// (as `onnx.<key>`, and class names as `labels`) and `weights` (where the
    /// tensors came from). Float initializers with more than one element become `parameter` values
    /// (weights a training step may learn, never folded); other data is `constant`.
    public static func graph(fromFile path: String, options: Options = .init()) throws -> Graph {
        let message = try ModelMessage(path: path)
        var importer = try Importer(message: message, options: options)
        return try importer.run()
    }

    /// The default-domain opsets the importer reads.
    public static let supportedOpsets: ClosedRange<Int> = 1...25

    /// The ONNX op types the importer lowers (default domain), sorted.
    public static var supportedOps: [String] { Importer.rules.keys.sorted() }
}
