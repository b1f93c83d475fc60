import CLI
import Compiler
import Dispatch
import GraphIR
import ONNX
import Runtime
import Train

/// `serkd-compile inspect FILE.plan [--dump]`: reads and validates a plan file as `serkd-run` would
/// and describes it: metadata, kernels, memory, how long reading took.
enum InspectCommand {
    static let usage = """
        usage: serkd-compile inspect FILE.plan [--dump]

        Reads and checks FILE.plan as serkd-run would and describes it: inputs, outputs, kernels,
        arena and persistent memory, metadata, and how long reading took.

          --dump      also print the plan: one line per step, then the buffers
        """

    static let command = Command("inspect", usage: usage, syntax: Syntax(flags: ["dump"]), run: run)

    static func run(_ arguments: inout Arguments) throws {
        let path = try arguments.positional("plan file (FILE.plan)")
        let dump = arguments.flag("dump")
        try arguments.finish()

        let start = DispatchTime.now().uptimeNanoseconds
        let file = try PlanFile.read(path)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let plan = file.plan
        let persistent = plan.persistent.reduce(0) { $0 + $1.byteCount }
        print("\(path): valid plan, read and checked in \(String(format: "%.3f", seconds)) s")
        print("steps: \(plan.steps.count), buffers: \(plan.buffers.count), arena: \(formatBytes(plan.arenaBytes)), "
              + "persistent: \(formatBytes(persistent)) in \(plan.persistent.count) tensors")
        print("inputs: " + plan.inputs.map { describe($0, in: plan) }.joined(separator: ", "))
        print("outputs: " + plan.outputs.map { describe($0, in: plan) }.joined(separator: ", "))
        for line in MetadataListing.lines(file.metadata) { print(line) }
        if dump { print(PlanDump.text(plan)) }
    }

    private static func describe(_ id: BufferID, in plan: Plan) -> String {
        let buffer = plan.buffers[id.index]
        return "\(buffer.name) \(buffer.dtype.shortName)\(buffer.shape)"
    }
}
