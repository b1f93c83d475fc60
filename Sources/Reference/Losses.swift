import Foundation
import GraphIR

extension Reference {
    /// Evaluates the fused losses in Double.
    static func loss(_ op: LossOp, _ inputs: [Tensor]) throws -> Tensor {
        let shape = inputs[0].shape
        let (rows, classes) = (shape[0], shape[1])
        let s = inputs[0].doubles, t = inputs[1].doubles
        switch op {
        case .distillationKL(let temperature):
            let tau = Double(temperature)
            var total = 0.0
            for row in 0..<rows {
                let q = logSoftmaxRow(s[(row * classes)..<((row + 1) * classes)], tau)
                let p = logSoftmaxRow(t[(row * classes)..<((row + 1) * classes)], tau)
                total += zip(p, q).reduce(0) { $0 + exp($1.0) * ($1.0 - $1.1) }
            }
            return Tensor(doubles: [total / Double(rows) * tau * tau], dtype: .float32, shape: [])
        case .distillationKLBackward(let temperature):
            let tau = Double(temperature), upstream = inputs[2].doubles[0]
            var gradient = [Double](repeating: 0, count: rows * classes)
            for row in 0..<rows {
                let q = logSoftmaxRow(s[(row * classes)..<((row + 1) * classes)], tau)
                let p = logSoftmaxRow(t[(row * classes)..<((row + 1) * classes)], tau)
                for c in 0..<classes { gradient[row * classes + c] = upstream * tau * (exp(q[c]) - exp(p[c])) / Double(rows) }
            }
            return Tensor(doubles: gradient, dtype: .float32, shape: shape)
        }
    }

    /// log softmax(x/τ) of one row.
    private static func logSoftmaxRow(_ x: ArraySlice<Double>, _ tau: Double) -> [Double] {
        let scaled = x.map { $0 / tau }
        let largest = scaled.max() ?? 0
        let logSum = log(scaled.reduce(0) { $0 + exp($1 - largest) }) + largest
        return scaled.map { $0 - logSum }
    }
}
