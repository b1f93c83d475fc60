import CLI
import Foundation
import Tensor
import Train

/// `serkd-run visualize`: pictures of a run as PNG.
///
///     serkd-run visualize curves RUN_FOLDER|metrics.jsonl -o curves.png
///     serkd-run visualize superpixels --config RUN.json [--student best.serkd] [--images 0,1,2,3] -o superpixels.png
enum VisualizeCommand {
    static let usage = """
        usage: serkd-run visualize curves RUN_FOLDER|metrics.jsonl -o curves.png
               serkd-run visualize superpixels --config RUN.json [--student best.serkd] [--images 0,1,2,3]
                                               [--set key=value]… -o superpixels.png

          curves         one panel per loss term (each on its own scale) and evaluation top-1, against the step
          superpixels    evaluation images with the teacher's and the student's superpixels (paper Fig. 3)
          -o FILE        the PNG to write
        """

    static let command = Command("visualize", usage: usage, syntax: Syntax(options: ["output", "config", "student", "images", "set"]), run: run)

    static func run(_ arguments: inout Arguments) throws {
        let what = try arguments.positional("what to draw (curves or superpixels)")
        guard let output = arguments.option("output") else { throw InvalidInput("-o", "missing (the PNG to write)") }
        guard output.lowercased().hasSuffix(".png") else { throw InvalidInput(output, "pictures are written as PNG: name the file .png") }
        switch what {
        case "curves":
            var source = try arguments.positional("a run folder or its metrics.jsonl")
            try arguments.finish()
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: source, isDirectory: &isFolder), isFolder.boolValue { source += "/metrics.jsonl" }
            try LossCurves.draw(metrics: source, to: output)
        case "superpixels":
            guard let configPath = arguments.option("config") else { throw InvalidInput("--config", "missing (the run config)") }
            let student = arguments.option("student")
            let indices = try (arguments.option("images") ?? "0,1,2,3").split(separator: ",").map { text -> Int in
                guard let index = Int(text), index >= 0 else { throw InvalidInput("--images", "expected image indices like 0,1,2, got '\(text)'") }
                return index
            }
            let overrides = arguments.options("set")
            try arguments.finish()
            try SuperpixelFigure.draw(config: try RunConfig.load(configPath, overrides: overrides), student: student, indices: indices, to: output)
        default:
            throw InvalidInput(nil, "visualize draws 'curves' or 'superpixels', not '\(what)'")
        }
        print("wrote \(output)")
    }
}
