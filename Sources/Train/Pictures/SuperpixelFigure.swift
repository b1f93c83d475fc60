import Compiler
import Data
import Distill
import Foundation
import GraphIR
import Runtime

/// Paper Fig. 3 for a run: evaluation images with the teacher's and the student's superpixel
/// assignments overlaid, one row per image (image | teacher | student).
public enum SuperpixelFigure {
    /// Draws the figure for `config`'s teacher and `student` (a trained model; the config's own
    /// student, untrained, when nil) on evaluation images `indices` into `outputPath`.
    public static func draw(config: RunConfig, student studentPath: String?, indices: [Int], to outputPath: String) throws {
        guard let teacherEntry = config.teacher else { throw InvalidInput("teacher", "the config has no teacher to compare with") }
        let data = config.data
        let (_, evalSource) = try Datasets.open(data)
        for index in indices where !(0..<evalSource.count).contains(index) {
            throw InvalidInput("--images", "image \(index) is outside the \(evalSource.count) evaluation images")
        }
        var studentEntry = config.student
        if let studentPath {
            studentEntry.source = studentPath
            studentEntry.taps = nil
        }
        let models = try [(teacherEntry, "teacher"), (studentEntry, "student")].map { entry, role in
            try TokenProbe(entry: entry, config: config, role: role)
        }
        let tile = data.imageSize * max(1, 192 / data.imageSize)
        var canvas = Canvas(width: 3 * (tile + 16) + 16, height: indices.count * (tile + 28) + 28)
        for (column, title) in ["IMAGE", "TEACHER", studentPath == nil ? "STUDENT (UNTRAINED)" : "STUDENT"].enumerated() {
            canvas.text(title, x: 16 + column * (tile + 16), y: 8, [0, 0, 0])
        }
        let transform = SampleTransform(channels: data.channels, width: data.imageSize, height: data.imageSize,
                                        steps: [Resize(width: data.imageSize, height: data.imageSize)],
                                        normalization: Normalization(mean: config.student.mean, std: config.student.std))
        var generator = Xoshiro256(seed: 0)
        for (row, index) in indices.enumerated() {
            let image = try evalSource.sample(at: index).image.converted(toChannels: data.channels)
                .resized(width: data.imageSize, height: data.imageSize)
            let input = try transform.tensor(image, using: &generator).reshaped([1, data.channels, data.imageSize, data.imageSize])
            let top = 24 + row * (tile + 28)
            let big = image.resized(width: tile, height: tile)
            for y in 0..<tile {
                for x in 0..<tile {
                    let v = (0..<3).map { big.pixels[(y * tile + x) * big.channels + min($0, big.channels - 1)] }
                    canvas.set(16 + x, top + y, v)
                }
            }
            for (column, model) in models.enumerated() {
                let map = try model.map(input, grid: config.objective.clustering.grid, iterations: max(config.objective.clustering.iterations, 1))
                map.draw(over: image, size: tile, into: &canvas, left: 16 + (column + 1) * (tile + 16), top: top)
            }
        }
        try canvas.writePNG(to: outputPath)
    }

    /// A model compiled to produce its visual tokens for one image.
    struct TokenProbe {
        let executor: Executor
        let prefix: Int
        let side: Int

        init(entry: RunConfig.Model, config: RunConfig, role: String) throws {
            let loaded = try ModelLoader.load(entry, batch: 1, data: config.data, seed: config.seed, role: role, forEvaluation: true)
            guard let name = loaded.taps.tokens, loaded.graph.value(named: name) != nil else {
                throw InvalidInput(role, "has no token tap: superpixel pictures are drawn for ViT-style models")
            }
            var graph = try loaded.graph.adaptingInput(channels: config.data.channels, mean: config.student.mean, std: config.student.std,
                                                       ownMean: entry.mean, ownStd: entry.std, role: role)
            graph.outputs = [graph.value(named: name)!]
            let shape = graph.type(of: graph.outputs[0]).shape
            prefix = loaded.taps.prefixTokens
            side = Int(Double(shape[1] - prefix).squareRoot())
            guard side * side == shape[1] - prefix else {
                throw InvalidInput(role, "its \(shape[1] - prefix) visual tokens do not form a square map")
            }
            executor = Executor(try Pipeline.compile(graph.frozen()).plan)
        }

        func map(_ input: Tensor, grid: Int, iterations: Int) throws -> SuperpixelMap {
            let tokens = try executor.run([input])[0]
            let d = tokens.shape[2]
            let visual = Array(tokens.floats[(prefix * d)...])
            return SuperpixelMap(tokens: visual, height: side, width: side, dimension: d, grid: grid, iterations: iterations)
        }
    }
}
