/// Which part of every global batch one rank of a data-parallel job loads (DistributedSampler's
/// semantics): the epoch's seeded order is cut into global batches of `count` × the loader's batch
/// size, and rank `index` takes the `index`-th slice of each. The ranks' samples are disjoint, every
/// sample is visited once per epoch across the ranks, and the ranks together see exactly the batches
/// one process with the global batch size sees, in the same order.
public struct Shard: Hashable, Sendable {
    /// This rank's slice, from 0.
    public let index: Int
    /// Slices per global batch (the job's ranks).
    public let count: Int

    /// Slice `index` of `count`.
    public init(_ index: Int, of count: Int) {
        precondition(count > 0 && (0..<count).contains(index), "shard \(index) of \(count) does not exist")
        self.index = index
        self.count = count
    }

    /// The whole of every batch: one process on its own.
    public static let whole = Shard(0, of: 1)
}
