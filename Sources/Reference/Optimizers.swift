import Foundation
import GraphIR

extension Reference {
    /// Evaluates the optimizer updates in Double, in PyTorch's order of operations
    /// (`torch.optim.AdamW` and `torch.optim.SGD`, single-tensor path).
    static func optimizer(_ op: OptimizerOp, _ inputs: [Tensor], types: [TensorType]) throws -> [Tensor] {
        let shape = inputs[0].shape
        let p = inputs[0].doubles, g = inputs[1].doubles
        func tensor(_ values: [Double]) -> Tensor { Tensor(doubles: values, dtype: .float32, shape: shape) }
        switch op {
        case .adamW(let beta1, let beta2, let epsilon, let weightDecay):
            let m = inputs[2].doubles, v = inputs[3].doubles
            let lr = inputs[4].doubles[0], t = inputs[5].doubles[0]
            let (b1, b2) = (Double(beta1), Double(beta2))
            let correction1 = 1 - pow(b1, t), correction2 = 1 - pow(b2, t)
            var newP = p, newM = m, newV = v
            for i in p.indices {
                let decayed = p[i] * (1 - lr * Double(weightDecay))
                newM[i] = b1 * m[i] + (1 - b1) * g[i]
                newV[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                let denominator = (newV[i].squareRoot() / correction2.squareRoot()) + Double(epsilon)
                newP[i] = decayed - (lr / correction1) * newM[i] / denominator
            }
            return [tensor(newP), tensor(newM), tensor(newV)]
        case .sgd(let momentum, let nesterov, let weightDecay):
            let velocity = inputs[2].doubles, lr = inputs[3].doubles[0]
            let mu = Double(momentum)
            var newP = p, newVelocity = velocity
            for i in p.indices {
                let d = g[i] + Double(weightDecay) * p[i]
                newVelocity[i] = mu * velocity[i] + d
                let step = mu == 0 ? d : (nesterov ? d + mu * newVelocity[i] : newVelocity[i])
                newP[i] = p[i] - lr * step
            }
            return [tensor(newP), tensor(newVelocity)]
        }
    }
}
