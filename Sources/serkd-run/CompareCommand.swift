import CLI
import Foundation
import Tensor
import Train

/// `serkd-run compare RUN_FOLDER…`: one table row per run from its `config.json` and
/// `metrics.jsonl`: method, steps, final and best evaluation top-1/top-5, training throughput.
enum CompareCommand {
    static func run(_ arguments: inout Arguments) throws {
        var folders: [String] = []
        while let folder = arguments.optionalPositional() { folders.append(folder) }
        try arguments.finish()
        guard !folders.isEmpty else { throw InvalidInput(nil, "missing run folders to compare") }
        // Foundation's %@ ignores field widths on Linux, so names are padded here.
        let width = max(3, folders.map { ($0 as NSString).lastPathComponent.count }.max()!)
        func padded(_ text: String, _ count: Int) -> String { text.padding(toLength: max(count, text.count), withPad: " ", startingAt: 0) }
        // Every folder is read before anything is printed: a bad one gives its error line alone.
        var rows: [String] = []
        for folder in folders {
            let records = try MetricsLog.read(folder + "/metrics.jsonl")
            let configPath = folder + "/config.json"
            let text = try MappedFile.text(configPath)
            let config = try ConfigTree(json: text, source: configPath)
            var method = "?"
            if case .object(let members) = config, case .string(let text)? = members.first(where: { $0.key == "method" })?.value { method = text }
            let evaluations = records.filter { $0["eval/top1"] != nil }
            guard let last = evaluations.last else { throw InvalidInput(folder, "has no evaluation yet") }
            let rates = records.compactMap { $0["images_per_second"] }
            let rate = rates.isEmpty ? 0 : rates.reduce(0, +) / Double(rates.count)
            let best = evaluations.map { $0["eval/top1"]! }.max()!
            let name = (folder as NSString).lastPathComponent
            rows.append("\(padded(name, width))  \(padded(method, 6))" + String(format: " %6d  %5.2f%%  %5.2f%%      %5.2f%%  %5.0f",
                        Int(last["step"] ?? 0), last["eval/top1"]! * 100, (last["eval/top5"] ?? 0) * 100, best * 100, rate))
        }
        print("\(padded("run", width))  \(padded("method", 6))  steps   top-1   top-5  best top-1  img/s")
        for row in rows { print(row) }
    }
}
