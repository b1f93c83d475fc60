import Foundation

/// serkd's executables as a user runs them: the binaries SwiftPM built next to the test bundle,
/// started in a subprocess so that tests see exit status, stdout, stderr and the files left behind.
public enum BuiltTool {
    /// The path of the executable `name` in the build products folder.
    public static func path(_ name: String) -> String {
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while folder.path.contains(".xctest") { folder = folder.deletingLastPathComponent() }
        return folder.appendingPathComponent(name).path
    }

    /// Runs the executable `name` with `arguments` to completion, with `environment` added to this
    /// process's environment.
    public static func run(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
        try run(at: path(name), arguments, environment: environment)
    }

    /// Runs the program at `executable` (a launcher such as mpirun) with `arguments` to completion,
    /// with `environment` added to this process's environment.
    public static func run(at executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile(), err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
