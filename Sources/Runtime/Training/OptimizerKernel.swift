import Foundation
import Tensor

/// In-place parameter updates (AdamW, SGD with momentum), elementwise over one parameter tensor.
///
/// Arithmetic follows PyTorch's single-tensor implementations operation by operation in float32
/// (bias corrections in double, as PyTorch computes them from a Python float), so parameters after a
/// step match `torch.optim` to rounding.
public enum OptimizerKernel: Hashable, Sendable, Codable {
    /// param, grad, m, v, lr, t → param, m, v (in place).
    case adamW(count: Int, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float)
    /// param, grad, velocity, lr → param, velocity (in place).
    case sgd(count: Int, momentum: Float, nesterov: Bool, weightDecay: Float)

    /// A short name for reports.
    public var name: String {
        switch self {
        case .adamW: "adamw"
        case .sgd: "sgd"
        }
    }

    /// Runs the update; results alias the parameter and state operands.
    func run(_ operands: [UnsafeRawPointer], _ results: [UnsafeMutableRawPointer]) throws {
        func f(_ p: UnsafeRawPointer) -> UnsafePointer<Float> { p.assumingMemoryBound(to: Float.self) }
        func fm(_ p: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Float> { p.assumingMemoryBound(to: Float.self) }
        switch self {
        case .adamW(let count, let beta1, let beta2, let epsilon, let weightDecay):
            let (p, g, m, v) = (f(operands[0]), f(operands[1]), f(operands[2]), f(operands[3]))
            let lr = f(operands[4]).pointee, t = Double(f(operands[5]).pointee)
            let (newP, newM, newV) = (fm(results[0]), fm(results[1]), fm(results[2]))
            let correction1 = 1 - pow(Double(beta1), t)
            let correction2Root = Float((1 - pow(Double(beta2), t)).squareRoot())
            let stepSize = Float(Double(lr) / correction1)
            let decay = Float(1 - Double(lr) * Double(weightDecay))
            let (keep1, keep2) = (1 - beta1, 1 - beta2)
            Parallel.forEach(count, grain: 1 << 14) { range in
                for i in range {
                    let gradient = g[i]
                    let parameter = p[i] * decay
                    let first = m[i] + keep1 * (gradient - m[i])
                    let second = v[i] * beta2 + keep2 * gradient * gradient
                    newM[i] = first
                    newV[i] = second
                    newP[i] = parameter - stepSize * (first / (second.squareRoot() / correction2Root + epsilon))
                }
            }
        case .sgd(let count, let momentum, let nesterov, let weightDecay):
            let (p, g, velocity) = (f(operands[0]), f(operands[1]), f(operands[2]))
            let lr = f(operands[3]).pointee
            let (newP, newVelocity) = (fm(results[0]), fm(results[1]))
            Parallel.forEach(count, grain: 1 << 14) { range in
                for i in range {
                    let d = weightDecay == 0 ? g[i] : g[i] + weightDecay * p[i]
                    let buffer = momentum * velocity[i] + d
                    newVelocity[i] = buffer
                    let step = momentum == 0 ? d : (nesterov ? d + momentum * buffer : buffer)
                    newP[i] = p[i] - lr * step
                }
            }
        }
    }
}
