import GraphIR
import Runtime

extension Lowering {
    /// Kernels for the optimizer updates.
    static func lowerOptimizer(_ node: Node, inputs: [TensorType], output: TensorType) throws -> OptimizerKernel {
        throw InvalidInput("node '\(node.name)'", "no kernel for \(node.op.kindName) yet")
    }
}
