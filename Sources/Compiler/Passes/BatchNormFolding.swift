import Foundation
import GraphIR

/// Folds an inference-mode batch norm with constant statistics into the convolution feeding it,
/// when that convolution has constant weights and nothing else reads its output:
/// W′ = W·γ/√(σ² + ε) per filter, b′ = (b − μ)·γ/√(σ² + ε) + β. A frozen teacher's BNs then cost
/// nothing; a student's BNs are training-mode (batch statistics) and stay.
public enum BatchNormFolding {
    /// The graph with foldable conv → batch norm pairs merged into one convolution.
    public static func run(_ graph: Graph) -> Graph {
        var rewrite = GraphRewrite(graph)
        for (index, node) in graph.nodes.enumerated() {
            guard case .core(.batchNorm(let epsilon)) = node.op,
                  node.inputs.dropFirst().allSatisfy({ graph[$0].kind == .constant }),
                  let convIndex = rewrite.producer(of: node.inputs[0]), rewrite.isOnlyRead(node.inputs[0], by: index),
                  case .core(.conv(let geometry)) = graph.nodes[convIndex].op else { continue }
            let conv = graph.nodes[convIndex]
            guard conv.inputs.dropFirst().allSatisfy({ graph[$0].kind == .constant }) else { continue }
            let statistics = node.inputs.dropFirst().map { graph.tensors[$0]!.doubles }
            let (gamma, beta, mean, variance) = (statistics[0], statistics[1], statistics[2], statistics[3])
            let weight = graph.tensors[conv.inputs[1]]!
            let filters = weight.shape[0], filterSize = weight.elementCount / max(filters, 1)
            let oldBias = conv.inputs.count > 2 ? graph.tensors[conv.inputs[2]]!.doubles : [Double](repeating: 0, count: filters)
            var w = weight.doubles, b = [Double](repeating: 0, count: filters)
            for m in 0..<filters {
                let factor = gamma[m] / (variance[m] + Double(epsilon)).squareRoot()
                for i in (m * filterSize)..<((m + 1) * filterSize) { w[i] *= factor }
                b[m] = (oldBias[m] - mean[m]) * factor + beta[m]
            }
            let newWeight = rewrite.addConstant(graph[conv.inputs[1]].name + ".bn_folded", Tensor(doubles: w, dtype: .float32, shape: weight.shape))
            let newBias = rewrite.addConstant(node.name + ".bias_folded", Tensor(doubles: b, dtype: .float32, shape: [filters]))
            rewrite.remove(convIndex)
            rewrite.replace(index, with: Node(op: .conv(geometry), inputs: [conv.inputs[0], newWeight, newBias], outputs: node.outputs, name: conv.name))
        }
        return rewrite.finished()
    }
}
