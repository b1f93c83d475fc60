import Data
import GraphIR
import Tensor

// One rank's training step in a data-parallel job: the one-process step, plus what makes the ranks
// agree (averaged gradients) and what keeps them apart (their own dropout masks).
extension Graph {
    /// Averages the gradients over the `ranks` processes of a data-parallel job, with one
    /// all-reduce node over all of them (the runtime buckets it into few messages). The node
    /// depends on every gradient and every update depends on it, so the schedule places it after
    /// backward and before the optimizer: each rank's gradient of its shard's mean loss becomes the
    /// gradient of the global batch's mean loss before anything (clipping, the update) reads it.
    mutating func averagingOverRanks(_ gradients: [ValueID: ValueID], ranks: Int) throws -> [ValueID: ValueID] {
        let ordered = gradients.sorted { $0.key < $1.key }
        let averaged = try apply(.training(.collective(.allReduceMean(ranks: ranks))), ordered.map(\.value), name: "allreduce/gradients",
                                 outputNames: ordered.map { "allreduce/" + self[$0.key].name })
        return Dictionary(uniqueKeysWithValues: zip(ordered.map(\.key), averaged))
    }

    /// Gives shard `index`'s dropout and drop-path masks seeds of their own. Every rank runs the
    /// same graph on other samples; with one seed, sample i of every rank's shard would be dropped
    /// together. Shard 0 keeps the model's seeds.
    mutating func reseedingMasks(for shard: Shard) {
        guard shard.index > 0 else { return }
        for index in nodes.indices {
            guard case .training(.gradient(.dropout(let ratio, let seed, let perSample))) = nodes[index].op else { continue }
            let mixed = SplitMix64.mix(UInt64(bitPattern: Int64(seed)) ^ SplitMix64.mix(UInt64(shard.index)))
            nodes[index].op = .dropout(ratio: ratio, seed: Int(truncatingIfNeeded: mixed), perSample: perSample)
        }
    }
}
