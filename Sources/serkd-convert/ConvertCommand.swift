import CLI
import GraphIR

/// `serkd-convert COMMAND …`: moves models between ONNX and serkd's `.serkd` files.
enum ConvertCommand {
    static let version = "0.1.0"

    static let usage = """
        usage: serkd-convert COMMAND [ARGUMENTS]

        commands:
          import IN.onnx OUT.serkd [--batch N] [--dump]   lower an ONNX model to a .serkd graph
          inspect FILE                                    describe an ONNX or .serkd model
          export IN.serkd -o OUT.onnx|OUT.safetensors     write a model for other tools

        serkd-convert COMMAND --help describes a command; serkd-convert --version prints the version.
        """

    /// Runs the command named by the first argument.
    static func run(_ arguments: [String]) throws {
        guard let command = arguments.first else {
            print(usage)
            throw InvalidInput(nil, "no command given")
        }
        let rest = Array(arguments.dropFirst())
        switch command {
        case "import": try ImportCommand.run(rest)
        case "inspect": try InspectCommand.run(rest)
        case "export": try ExportCommand.run(rest)
        case "--help", "-h", "help": print(usage)
        case "--version": print("serkd-convert \(version)")
        default: throw InvalidInput(command, "unknown command (try serkd-convert --help)")
        }
    }
}
