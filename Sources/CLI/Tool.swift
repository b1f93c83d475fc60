import Foundation
import Tensor

/// The shell around every serkd executable: picks the command, answers `-h`, turns a thrown
/// problem into one line on stderr and an exit status.
///
/// Exit statuses, the same for every tool: 0 done (help included), 1 a problem the user can fix
/// (bad input, a misspelt option, a missing argument; no arguments at all prints the usage on
/// stderr), 2 anything else, 130 interrupted (Ctrl-C).
public enum Tool {
    /// serkd's version, which every tool's `--version` prints.
    public static let version = "0.1.0"

    /// Exit status of a run stopped by Ctrl-C, as shells report SIGINT (128 + 2).
    public static let interruptedStatus: Int32 = 130

    /// Runs `body`; on an `InvalidInput` prints `program: subject: problem` and exits with status 1,
    /// on `Interrupted` prints its message and exits with 130, on any other error prints it and
    /// exits with status 2.
    public static func main(_ program: String, _ body: () throws -> Void) -> Never {
        do {
            try body()
            exit(0)
        } catch let error as InvalidInput {
            printError("\(program): \(error)")
            exit(1)
        } catch let error as Interrupted {
            printError("\(program): \(error.message)")
            exit(interruptedStatus)
        } catch {
            printError("\(program): \(error)")
            exit(2)
        }
    }

    /// Runs the command `arguments` name, with the behaviour every tool shares:
    ///
    /// - no arguments: `usage` on stderr, status 1;
    /// - `-h`, `--help` or `help`: `usage` on stdout; `help COMMAND` or `COMMAND -h`: the command's;
    /// - `--NAME` with NAME in `actions`: that action; `--version` prints the version unless
    ///   `actions` says more;
    /// - an unknown command or option: one line naming it, status 1.
    public static func main(_ program: String, usage: String, commands: [Command], actions: [String: () throws -> Void] = [:],
                            arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        guard let first = arguments.first else {
            printError(usage)
            exit(1)
        }
        main(program) {
            let rest = Array(arguments.dropFirst())
            func command(_ name: String) throws -> Command {
                guard let command = commands.first(where: { $0.name == name }) else {
                    throw InvalidInput(name, "unknown command (try \(program) --help)")
                }
                return command
            }
            if ["-h", "--help", "help"].contains(first) {
                print(try rest.first.map { try command($0).usage } ?? usage)
                return
            }
            if first.hasPrefix("-") {
                let actions = actions.merging(["version": { print("\(program) \(version)") }]) { own, _ in own }
                guard let action = actions[String(first.drop { $0 == "-" })], first.hasPrefix("--") else {
                    throw InvalidInput(first, "unknown option (try \(program) --help)")
                }
                guard rest.isEmpty else { throw InvalidInput(nil, "unexpected argument '\(rest[0])' after \(first)") }
                try action()
                return
            }
            let selected = try command(first)
            if rest.prefix(while: { $0 != "--" }).contains(where: { $0 == "-h" || $0 == "--help" }) {
                print(selected.usage)
                return
            }
            var parsed = try Arguments(rest, syntax: selected.syntax)
            try selected.run(&parsed)
        }
    }

    /// Writes a line to stderr.
    public static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Thrown by a command the user stopped with Ctrl-C after it cleaned up; `message` says what was kept.
public struct Interrupted: Error {
    /// What the command kept, for the one line on stderr.
    public var message: String

    /// An interruption reported as `message`.
    public init(_ message: String) { self.message = message }
}
