import Foundation
import Tensor

/// A classifier's output as a user reads it: per image, the most probable classes by name with
/// their softmax probabilities.
struct ClassScores {
    /// Probabilities, one row of `classes` per image.
    let probabilities: [[Double]]
    /// Class names, when the model or a `--labels` file gives them.
    let labels: [String]?

    /// `output` is [images, classes]: logits, or probabilities when the model ends in a softmax
    /// (every row non-negative and summing to 1), which are kept as they are.
    init(_ output: Tensor, labels: [String]?) {
        let values = output.floats, classes = output.shape[1]
        probabilities = (0..<output.shape[0]).map { row in
            let scores = values[(row * classes)..<((row + 1) * classes)].map(Double.init)
            if scores.allSatisfy({ $0 >= 0 }), abs(scores.reduce(0, +) - 1) < 1e-4 { return scores }
            let largest = scores.max() ?? 0
            let exponentials = scores.map { exp($0 - largest) }
            let sum = exponentials.reduce(0, +)
            return exponentials.map { $0 / sum }
        }
        self.labels = labels
    }

    /// The name of class `index`: its label, else `class N`.
    func name(_ index: Int) -> String {
        labels.flatMap { index < $0.count ? $0[index] : nil } ?? "class \(index)"
    }

    /// One line per image: `  [i] name 91.23%, name 4.10%, …` for the `k` most probable classes
    /// (ties in class order).
    func lines(top k: Int) -> [String] {
        probabilities.enumerated().map { row, p in
            let best = p.indices.sorted { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }.prefix(k)
            return "  [\(row)] " + best.map { "\(name($0)) \(String(format: "%.2f%%", p[$0] * 100))" }.joined(separator: ", ")
        }
    }

    /// Class names from a model's metadata (one per line, or comma-separated), if any.
    static func labels(metadata text: String?) -> [String]? {
        text.map { text in
            text.split(separator: text.contains("\n") ? "\n" : ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// Class names from a `--labels` file: one per line, in class order (blank lines at the end ignored).
    static func labels(file path: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw InvalidInput(path, "no such file, or not UTF-8 text") }
        var names = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        while names.last?.isEmpty == true { names.removeLast() }
        guard !names.isEmpty else { throw InvalidInput(path, "holds no class names (one per line)") }
        return names
    }
}
