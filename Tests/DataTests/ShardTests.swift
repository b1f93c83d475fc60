import Testing
@testable import Data

/// The ranks of a data-parallel job load disjoint slices of each global batch, and together exactly
/// the batches one process with the global batch size loads (DistributedSampler's semantics).
@Suite struct ShardTests {
    let source = SyntheticSource(count: 23)
    let plain = SampleTransform(channels: 3, width: 12, height: 10, steps: [], normalization: Normalization(mean: [0, 0, 0], std: [1, 1, 1]))

    func loader(batch: Int, shard: Shard = .whole) throws -> BatchLoader {
        BatchLoader(source: source, transform: try SampleTransform.training(size: 8), batchSize: batch, seed: 3, mixup: .none(),
                    threads: 1, shard: shard)
    }

    @Test("two shards of batch 3 are the halves of the one-process batch of 6, in order")
    func shardsSplitTheGlobalBatch() throws {
        let whole = try loader(batch: 6)
        let halves = try [0, 1].map { try loader(batch: 3, shard: Shard($0, of: 2)) }
        #expect(halves.map(\.stepsPerEpoch) == [3, 3] && whole.stepsPerEpoch == 3)
        for epoch in 0..<2 {
            for step in 0..<3 {
                let global = try whole.batch(epoch: epoch, step: step)
                let parts = try halves.map { try $0.batch(epoch: epoch, step: step) }
                #expect(parts[0].indices + parts[1].indices == global.indices)
                // Each sample's augmentation depends on (seed, epoch, sample), not on which rank loads it.
                #expect(parts[0].images.floats + parts[1].images.floats == global.images.floats)
            }
        }
    }

    @Test("in an epoch the ranks' samples are disjoint and each sample not dropped with the last partial batch appears once")
    func shardsAreDisjointAndCoverTheEpoch() throws {
        let shards = try (0..<3).map { try loader(batch: 2, shard: Shard($0, of: 3)) }
        var seen: [Int] = []
        for shard in shards {
            for step in 0..<shard.stepsPerEpoch { seen += try shard.batch(epoch: 1, step: step).indices }
        }
        #expect(seen.count == 18 && Set(seen).count == 18)
        #expect(Set(seen) == Set(shards[0].order(epoch: 1).prefix(18)))
    }

    @Test("sharded evaluation keeps every sample once; a rank past the end gets an empty last batch")
    func evaluationShardsKeepEverySample() throws {
        let shards = (0..<2).map {
            BatchLoader.evaluation(source: source, transform: plain, batchSize: 4,
                                   threads: 1, shard: Shard($0, of: 2))
        }
        #expect(shards.map(\.stepsPerEpoch) == [3, 3])
        let counts = try shards.map { shard in try (0..<3).map { try shard.batch(epoch: 0, step: $0).indices.count } }
        #expect(counts == [[4, 4, 4], [4, 4, 3]])
        let all = try shards.flatMap { shard in try (0..<3).flatMap { try shard.batch(epoch: 0, step: $0).indices } }
        #expect(all.sorted() == Array(0..<23))

        let tail = BatchLoader.evaluation(source: SyntheticSource(count: 5), transform: plain,
                                          batchSize: 4, threads: 1, shard: Shard(1, of: 2))
        #expect(try tail.batch(epoch: 0, step: 0).indices == [4])
        let empty = BatchLoader.evaluation(source: SyntheticSource(count: 3), transform: plain,
                                           batchSize: 4, threads: 1, shard: Shard(1, of: 2))
        #expect(try empty.batch(epoch: 0, step: 0).indices.isEmpty)
    }
}
