import CLI
import GraphIR
import ONNX

/// `serkd-convert inspect FILE`: describes an ONNX model or a `.serkd` graph.
enum InspectCommand {
    static let usage = """
        usage: serkd-convert inspect FILE

        Describes FILE, an ONNX model or a .serkd graph (told apart by content): inputs and outputs,
        opsets, an op histogram, the parameter count and bytes, where the weights came from, and the
        metadata (class labels, input normalisation, taps, how it was trained).
        """

    static let command = Command("inspect", usage: usage, syntax: Syntax(), run: run)

    static func run(_ arguments: inout Arguments) throws {
        let path = try arguments.positional("file to inspect")
        try arguments.finish()
        if try isModelFile(path) {
            print(describe(try ModelFile.read(path), path: path))
        } else {
            print(try ONNXModelSummary(path: path))
        }
    }

    /// Whether `path` starts with the `.serkd` magic.
    private static func isModelFile(_ path: String) throws -> Bool {
        let file = try MappedFile(path: path)
        return file.withUnsafeBytes { Array($0.prefix(ModelFile.magic.count)) == ModelFile.magic }
    }

    /// The report for a `.serkd` graph.
    static func describe(_ graph: Graph, path: String) -> String {
        var lines = ["\(path): serkd model '\(graph.name)'"]
        let summarised = ["source", "producer", "opsets", "batch", "weights"]
        for key in summarised {
            if let value = graph.metadata[key] { lines.append("\(key): \(value)") }
        }
        for input in graph.inputs { lines.append("input  \(graph[input].name): \(graph[input].type)") }
        for output in graph.outputs { lines.append("output \(graph[output].name): \(graph[output].type)") }
        var histogram: [String: Int] = [:]
        for node in graph.nodes { histogram[node.op.kindName, default: 0] += 1 }
        lines.append("nodes: \(graph.nodes.count)")
        for (op, count) in histogram.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            lines.append("  " + op + String(repeating: " ", count: max(1, 24 - op.count)) + String(count))
        }
        let parameters = graph.dataSize(of: .parameter), constants = graph.dataSize(of: .constant)
        lines.append("parameters: \(parameters.elements) (\(ByteCount.describe(parameters.bytes))); "
                     + "constants: \(constants.elements) (\(ByteCount.describe(constants.bytes)))")
        lines += MetadataListing.lines(graph.metadata.filter { !summarised.contains($0.key) })
        return lines.joined(separator: "\n")
    }
}
