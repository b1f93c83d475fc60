import GraphIR
import Runtime

extension Lowering {
    /// Kernels for the SeRKD operators.
    static func lowerSeRKD(_ node: Node, inputs: [TensorType], output: TensorType) throws -> SeRKDKernel {
        throw InvalidInput("node '\(node.name)'", "no kernel for \(node.op.kindName) yet")
    }
}
