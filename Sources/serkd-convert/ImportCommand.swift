import CLI
import GraphIR
import ONNX

/// `serkd-convert import IN.onnx OUT.serkd`: lowers an ONNX model to the core IR and writes it.
enum ImportCommand {
    static let usage = """
        usage: serkd-convert import IN.onnx OUT.serkd [--batch N] [--dump]

        Lowers every op of IN.onnx to serkd's core op set, folds shape computations, and writes the
        graph with its weights (frozen) to OUT.serkd. Unsupported ops are listed all at once.

          --batch N   extent of a symbolic leading input axis (default: the model's own batch, else 1)
          --dump      also print the imported graph in its text form
        """

    static let command = Command("import", usage: usage, syntax: Syntax(flags: ["dump"], options: ["batch"]), run: run)

    static func run(_ arguments: inout Arguments) throws {
        let source = try arguments.positional("input ONNX file (IN.onnx)")
        let destination = try arguments.positional("output file (OUT.serkd)")
        let batch = try arguments.intOption("batch")
        let dump = arguments.flag("dump")
        try arguments.finish()

        let graph = try ONNXImport.graph(fromFile: source, options: .init(batch: batch))
        try ModelFile.write(graph, to: destination, producer: "serkd-convert \(Tool.version)")
        let size = graph.dataSize()
        print("\(source) → \(destination): \(graph.nodes.count) nodes, \(size.elements) weights (\(ByteCount.describe(size.bytes))), "
              + "batch \(graph.metadata["batch"] ?? "fixed")")
        if dump { print(graph.text) }
    }
}
