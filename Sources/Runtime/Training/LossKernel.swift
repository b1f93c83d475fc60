import Foundation
import Tensor

/// Losses computed as one kernel, accumulating in double: the KD term compares two nearly equal
/// distributions early in training, where float32 sums keep only a few digits.
public enum LossKernel: Hashable, Sendable, Codable {
    /// student logits, teacher logits [rows, classes] → T²·batchmean KL(softmax(t/T) ‖ softmax(s/T)).
    case distillationKL(rows: Int, classes: Int, temperature: Float)
    /// student logits, teacher logits, dL → dStudent = dL·T·(softmax(s/T) − softmax(t/T))/rows.
    case distillationKLBackward(rows: Int, classes: Int, temperature: Float)

    /// A short name for reports.
    public var name: String {
        switch self {
        case .distillationKL: "distillation_kl"
        case .distillationKLBackward: "distillation_kl_backward"
        }
    }

    func run(_ operands: [UnsafeRawPointer], _ results: [UnsafeMutableRawPointer]) {
        let s = operands[0].assumingMemoryBound(to: Float.self), t = operands[1].assumingMemoryBound(to: Float.self)
        switch self {
        case .distillationKL(let rows, let classes, let temperature):
            let tau = Double(temperature)
            var q = [Double](repeating: 0, count: classes), p = q
            var total = 0.0
            for row in 0..<rows {
                Self.logSoftmax(s + row * classes, classes, tau, into: &q)
                Self.logSoftmax(t + row * classes, classes, tau, into: &p)
                for c in 0..<classes { total += exp(p[c]) * (p[c] - q[c]) }
            }
            results[0].assumingMemoryBound(to: Float.self).pointee = Float(total / Double(rows) * tau * tau)
        case .distillationKLBackward(let rows, let classes, let temperature):
            let tau = Double(temperature)
            let upstream = Double(operands[2].assumingMemoryBound(to: Float.self).pointee)
            let gradient = results[0].assumingMemoryBound(to: Float.self)
            let scale = upstream * tau / Double(rows)
            var q = [Double](repeating: 0, count: classes), p = q
            for row in 0..<rows {
                Self.logSoftmax(s + row * classes, classes, tau, into: &q)
                Self.logSoftmax(t + row * classes, classes, tau, into: &p)
                for c in 0..<classes { gradient[row * classes + c] = Float(scale * (exp(q[c]) - exp(p[c]))) }
            }
        }
    }

    /// log softmax(x/τ) of one row, in double.
    private static func logSoftmax(_ x: UnsafePointer<Float>, _ count: Int, _ tau: Double, into out: inout [Double]) {
        var largest = -Double.infinity
        for c in 0..<count { largest = max(largest, Double(x[c]) / tau) }
        var sum = 0.0
        for c in 0..<count { sum += exp(Double(x[c]) / tau - largest) }
        let logSum = log(sum) + largest
        for c in 0..<count { out[c] = Double(x[c]) / tau - logSum }
    }
}
