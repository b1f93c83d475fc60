import CLI
import Compiler
import GraphIR
import ONNX

/// `serkd-compile model MODEL.serkd|MODEL.onnx -o MODEL.plan [--batch N]`: compiles an inference
/// model for `serkd-run infer`.
enum ModelCommand {
    static let usage = """
        usage: serkd-compile model MODEL.serkd|MODEL.onnx (-o MODEL.plan | --dump) [--batch N]
                                   [--disable-pass NAME]… [--memory-budget SIZE]

        Compiles an inference model into a plan `serkd-run infer MODEL.plan` runs with no graph work.

          --batch N                the batch an ONNX model is imported for (a .serkd model keeps its own)
        \(CompileCommand.outputOptions)
        """

    static let command = Command("model", usage: usage, syntax: CompileCommand.Output.syntax(adding: Syntax(options: ["batch"])), run: run)

    static func run(_ arguments: inout Arguments) throws {
        let source = try arguments.positional("model (MODEL.serkd or MODEL.onnx)")
        let batch = try arguments.intOption("batch", in: 1...65_536)
        let output = try CompileCommand.Output(&arguments)
        try arguments.finish()

        let graph = try load(source, batch: batch)
        let compiled = try Pipeline.compile(graph.frozen(), options: output.options)
        var metadata = [
            "plan.kind": "inference",
            "compiled.from": source,
            "compiled.passes": compiled.passes.map(\.name).joined(separator: ","),
            "compiled.disabled_passes": output.options.disabledPasses.sorted().joined(separator: ","),
            "graph.nodes": String(graph.nodes.count),
            "memory.arena_bytes": String(compiled.memory.arenaBytes),
            "memory.naive_bytes": String(compiled.memory.naiveBytes),
            "memory.lower_bound": String(compiled.memory.lowerBound),
        ]
        for (key, value) in graph.metadata { metadata["model." + key] = value }
        if output.dump { print(PlanDump.text(compiled.plan)) }
        guard let path = output.path else { return }
        try PlanFile(compiled, metadata: metadata).write(to: path, producer: "serkd-compile")
        print(CompileReport(source: source, output: path, plan: compiled.plan, compilation: compiled).text)
    }

    /// The model at `path`: an ONNX file imported for `batch`, or a `.serkd` file, which keeps the
    /// batch it was imported for.
    static func load(_ path: String, batch: Int?) throws -> Graph {
        if path.lowercased().hasSuffix(".onnx") {
            return try ONNXImport.graph(fromFile: path, options: ONNXImport.Options(batch: batch))
        }
        let graph = try ModelFile.read(path)
        if let batch, let input = graph.inputs.first, graph.type(of: input).shape.rank > 0, graph.type(of: input).shape[0] != batch {
            throw InvalidInput(path, "was imported for batch \(graph.type(of: input).shape[0]): import it again with `serkd-convert import … --batch \(batch)` or give the .onnx file")
        }
        return graph
    }
}
