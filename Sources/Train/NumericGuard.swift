import GraphIR

/// What stops a training run whose numbers have gone bad: a loss that is not finite, or trained
/// parameters that are not (a gradient was not finite, so the update made them NaN or infinite).
///
/// Checked after every step, before anything of that step is logged or checkpointed, so the run
/// stops at the step where it went wrong and the checkpoint on disk stays the last good one. The
/// parameters are scanned rather than the gradients because the gradients live in the arena only
/// during the step; a non-finite gradient always reaches a parameter through the optimizer.
struct NumericGuard {
    /// The trained parameters, by name, sharing the plan's persistent tensors.
    private let parameters: [(name: String, tensor: Tensor)]

    init(state: Graph) {
        parameters = state.dataValues.filter { state[$0].kind == .parameter && state.tensors[$0]!.dtype == .float32 }
            .map { (state[$0].name, state.tensors[$0]!) }
    }

    /// Why the step that gave `loss` went wrong, or nil when loss and parameters are finite.
    func problem(loss: Float) -> String? {
        guard loss.isFinite else { return "the loss became \(loss)" }
        for (name, tensor) in parameters {
            let values = tensor.rawPointer.assumingMemoryBound(to: Float.self)
            for index in 0..<tensor.shape.elementCount where !values[index].isFinite {
                return "a gradient was not finite: parameter '\(name)' became \(values[index])"
            }
        }
        return nil
    }
}
