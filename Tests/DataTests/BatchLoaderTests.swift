import Foundation
import Testing
@testable import Data
import Tensor

/// An in-memory dataset of distinct 12×10 pictures, label = index mod `classCount`; sample
/// `failing` (if any) throws as a corrupt file would.
struct SyntheticSource: LabeledImageSource {
    var count: Int
    var classCount = 3
    var failing: Int?

    func sample(at index: Int) throws -> (image: Image, label: Int) {
        if index == failing { throw InvalidInput("sample-\(index).png", "truncated chunk IDAT at byte 33") }
        var image = Fixtures.picture(width: 12, height: 10, channels: 3)
        for i in image.pixels.indices { image.pixels[i] = image.pixels[i] &+ UInt8(truncatingIfNeeded: index * 13) }
        return (image, index % classCount)
    }
}

@Suite struct BatchLoaderTests {
    func trainingLoader(_ source: SyntheticSource = SyntheticSource(count: 10), seed: UInt64 = 5, threads: Int = 2) throws -> BatchLoader {
        BatchLoader(source: source, transform: try SampleTransform.training(size: 8), batchSize: 4, seed: seed,
                    mixup: Mixup(), threads: threads)
    }

    func identical(_ a: Batch, _ b: Batch) -> Bool {
        a.indices == b.indices && a.images.bitwiseEqual(b.images) && a.targets.bitwiseEqual(b.targets)
            && a.labels.bitwiseEqual(b.labels) && a.mixing == b.mixing
    }

    @Test func batchesHaveTheDocumentedShapesAndTypes() throws {
        let batch = try trainingLoader().batch(epoch: 0, step: 1)
        #expect(batch.images.dtype == .float32 && batch.images.shape == [4, 3, 8, 8])
        #expect(batch.targets.dtype == .float32 && batch.targets.shape == [4, 3])
        #expect(batch.labels.dtype == .int64 && batch.labels.int64s == batch.indices.map { Int64($0 % 3) })
        for row in 0..<4 {
            let sum = batch.targets.floats[(row * 3)..<(row * 3 + 3)].reduce(0, +)
            #expect(abs(sum - 1) < 1e-6)
        }
    }

    @Test func theSameSeedGivesTheSameBatchWhateverTheThreadCount() throws {
        let a = try trainingLoader(threads: 1).batch(epoch: 2, step: 1)
        let b = try trainingLoader(threads: 3).batch(epoch: 2, step: 1)
        #expect(identical(a, b))
        let other = try trainingLoader(seed: 6).batch(epoch: 2, step: 1)
        #expect(!other.images.bitwiseEqual(a.images))
    }

    @Test func eachEpochVisitsEverySampleInAFreshOrder() throws {
        let loader = try trainingLoader(SyntheticSource(count: 50))
        let first = loader.order(epoch: 0), second = loader.order(epoch: 1)
        #expect(first.sorted() == Array(0..<50) && second.sorted() == Array(0..<50))
        #expect(first != second)
        #expect(loader.order(epoch: 0) == first)
        let unshuffled = BatchLoader(source: SyntheticSource(count: 5), transform: .evaluation(size: 8), batchSize: 2, seed: 5, shuffle: false)
        #expect(unshuffled.order(epoch: 3) == [0, 1, 2, 3, 4])
    }

    @Test func startingAtStepKGivesTheSameBatchesAsRunningFromZeroAndSkipping() throws {
        let loader = try trainingLoader(SyntheticSource(count: 22))
        #expect(loader.stepsPerEpoch == 5)
        let fromZero = loader.batches(epoch: 3)
        var all: [Batch] = []
        while let batch = try fromZero.next() { all.append(batch) }
        #expect(all.map(\.step) == [0, 1, 2, 3, 4])
        let resumed = loader.batches(epoch: 3, startingAt: 2)
        var rest: [Batch] = []
        while let batch = try resumed.next() { rest.append(batch) }
        #expect(rest.count == 3)
        for (a, b) in zip(all[2...], rest) { #expect(identical(a, b)) }
        #expect(identical(all[4], try loader.batch(epoch: 3, step: 4)))
        // Every sample appears at most once per epoch; the last 2 of 22 are dropped.
        #expect(Set(all.flatMap(\.indices)).count == 20)
    }

    @Test func theEvaluationLoaderKeepsOrderAndTheLastPartialBatch() throws {
        let loader = BatchLoader.evaluation(source: SyntheticSource(count: 10), transform: .evaluation(size: 8), batchSize: 4)
        #expect(loader.stepsPerEpoch == 3)
        let stream = loader.batches(epoch: 0)
        var batches: [Batch] = []
        while let batch = try stream.next() { batches.append(batch) }
        #expect(batches.map(\.indices) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        #expect(batches[2].images.shape == [2, 3, 8, 8])
        #expect(batches[2].targets.floats == [0, 0, 1, 1, 0, 0])
        // No randomness at all: another epoch gives the same pixels.
        #expect(batches[0].images.bitwiseEqual(try loader.batch(epoch: 7, step: 0).images))
    }

    @Test func aCorruptSampleFailsItsBatchWithTheFilesError() throws {
        let loader = BatchLoader.evaluation(source: SyntheticSource(count: 10, failing: 6), transform: .evaluation(size: 8), batchSize: 4)
        let stream = loader.batches(epoch: 0)
        #expect(try stream.next()?.step == 0)
        let error = try #require(throws: InvalidInput.self) { try stream.next() }
        #expect(error == InvalidInput("sample-6.png", "truncated chunk IDAT at byte 33"))
        #expect(try stream.next() == nil)
    }

    @Test func droppingAStreamEarlyStopsItsProducer() throws {
        // The producer thread holds the loader; once the stream is dropped it must exit (rather than
        // wait forever for room in its queue), letting the loader go.
        weak var released: BatchLoader?
        do {
            let loader = try trainingLoader(SyntheticSource(count: 40))
            released = loader
            let stream = loader.batches(epoch: 0)
            #expect(try stream.next()?.step == 0)
        }
        var waited = 0
        while released != nil && waited < 500 {
            Thread.sleep(forTimeInterval: 0.01)
            waited += 1
        }
        #expect(released == nil)
    }

    @Test func mixedBatchesUseTheBatchStreamAndStayReproducible() throws {
        let loader = try trainingLoader(SyntheticSource(count: 40))
        let outcomes = try (0..<10).map { try loader.batch(epoch: 0, step: $0).mixing }
        #expect(outcomes.contains { $0.box != nil } && outcomes.contains { $0.box == nil && $0.lambda != 1 })
        #expect(try (0..<10).map { try loader.batch(epoch: 0, step: $0).mixing } == outcomes)
    }
}
