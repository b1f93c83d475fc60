import Dispatch
import Foundation
import Tensor

/// One step's worth of training data.
public struct Batch: Sendable {
    /// The epoch and the step within it that this batch is.
    public let epoch: Int
    /// Position in the epoch, from 0.
    public let step: Int
    /// The dataset index of each sample, in batch order.
    public let indices: [Int]
    /// float32 [B, C, H, W], normalised (and mixed, when the loader mixes).
    public let images: Tensor
    /// float32 [B, classes]: smoothed and mixed soft targets for a soft-target cross-entropy.
    public let targets: Tensor
    /// int64 [B]: each sample's own class.
    public let labels: Tensor
    /// How the batch was mixed.
    public let mixing: Mixup.Outcome
}

/// Turns a dataset into batches, each a pure function of (seed, epoch, step).
///
/// The epoch's order is a permutation drawn from a stream keyed by (seed, epoch); each sample's
/// augmentation draws from a stream keyed by (seed, epoch, dataset index); each batch's Mixup/CutMix
/// from (seed, epoch, step). So a batch does not depend on thread scheduling or on which batches
/// were produced before it, and training resumes bit-identically from any (epoch, step).
/// Decoding and augmentation run on `threads` threads, and `batches(epoch:startingAt:)` prepares
/// up to `prefetch` batches in the background while the caller consumes the current one.
public final class BatchLoader: Sendable {
    /// The dataset batches are drawn from.
    public let source: any LabeledImageSource
    /// What each decoded image goes through.
    public let transform: SampleTransform
    /// Batch-level mixing and label smoothing (`Mixup.none()` for plain one-hot targets).
    public let mixup: Mixup
    /// Samples per batch (this shard's part of the global batch).
    public let batchSize: Int
    /// Which slice of every global batch this loader produces (`Shard.whole` outside a data-parallel job).
    public let shard: Shard
    /// The seed every random stream is derived from.
    public let seed: UInt64
    /// Whether each epoch visits the samples in a fresh random order (else in index order).
    public let shuffle: Bool
    /// Whether a final batch smaller than `batchSize` is left out.
    public let dropLast: Bool
    /// Threads decoding and augmenting the samples of a batch.
    public let threads: Int
    /// Batches a stream prepares ahead of the consumer.
    public let prefetch: Int

    /// Stream tags keeping the loader's random streams apart.
    enum Stream: UInt64 {
        case order = 1, sample = 2, mixing = 3
    }

    /// A training loader: shuffled, last partial batch dropped, one decoding thread per core.
    public init(source: any LabeledImageSource, transform: SampleTransform, batchSize: Int, seed: UInt64, shuffle: Bool = true,
                dropLast: Bool = true, mixup: Mixup = .none(), threads: Int = ProcessInfo.processInfo.activeProcessorCount, prefetch: Int = 2,
                shard: Shard = .whole) {
        precondition(batchSize > 0 && threads > 0 && prefetch > 0, "batch size, threads and prefetch depth must be positive")
        self.source = source
        self.transform = transform
        self.mixup = mixup
        self.batchSize = batchSize
        self.shard = shard
        self.seed = seed
        self.shuffle = shuffle
        self.dropLast = dropLast
        self.threads = threads
        self.prefetch = prefetch
    }

    /// The deterministic evaluation loader: no augmentation beyond `transform` (normally
    /// `SampleTransform.evaluation`), index order, the last partial batch kept, one-hot targets.
    /// With a `shard`, the last batches of some ranks may be partial or empty.
    public static func evaluation(source: any LabeledImageSource, transform: SampleTransform, batchSize: Int,
                                  threads: Int = ProcessInfo.processInfo.activeProcessorCount, shard: Shard = .whole) -> BatchLoader {
        BatchLoader(source: source, transform: transform, batchSize: batchSize, seed: 0, shuffle: false, dropLast: false,
                    mixup: .none(), threads: threads, shard: shard)
    }

    /// Batches per epoch (the same on every shard).
    public var stepsPerEpoch: Int {
        let global = batchSize * shard.count
        return dropLast ? source.count / global : (source.count + global - 1) / global
    }

    /// The dataset indices in the order epoch `epoch` visits them.
    public func order(epoch: Int) -> [Int] {
        guard shuffle else { return Array(0..<source.count) }
        var generator = Xoshiro256(seed: seed, stream: [Stream.order.rawValue, UInt64(epoch)])
        return generator.permutation(source.count)
    }

    /// Batch `step` of epoch `epoch`, computed now on the calling thread (and `threads` helpers).
    public func batch(epoch: Int, step: Int) throws -> Batch {
        try assemble(epoch: epoch, step: step, order: order(epoch: epoch))
    }

