import Foundation
import Tensor

/// Training curves from a run's `metrics.jsonl` as a PNG: one panel per loss term, each with its own
/// value range (a feature loss of 1e-3 beside a cross-entropy of 2 would otherwise lie flat on the
/// axis), then a panel of evaluation top-1 against the step. Panels are laid out two per row.
public enum LossCurves {
    /// Panels per row, plot size, and the margins around each plot.
    static let columns = 2, plotWidth = 330, plotHeight = 150, left = 70, top = 36, columnPitch = 450, rowPitch = 215

    /// Where panel `index` (0-based: loss terms in `draw`'s order, then top-1) draws its plot.
    public static func frame(ofPanel index: Int) -> (left: Int, top: Int, width: Int, height: Int) {
        (left + (index % columns) * columnPitch, top + (index / columns) * rowPitch, plotWidth, plotHeight)
    }

    /// The panels' order: the loss terms alphabetically with `total` last.
    public static func order(_ names: some Sequence<String>) -> [String] {
        names.sorted { ($0 == "loss/total" ? 1 : 0, $0) < ($1 == "loss/total" ? 1 : 0, $1) }
    }

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
        let names = order(losses.keys)
        let steps = (losses.values.flatMap { $0 } + accuracy).map(\.0)
        let xRange = (steps.min()!, max(steps.max()!, steps.min()! + 1))
        let panels = names.count + (accuracy.isEmpty ? 0 : 1)
        var canvas = Canvas(width: columns * columnPitch, height: top + (panels + columns - 1) / columns * rowPitch - 20)
        for (index, name) in names.enumerated() {
            panel(&canvas, index: index, title: "LOSS " + name.dropFirst(5).uppercased(), xRange: xRange, points: losses[name]!)
        }
        if !accuracy.isEmpty {
            panel(&canvas, index: names.count, title: "EVAL TOP-1 %", xRange: xRange, points: accuracy)
            if accuracy.count == 1 { single(&canvas, index: names.count, accuracy[0]) }
        }
        try canvas.writePNG(to: outputPath)
    }

    /// One panel: axes, value labels at its own min and max, the series as a line (with a marker per
    /// point when there are few).
    static func panel(_ canvas: inout Canvas, index: Int, title: String, xRange: (Double, Double), points: [(Double, Double)]) {
        let (left, top, width, height) = frame(ofPanel: index)
        let finite = points.filter { $0.1.isFinite }
        var low = finite.map(\.1).min() ?? 0, high = finite.map(\.1).max() ?? 1
        if high - low < 1e-12 * max(1, abs(high)) {
            // A constant series sits mid-panel, the range ±5% of its value (±0.5 around zero).
            let margin = high == 0 ? 0.5 : abs(high) * 0.05
            (low, high) = (low - margin, high + margin)
        }
        let grey: [UInt8] = [200, 200, 200], black: [UInt8] = [0, 0, 0]
        for fraction in stride(from: 0.0, through: 1.0, by: 0.5) {
            let y = top + Int(Double(height - 1) * (1 - fraction))
            canvas.line(left, y, left + width, y, grey)
            canvas.text(String(format: "%.3g", low + (high - low) * fraction), x: left - 66, y: y - 3, black)
        }
        canvas.line(left, top, left, top + height, black)
        canvas.line(left, top + height, left + width, top + height, black)
        canvas.text(title, x: left, y: top - 14, black)
        canvas.text(String(format: "STEP %.0f", xRange.0), x: left, y: top + height + 6, black)
        let last = String(format: "%.0f", xRange.1)
        canvas.text(last, x: left + width - 6 * last.count, y: top + height + 6, black)
        let color = Canvas.palette[index % Canvas.palette.count]
        let pixels = finite.map { p in
            (left + Int(Double(width) * (p.0 - xRange.0) / (xRange.1 - xRange.0)), top + Int(Double(height - 1) * (1 - (p.1 - low) / (high - low))))
        }
        for (a, b) in zip(pixels, pixels.dropFirst()) { canvas.line(a.0, a.1, b.0, b.1, color) }
        if pixels.count <= 20 { for p in pixels { canvas.fill(x: p.0 - 3, y: p.1 - 3, width: 7, height: 7, color) } }
    }

    /// A lone evaluation, which a line cannot show: a dashed level across the panel and its value
    /// written beside the marker.
    static func single(_ canvas: inout Canvas, index: Int, _ point: (Double, Double)) {
        let (left, top, width, height) = frame(ofPanel: index)
        let y = top + (height - 1) / 2
        let color = Canvas.palette[index % Canvas.palette.count]
        for x in stride(from: left, to: left + width, by: 8) { canvas.line(x, y, min(x + 4, left + width), y, color) }
        canvas.text(String(format: "%.2f%% AT STEP %.0f", point.1, point.0), x: left + 8, y: y - 16, [0, 0, 0])
    }
}
