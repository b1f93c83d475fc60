import Foundation
import Tensor

/// The folder a training run keeps its files in, and the rule for reusing one: a folder that
/// already holds a run is continued (`--resume`) or replaced on request (`--force`), never silently
/// overwritten, since its `best.serkd` may be the only copy of a trained model.
public struct RunFolder {
    /// The files a run writes, in the order it writes them.
    public static let fileNames = ["config.json", "metrics.jsonl", "last.state", "last.serkd", "best.serkd"]

    /// The folder (it need not exist yet).
    public let path: String

    /// The run folder at `path`.
    public init(_ path: String) { self.path = path }

    /// The run files present in the folder, in `fileNames` order.
    public var existingFiles: [String] {
        Self.fileNames.filter { FileManager.default.fileExists(atPath: path + "/" + $0) }
    }

    /// Checks the folder may be used for a new run (`resume` false) or a continued one, before any
    /// work is done: a folder holding a run is refused without `force`.
    public func check(resume: Bool, force: Bool) throws {
        guard !(resume && force) else { throw InvalidInput("--force", "contradicts --resume: continue the run or replace it, not both") }
        if resume {
            guard FileManager.default.fileExists(atPath: path + "/last.state") else {
                throw InvalidInput(path, "has no last.state to resume from (start the run without --resume)")
            }
            return
        }
        let existing = existingFiles
        guard !existing.isEmpty else { return }
        guard force else {
            throw InvalidInput(path, "already holds a run (\(existing.joined(separator: ", "))): continue it with --resume, "
                               + "or replace it with --force")
        }
    }

    /// Removes the run files in the folder, so a forced new run never leaves an old `best.serkd`
    /// beside its own. Called once everything else about the new run has been checked.
    public func clear() throws {
        for name in existingFiles { try FileManager.default.removeItem(atPath: path + "/" + name) }
    }
}
