import GraphIR
import Runtime

extension Lowering {
    /// The all-reduce of a data-parallel step: one bucketed kernel over every gradient it averages.
    static func lowerCollective(_ op: CollectiveOp, inputs: [TensorType]) -> Kernel {
        switch op {
        case .allReduceMean(let ranks): .allReduce(AllReduceKernel(counts: inputs.map(\.shape.elementCount), ranks: ranks))
        }
    }
}
