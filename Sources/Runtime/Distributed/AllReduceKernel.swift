import Tensor

/// Averages a training step's gradients over the ranks of a data-parallel job (the plan's step
/// between backward and the optimizer update).
///
/// Operands are the gradients, results their averages, in the same order. The gradients are packed,
/// in order, into one flat bucket of at most `bucketElements` floats (the kernel's workspace), summed
/// over the ranks with one `MPI_Allreduce` per bucket, and unpacked scaled by 1/ranks: one or a few
/// large messages instead of one per parameter, since each message pays the network's latency.
public struct AllReduceKernel: Hashable, Sendable, Codable {
    /// Elements of each operand.
    public var counts: [Int]
    /// Processes the plan was compiled for (each runs the per-rank batch).
    public var ranks: Int
    /// Floats per bucket.
    public var bucketElements: Int

    /// Buckets hold at most 8 Mi floats (32 MiB): few enough messages for a ViT-B's 86 M gradients,
    /// little enough workspace for a small model's.
    public static let defaultBucketElements = 8 << 20

    public init(counts: [Int], ranks: Int, bucketElements: Int = defaultBucketElements) {
        self.counts = counts
        self.ranks = ranks
        self.bucketElements = bucketElements
    }

    /// Floats in all operands together.
    public var totalElements: Int { counts.reduce(0, +) }

    /// The bucket.
    public var workspaceBytes: Int { min(totalElements, bucketElements) * MemoryLayout<Float>.size }

    /// Averages `x` into `y` over `communicator`'s ranks, bucket by bucket.
    func run(_ x: [UnsafeRawPointer], _ y: [UnsafeMutableRawPointer], workspace: UnsafeMutableRawPointer?, communicator: Communicator) throws {
        guard communicator.size == ranks else {
            throw InvalidInput(nil, "the plan averages gradients over \(ranks) ranks, the job has \(communicator.size)")
        }
        guard totalElements > 0 else { return }
        // The plan gives every kernel with workspace bytes its workspace.
        let bucket = workspace!.assumingMemoryBound(to: Float.self)
        let scale = 1 / Float(ranks)
        // Walk the operands as one virtual array, a bucket-sized window at a time.
        var operand = 0, offset = 0
        var remaining = totalElements
        while remaining > 0 {
            let window = min(remaining, bucketElements)
            var packed = 0, unpackOperand = operand, unpackOffset = offset
            while packed < window {
                let n = min(counts[operand] - offset, window - packed)
                (bucket + packed).update(from: x[operand].assumingMemoryBound(to: Float.self) + offset, count: n)
                packed += n
                offset += n
                if offset == counts[operand] { operand += 1; offset = 0 }
            }
            try communicator.allReduceSum(bucket, count: window)
            var unpacked = 0
            while unpacked < window {
                let n = min(counts[unpackOperand] - unpackOffset, window - unpacked)
                let target = y[unpackOperand].assumingMemoryBound(to: Float.self) + unpackOffset
                for i in 0..<n { target[i] = bucket[unpacked + i] * scale }
                unpacked += n
                unpackOffset += n
                if unpackOffset == counts[unpackOperand] { unpackOperand += 1; unpackOffset = 0 }
            }
            remaining -= window
        }
    }
}
