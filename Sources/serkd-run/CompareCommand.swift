import CLI
import Foundation
import Tensor
import Train

/// `serkd-run compare RUN_FOLDER…`: one table row per run from its `config.json` and
/// `metrics.jsonl`: method, steps, final and best evaluation top-1/top-5, training throughput.
enum CompareCommand {
    static let usage = """
        usage: serkd-run compare RUN_FOLDER…

        One table row per run folder (its config.json and metrics.jsonl): method, steps, final and
        best evaluation top-1/top-5, training images per second. Other entries (files, folders
        holding no run, as `runs/*` names them) are skipped with a note; a run not yet evaluated
        shows dashes.
        """

    static let command = Command("compare", usage: usage, syntax: Syntax(), run: run)

    static func run(_ arguments: inout Arguments) throws {
        var entries: [String] = []
        while let entry = arguments.optionalPositional() { entries.append(entry) }
        try arguments.finish()
        guard !entries.isEmpty else { throw InvalidInput(nil, "missing run folders to compare") }
        let folders = try entries.filter { entry in
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: entry, isDirectory: &isFolder) else { throw InvalidInput(entry, "no such file or folder") }
            let isRun = isFolder.boolValue && ["config.json", "metrics.jsonl"].contains { FileManager.default.fileExists(atPath: entry + "/" + $0) }
            if !isRun { Tool.printError("serkd-run: note: skipping \(entry): not a run folder") }
            return isRun
        }
        guard !folders.isEmpty else { throw InvalidInput(nil, "none of the \(entries.count) entries is a run folder (one holding config.json and metrics.jsonl)") }
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
            let rates = records.compactMap { $0["images_per_second"] }
            let rate = rates.isEmpty ? 0 : rates.reduce(0, +) / Double(rates.count)
            let name = (folder as NSString).lastPathComponent
            guard let last = evaluations.last else {
                let steps = Int(records.compactMap { $0["step"] }.max() ?? 0)
                rows.append("\(padded(name, width))  \(padded(method, 6))" + String(format: " %6d       –       –           –  %5.0f", steps, rate))
                continue
            }
            let best = evaluations.map { $0["eval/top1"]! }.max()!
            rows.append("\(padded(name, width))  \(padded(method, 6))" + String(format: " %6d  %5.2f%%  %5.2f%%      %5.2f%%  %5.0f",
                        Int(last["step"] ?? 0), last["eval/top1"]! * 100, (last["eval/top5"] ?? 0) * 100, best * 100, rate))
        }
        print("\(padded("run", width))  \(padded("method", 6))  steps   top-1   top-5  best top-1  img/s")
        for row in rows { print(row) }
    }
}
