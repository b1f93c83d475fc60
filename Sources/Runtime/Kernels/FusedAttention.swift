import Dispatch
import Tensor

/// Scaled dot-product attention, softmax(scale·Q·Kᵀ)·V, one (batch, head) pair (or a block of its
/// queries) at a time.
///
/// Unfused, attention writes every head's T×T scores, reads them for the softmax, writes the
/// probabilities and reads them again for ·V: for ViT-B at batch 8 that is 96 score matrices of
/// 197×197 per block. Here each thread keeps one pair's scores in its own slot of the workspace
/// (small enough to stay in cache), so the scores never exist for all heads at once.
public enum FusedAttention {
    /// A resolved attention call.
    public struct Geometry: Hashable, Sendable, Codable {
        /// Independent (batch, head) pairs: the product of the leading axes.
        public var count: Int
        /// Tq, Tk, d and dv.
        public var queries: Int
        public var keys: Int
        public var depth: Int
        public var valueDepth: Int
        /// Multiplies Q·Kᵀ before the softmax.
        public var scale: Float
        /// K is stored [d, Tk] per pair rather than [Tk, d].
        public var keysTransposed: Bool
        /// Pairs processed concurrently, each with its own score matrix.
        public var slots: Int

        public init(count: Int, queries: Int, keys: Int, depth: Int, valueDepth: Int, scale: Float, keysTransposed: Bool) {
            self.count = count
            self.queries = queries
            self.keys = keys
            self.depth = depth
            self.valueDepth = valueDepth
            self.scale = scale
            self.keysTransposed = keysTransposed
            slots = max(1, min(Parallel.threadCount, count))
        }

        /// One Tq×Tk score matrix per slot.
        public var workspaceBytes: Int { slots * queries * keys * MemoryLayout<Float>.size }
    }

    /// Computes attention for every pair into `output` (count × Tq × dv). `workspace` holds
    /// `geometry.workspaceBytes` bytes; `output` must not overlap the operands.
    public static func run(_ geometry: Geometry, queries q: UnsafePointer<Float>, keys k: UnsafePointer<Float>,
                           values v: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, workspace: UnsafeMutableRawPointer?) {
        let g = geometry
        guard g.count > 0, g.queries > 0 else { return }
        guard g.keys > 0 else {
            // Softmax over no keys is empty; the product with no values is zero.
            output.initialize(repeating: 0, count: g.count * g.queries * g.valueDepth)
            return
        }
        precondition(workspace != nil, "attention needs a workspace")
        let scores = workspace!.assumingMemoryBound(to: Float.self)
        // When the pairs do not divide evenly among the threads (DeiT-Ti's 3 heads at batch 1 on 2
        // threads), each pair's queries are split into blocks so every thread gets the same work.
        let blocks = g.count % g.slots == 0 ? 1 : g.slots
        func item(_ index: Int, _ s: UnsafeMutablePointer<Float>) {
            let pair = index / blocks, block = index % blocks
            let first = g.queries * block / blocks, rows = g.queries * (block + 1) / blocks - first
            guard rows > 0 else { return }
            Gemm.sgemm(transposeA: false, transposeB: !g.keysTransposed, m: rows, n: g.keys, k: g.depth, alpha: g.scale,
                       q + (pair * g.queries + first) * g.depth, k + pair * g.keys * g.depth, beta: 0, s)
            for row in 0..<rows {
                let line = s + row * g.keys
                Normalization.softmaxRow(line, into: line, count: g.keys, logarithm: false)
            }
            Gemm.sgemm(transposeA: false, transposeB: false, m: rows, n: g.valueDepth, k: g.keys, alpha: 1,
                       s, v + pair * g.keys * g.valueDepth, beta: 0, output + (pair * g.queries + first) * g.valueDepth)
        }
        let items = g.count * blocks
        if g.slots == 1 {
            for index in 0..<items { item(index, scores) }
            return
        }
        // One single-threaded product per thread beats OpenBLAS splitting each small product.
        Gemm.withSingleThreadedBLAS {
            DispatchQueue.concurrentPerform(iterations: g.slots) { slot in
                let s = scores + slot * g.queries * g.keys
                for index in (items * slot / g.slots)..<(items * (slot + 1) / g.slots) { item(index, s) }
            }
        }
    }
}
