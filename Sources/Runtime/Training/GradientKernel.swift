import Tensor

/// Gradients of the forward kernels and the training-mode forward kernels (batch norm statistics, dropout).
public enum GradientKernel: Hashable, Sendable {

    /// Scratch bytes the kernel needs during its call.
    public var workspaceBytes: Int {
        switch self {}
    }

    /// A short name for reports.
    public var name: String {
        switch self {}
    }

    /// Runs the kernel on the step's operand and result addresses, in the order documented per case.
    func run(_ operands: [UnsafeRawPointer], _ results: [UnsafeMutableRawPointer], workspace: UnsafeMutableRawPointer?) throws {
        switch self {}
    }
}
