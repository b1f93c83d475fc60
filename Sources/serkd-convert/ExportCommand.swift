import CLI
import GraphIR
import ONNX

/// `serkd-convert export IN.serkd -o OUT.onnx|OUT.safetensors`: writes a trained student for other
/// tools, as an ONNX model or as safetensors weights.
enum ExportCommand {
    static let usage = """
        usage: serkd-convert export IN.serkd -o OUT.onnx|OUT.safetensors [--opset N] [--fixed-batch]

        Writes the inference graph in IN.serkd with its weights, in the format OUT's extension names:

          .onnx          an ONNX model of standard ops (onnxruntime loads it); metadata (labels, taps,
                         normalisation) becomes metadata_props. The batch is symbolic ("N") unless a
                         node mixes samples, in which case the saved batch is kept and a note says why.
          .safetensors   the parameters by value name, with the metadata as __metadata__

          -o, --output FILE   the file to write (nothing is left there on failure)
          --opset N           ONNX opset, \(ONNXExport.supportedOpsets.lowerBound)–\(ONNXExport.supportedOpsets.upperBound) (default 17)
          --fixed-batch       keep the saved batch size instead of a symbolic one
        """

    static let command = Command("export", usage: usage, syntax: Syntax(flags: ["fixed-batch"], options: ["output", "opset"]), run: run)

    static func run(_ arguments: inout Arguments) throws {
        let source = try arguments.positional("input model (IN.serkd)")
        guard let destination = arguments.option("output") else { throw InvalidInput(nil, "missing output file (-o OUT.onnx or OUT.safetensors)") }
        let opset = try arguments.intOption("opset", in: ONNXExport.supportedOpsets)
        let fixedBatch = arguments.flag("fixed-batch")
        try arguments.finish()
        let isONNX = destination.hasSuffix(".onnx")
        guard isONNX || destination.hasSuffix(".safetensors") else {
            throw InvalidInput(destination, "unknown output format (the name must end in .onnx or .safetensors)")
        }
        if !isONNX, opset != nil || fixedBatch {
            throw InvalidInput(opset != nil ? "--opset" : "--fixed-batch", "applies to .onnx output only")
        }

        let graph = try ModelFile.read(source)
        if !isONNX {
            let written = try SafeTensors.write(weightsOf: graph, to: destination)
            print("\(source) → \(destination): \(written.count) tensors (\(ByteCount.describe(written.bytes)))")
            return
        }
        let options = ONNXExport.Options(opset: opset ?? 17, dynamicBatch: !fixedBatch, producerVersion: Tool.version)
        let summary: ONNXExport.Summary
        do {
            summary = try ONNXExport.write(graph, to: destination, options: options)
        } catch let error as InvalidInput {
            throw error.about(source)
        }
        let batch = graph.inputs.first.map { graph.type(of: $0).shape.dims.first.map(String.init) ?? "none" } ?? "none"
        if let reason = summary.fixedBatchReason {
            Tool.printError("serkd-convert: note: \(destination) keeps the fixed batch \(batch): \(reason)")
        }
        print("\(source) → \(destination): \(summary.nodeCount) ONNX nodes, \(summary.initializerCount) initializers, "
              + "opset \(options.opset), batch \(summary.dynamicBatch ? "N (symbolic)" : "\(batch) (fixed)")")
    }
}
