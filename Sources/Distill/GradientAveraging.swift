import GraphIR

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
}
