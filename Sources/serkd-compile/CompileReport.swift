import Compiler
import Foundation
import Runtime
import Train

/// What `serkd-compile` prints after writing a plan: nodes before and after each pass, kernels by
/// kind, the planned arena against the naive sum of intermediates and the liveness lower bound, and
/// the persistent bytes.
struct CompileReport {
    let source: String
    let output: String
    let plan: Plan
    let compilation: Pipeline.Result

    var text: String {
        var lines = ["\(source) → \(output)"]
        lines.append("passes:")
        if compilation.passes.isEmpty { lines.append("  (none)") }
        for pass in compilation.passes {
            lines.append("  \(pass.name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(String(format: "%6d → %6d nodes  %7.1f ms", pass.nodesBefore, pass.nodesAfter, pass.seconds * 1000))")
        }
        var kinds: [String: Int] = [:]
        for step in plan.steps { kinds[String(step.kernel.name.prefix { $0 != "." }), default: 0] += 1 }
        let histogram = kinds.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        lines.append("kernels: \(plan.steps.count) (\(histogram))")
        let memory = compilation.memory
        lines.append("arena: \(formatBytes(memory.arenaBytes)) planned (\(memory.strategy)), naive sum \(formatBytes(memory.naiveBytes)), "
                     + "liveness lower bound \(formatBytes(memory.lowerBound))")
        let persistent = plan.persistent.reduce(0) { $0 + $1.byteCount }
        lines.append("persistent: \(formatBytes(persistent)) in \(plan.persistent.count) tensors")
        let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? nil
        lines.append("plan file: \(size.map(formatBytes) ?? "?")")
        return lines.joined(separator: "\n")
    }
}
