import Foundation
import Tensor

/// The shell around every serkd executable: runs a command, turns a thrown problem into one line on
/// stderr and a non-zero exit status.
public enum Tool {
    /// Runs `body`; on an `InvalidInput` prints `program: subject: problem` and exits with status 1,
    /// on any other error prints it and exits with status 2.
    public static func main(_ program: String, _ body: () throws -> Void) -> Never {
        do {
            try body()
            exit(0)
        } catch let error as InvalidInput {
            printError("\(program): \(error)")
            exit(1)
        } catch {
            printError("\(program): \(error)")
            exit(2)
        }
    }

    /// Writes a line to stderr.
    public static func printError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
