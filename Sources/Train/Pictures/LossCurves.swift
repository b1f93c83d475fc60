import Foundation
import Tensor

/// Training curves from a run's `metrics.jsonl`: every loss term against the step (top panel) and
/// evaluation top-1 against the step (bottom panel), as a PNG.
public enum LossCurves {
    /// Draws the curves of `metricsPath` into `outputPath`.
    public static func draw(metrics metricsPath: String, to outputPath: String) throws {
        let records = try MetricsLog.read(metricsPath)
        var losses: [String: [(Double, Double)]] = [:]
        var accuracy: [(Double, Double)] = []
        for record in records {
            guard let step = record["step"] else { continue }
            for (key, value) in record where key.hasPrefix("loss/") { losses[key, default: []].append((step, value)) }
            if let top1 = record["eval/top1"] { accuracy.append((step, top1 * 100)) }
        }
        guard !losses.isEmpty else { throw InvalidInput(metricsPath, "has no loss records to draw") }
        var canvas = Canvas(width: 900, height: 620)
        let names = losses.keys.sorted { ($0 == "loss/total" ? 1 : 0, $0) < ($1 == "loss/total" ? 1 : 0, $1) }
        let steps = losses.values.flatMap { $0.map(\.0) }
        let xRange = (steps.min()!, max(steps.max()!, steps.min()! + 1))
        panel(&canvas, top: 20, height: 360, title: "LOSS TERMS", xRange: xRange,
              series: names.map { (String($0.dropFirst(5)), losses[$0]!) })
        if !accuracy.isEmpty {
            panel(&canvas, top: 420, height: 180, title: "EVAL TOP-1 %", xRange: xRange, series: [("top-1", accuracy)])
        }
        try canvas.writePNG(to: outputPath)
    }

    /// One panel: axes, min/max labels, a line per series and a legend.
    static func panel(_ canvas: inout Canvas, top: Int, height: Int, title: String, xRange: (Double, Double),
                      series: [(name: String, points: [(Double, Double)])]) {
        let left = 70, width = 640
        let values = series.flatMap { $0.points.map(\.1) }.filter(\.isFinite)
        var low = values.min() ?? 0, high = values.max() ?? 1
        if high - low < 1e-9 { high += 0.5; low -= 0.5 }
        let grey: [UInt8] = [200, 200, 200], black: [UInt8] = [0, 0, 0]
        for fraction in stride(from: 0.0, through: 1.0, by: 0.25) {
            let y = top + Int(Double(height) * (1 - fraction))
            canvas.line(left, y, left + width, y, grey)
            canvas.text(String(format: "%.3g", low + (high - low) * fraction), x: 4, y: y - 3, black)
        }
        canvas.line(left, top, left, top + height, black)
        canvas.line(left, top + height, left + width, top + height, black)
        canvas.text(title, x: left, y: top - 12, black)
        canvas.text(String(format: "STEP %.0f", xRange.0), x: left, y: top + height + 6, black)
        canvas.text(String(format: "%.0f", xRange.1), x: left + width - 30, y: top + height + 6, black)
        func point(_ p: (Double, Double)) -> (Int, Int) {
            (left + Int(Double(width) * (p.0 - xRange.0) / (xRange.1 - xRange.0)),
             top + Int(Double(height) * (1 - (p.1 - low) / (high - low))))
        }
        for (index, entry) in series.enumerated() {
            let color = Canvas.palette[index % Canvas.palette.count]
            let points = entry.points.filter { $0.1.isFinite }.map(point)
            for (a, b) in zip(points, points.dropFirst()) { canvas.line(a.0, a.1, b.0, b.1, color) }
            if points.count == 1 { canvas.fill(x: points[0].0 - 2, y: points[0].1 - 2, width: 5, height: 5, color) }
            canvas.fill(x: left + width + 20, y: top + 6 + index * 16, width: 12, height: 8, color)
            canvas.text(entry.name, x: left + width + 38, y: top + 6 + index * 16, black)
        }
    }
}
