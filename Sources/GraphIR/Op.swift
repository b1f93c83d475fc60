import Tensor

/// An operation of a serkd graph: one of three op sets, each closed and switched over exhaustively.
///
/// The sets follow who creates the op. Import produces only `core` ops; autodiff and the SeRKD
/// step add `training` ops (gradients, losses, optimizers); the compiler's passes add `fused` ops to
/// finished graphs. A stage that handles one set switches over it without a `default:`, so an op
/// added to a set fails to compile everywhere it is not yet handled. Facts about each op (name,
/// attributes, in-place outputs, views, cost) live in `Op+Traits.swift`.
public enum Op: Hashable, Sendable {
    /// An inference op, the set ONNX lowers to and exports from.
    case core(CoreOp)
    /// An op of the training step: a gradient, a training-mode forward, a loss or an optimizer update.
    case training(TrainingOp)
    /// A compiler fusion, equal by definition to the core composition it replaces.
    case fused(FusedOp)
}
