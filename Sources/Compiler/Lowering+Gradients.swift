import GraphIR
import Runtime

extension Lowering {
    /// Kernels for the gradient and training-mode ops.
    static func lowerGradient(_ node: Node, inputs: [TensorType], output: TensorType) throws -> GradientKernel {
        throw InvalidInput("node '\(node.name)'", "no kernel for \(node.op.kindName) yet")
    }
}
