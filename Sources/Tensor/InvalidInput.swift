/// A problem with something a user handed us (a file, a flag, a config value), reported as one line
/// that names the thing and what is wrong with it.
///
/// Every reader in serkd throws this instead of trapping, so command-line tools can print
/// `serkd: <file>: <problem>` and exit non-zero without a crash or a half-written output.
public struct InvalidInput: Error, CustomStringConvertible, Equatable {
    /// The file, flag or key the problem is in, if there is one.
    public var subject: String?
    /// What is wrong, in words a user can act on.
    public var problem: String

    /// Creates an error about `subject` (a path, flag or key).
    public init(_ subject: String?, _ problem: String) {
        self.subject = subject
        self.problem = problem
    }

    public var description: String { subject.map { "\($0): \(problem)" } ?? problem }

    /// The same problem, attributed to `subject` unless it already names one.
    public func about(_ subject: String) -> InvalidInput {
        self.subject == nil ? InvalidInput(subject, problem) : self
    }
}
