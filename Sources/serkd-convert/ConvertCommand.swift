import CLI
import GraphIR

/// `serkd-convert COMMAND …`: moves models between ONNX and serkd's `.serkd` files.
enum ConvertCommand {
    static let usage = """
        usage: serkd-convert COMMAND [ARGUMENTS]

        commands:
          import IN.onnx OUT.serkd [--batch N] [--dump]   lower an ONNX model to a .serkd graph
          inspect FILE                                    describe an ONNX or .serkd model
          export IN.serkd -o OUT.onnx|OUT.safetensors     write a model for other tools

        serkd-convert COMMAND --help (or -h) describes a command; serkd-convert --version prints the version.
        """

    /// The commands, in the order the usage lists them.
    static let commands = [ImportCommand.command, InspectCommand.command, ExportCommand.command]
}
