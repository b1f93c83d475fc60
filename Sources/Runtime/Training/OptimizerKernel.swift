import Tensor

/// In-place parameter updates (AdamW, SGD with momentum).
public enum OptimizerKernel: Hashable, Sendable {

    /// A short name for reports.
    public var name: String {
        switch self {}
    }

    /// Runs the kernel on the step's operand and result addresses, in the order documented per case.
    func run(_ operands: [UnsafeRawPointer], _ results: [UnsafeMutableRawPointer]) throws {
        switch self {}
    }
}