    /// The batches of epoch `epoch` from `step` on, prepared in the background.
    public func batches(epoch: Int, startingAt step: Int = 0) -> BatchStream {
        precondition(step >= 0 && step <= stepsPerEpoch, "step \(step) is outside 0…\(stepsPerEpoch)")
        return BatchStream(loader: self, epoch: epoch, firstStep: step)
    }

    func assemble(epoch: Int, step: Int, order: [Int]) throws -> Batch {
        precondition((0..<stepsPerEpoch).contains(step), "step \(step) is outside 0..<\(stepsPerEpoch)")
        let start = min(step * batchSize * shard.count + shard.index * batchSize, order.count)
        let indices = Array(order[start..<min(start + batchSize, order.count)])
        let count = indices.count
        let sampleSize = transform.channels * transform.height * transform.width
        let images = Tensor(zeros: .float32, [count, transform.channels, transform.height, transform.width])
        let pixels = images.rawPointer.assumingMemoryBound(to: Float.self)
        let outcomes = SampleOutcomes(count: count)
        let workers = min(threads, count)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for i in stride(from: worker, to: count, by: workers) {
                do {
                    let (image, label) = try source.sample(at: indices[i])
                    guard (0..<source.classCount).contains(label) else {
                        throw InvalidInput(nil, "sample \(indices[i]) has label \(label), outside 0..<\(source.classCount)")
                    }
                    var generator = Xoshiro256(seed: seed, stream: [Stream.sample.rawValue, UInt64(epoch), UInt64(indices[i])])
                    try transform.apply(image, into: pixels + i * sampleSize, using: &generator)
                    outcomes.record(label: label, at: i)
                } catch {
                    outcomes.record(error: error, at: i)
                }
            }
        }
        let labels = try outcomes.labels()
        var generator = Xoshiro256(seed: seed, stream: [Stream.mixing.rawValue, UInt64(epoch), UInt64(step)])
        let outcome = mixup.draw(height: transform.height, width: transform.width, using: &generator)
        let targets = mixup.apply(outcome, images: images, labels: labels, classCount: source.classCount)
        return Batch(epoch: epoch, step: step, indices: indices, images: images, targets: targets,
                     labels: Tensor(labels.map(Int64.init), shape: [count]), mixing: outcome)
    }
}

/// Labels and errors written by the decoding threads, one slot per sample.
private final class SampleOutcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var labelSlots: [Int]
    private var errors: [(Int, any Error)] = []

    init(count: Int) { labelSlots = [Int](repeating: 0, count: count) }

    func record(label: Int, at index: Int) {
        lock.lock()
        labelSlots[index] = label
        lock.unlock()
    }

    func record(error: any Error, at index: Int) {
        lock.lock()
        errors.append((index, error))
        lock.unlock()
    }

    /// The labels, or the error of the first failed sample in batch order (whichever thread saw it first).
    func labels() throws -> [Int] {
        lock.lock()
        defer { lock.unlock() }
        if let first = errors.min(by: { $0.0 < $1.0 }) { throw first.1 }
        return labelSlots
    }
}

/// The batches of one epoch, produced by a background thread into a bounded queue.
///
/// `next()` returns them in step order and `nil` after the last; a failure (a corrupt image) is
/// thrown by the `next()` that reaches it. Dropping the stream stops the producer.
public final class BatchStream {
    private let queue: PrefetchQueue

    init(loader: BatchLoader, epoch: Int, firstStep: Int) {
        let queue = PrefetchQueue(capacity: loader.prefetch)
        self.queue = queue
        let thread = Thread {
            let order = loader.order(epoch: epoch)
            for step in firstStep..<loader.stepsPerEpoch {
                guard queue.waitForRoom() else { return }
                let result = Result { try loader.assemble(epoch: epoch, step: step, order: order) }
                queue.push(result)
                if case .failure = result { break }
            }
            queue.finish()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// The next batch, waiting for it if the producer is behind; `nil` at the end of the epoch.
    public func next() throws -> Batch? {
        try queue.pop()?.get()
    }

    deinit { queue.cancel() }
}

/// A bounded single-producer, single-consumer queue of finished batches.
private final class PrefetchQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    private var items: [Result<Batch, any Error>] = []
    private var finished = false
    private var cancelled = false

    init(capacity: Int) { self.capacity = capacity }

    /// Blocks until there is room; false once the consumer has gone.
    func waitForRoom() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        return !cancelled
    }

    func push(_ item: Result<Batch, any Error>) {
        condition.lock()
        items.append(item)
        condition.broadcast()
        condition.unlock()
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    func pop() -> Result<Batch, any Error>? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !finished { condition.wait() }
        guard !items.isEmpty else { return nil }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
