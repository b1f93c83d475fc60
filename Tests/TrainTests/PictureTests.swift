import Data
import Foundation
import Testing
import GraphIR
import Train

/// The run's pictures: curves from a metrics file, superpixel assignments of a token map.
@Suite struct PictureTests {
    @Test func lossCurvesAreAPNGOfTheExpectedSize() throws {
        let workspace = try Workspace()
        let metrics = workspace.file("metrics.jsonl")
        let log = try MetricsLog(path: metrics, truncate: true)
        for step in stride(from: 10, through: 100, by: 10) {
            log.append([("step", step), ("loss/ce", 2.3 / Double(step)), ("loss/total", 2.5 / Double(step))])
        }
        log.append([("step", 100), ("eval/top1", 0.8)])
        try LossCurves.draw(metrics: metrics, to: workspace.file("curves.png"))
        let image = try Image(contentsOf: workspace.file("curves.png"))
        #expect(image.width == 900 && image.height == 446 && image.channels == 3)
    }

    /// The extent of the pixels of `color` inside panel `index` of a loss-curve picture.
    func extent(of color: [UInt8], inPanel index: Int, _ image: Image) -> (width: Int, height: Int) {
        let frame = LossCurves.frame(ofPanel: index)
        var xs: [Int] = [], ys: [Int] = []
        for y in frame.top...(frame.top + frame.height) {
            for x in frame.left...(frame.left + frame.width) {
                let i = (y * image.width + x) * 3
                if Array(image.pixels[i..<(i + 3)]) == color { xs.append(x); ys.append(y) }
            }
        }
        return ((xs.max() ?? 0) - (xs.min() ?? 0), (ys.max() ?? 0) - (ys.min() ?? 0))
    }

    @Test("each loss term gets a panel of its own range: a term 10⁴ times smaller than the others still spans its height")
    func smallTermsAreNotSquashed() throws {
        let workspace = try Workspace()
        let metrics = workspace.file("metrics.jsonl")
        let log = try MetricsLog(path: metrics, truncate: true)
        for step in stride(from: 10, through: 100, by: 10) {
            log.append([("step", step), ("loss/ce", 2.3 / Double(step)), ("loss/distance", 1e-4 / Double(step)), ("loss/total", 2.5 / Double(step))])
        }
        try LossCurves.draw(metrics: metrics, to: workspace.file("curves.png"))
        let image = try Image(contentsOf: workspace.file("curves.png"))
        #expect(LossCurves.order(["loss/total", "loss/distance", "loss/ce"]) == ["loss/ce", "loss/distance", "loss/total"])
        let distance = extent(of: Canvas.palette[1], inPanel: 1, image)
        #expect(distance.height >= LossCurves.frame(ofPanel: 1).height * 9 / 10)
    }

    @Test("a single evaluation is drawn across its panel, not as a dot")
    func oneEvaluationIsVisible() throws {
        let workspace = try Workspace()
        let metrics = workspace.file("metrics.jsonl")
        let log = try MetricsLog(path: metrics, truncate: true)
        for step in stride(from: 10, through: 100, by: 10) { log.append([("step", step), ("loss/total", 2.5 / Double(step))]) }
        log.append([("step", 100), ("eval/top1", 0.8)])
        try LossCurves.draw(metrics: metrics, to: workspace.file("curves.png"))
        let image = try Image(contentsOf: workspace.file("curves.png"))
        let top1 = extent(of: Canvas.palette[1], inPanel: 1, image)
        #expect(top1.width >= LossCurves.frame(ofPanel: 1).width * 9 / 10)
    }

    @Test func aMetricsFileWithoutLossesIsRefused() throws {
        let workspace = try Workspace()
        try "{\"step\": 1, \"eval/top1\": 0.5}\n".write(toFile: workspace.file("m.jsonl"), atomically: true, encoding: .utf8)
        #expect(throws: InvalidInput(workspace.file("m.jsonl"), "has no loss records to draw")) {
            try LossCurves.draw(metrics: workspace.file("m.jsonl"), to: workspace.file("x.png"))
        }
    }

    @Test func tokensJoinTheSuperTokenTheyResemble() {
        // A 4×4 map, grid 2: four cells whose tokens are ±e₀/±e₁. The bottom-left token of the top-left
        // cell is made like the bottom-left cell's tokens, so it joins that cell.
        let cellVectors: [[Float]] = [[1, 0], [0, 1], [-1, 0], [0, -1]]
        var tokens: [Float] = []
        for y in 0..<4 {
            for x in 0..<4 {
                let cell = (y / 2) * 2 + x / 2
                tokens += (y == 1 && x == 0) ? cellVectors[2] : cellVectors[cell]
            }
        }
        let map = SuperpixelMap(tokens: tokens, height: 4, width: 4, dimension: 2, grid: 2, iterations: 1)
        #expect(map.labels == [0, 0, 1, 1,
                               2, 0, 1, 1,
                               2, 2, 3, 3,
                               2, 2, 3, 3])
    }
}
