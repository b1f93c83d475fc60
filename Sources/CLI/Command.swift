/// One command of a tool (`serkd-run infer`, `serkd-convert import`): its help text, what it
/// accepts, and what it does. `Tool.main(_:usage:commands:)` gives every command the same `-h`,
/// unknown-option and exit-status behaviour.
public struct Command {
    /// The word that selects it.
    public let name: String
    /// What `TOOL NAME --help` prints: a usage line, then what it does and its options.
    public let usage: String
    /// The flags and options it accepts.
    public let syntax: Syntax
    /// Runs it on the arguments after its name.
    public let run: (inout Arguments) throws -> Void

    /// A command selected by `name`, described by `usage`, accepting `syntax`, doing `run`.
    public init(_ name: String, usage: String, syntax: Syntax, run: @escaping (inout Arguments) throws -> Void) {
        self.name = name
        self.usage = usage
        self.syntax = syntax
        self.run = run
    }
}
