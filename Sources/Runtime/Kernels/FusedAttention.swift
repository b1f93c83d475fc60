import Dispatch
import Tensor

/// Scaled dot-product attention, softmax(scale·Q·Kᵀ)·V, one (batch, head) pair at a time.
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
        func pair(_ item: Int, _ s: UnsafeMutablePointer<Float>) {
            Gemm.sgemm(transposeA: false, transposeB: !g.keysTransposed, m: g.queries, n: g.keys, k: g.depth, alpha: g.scale,
                       q + item * g.queries * g.depth, k + item * g.keys * g.depth, beta: 0, s)
            for row in 0..<g.queries {
                let line = s + row * g.keys
                Normalization.softmaxRow(line, into: line, count: g.keys, logarithm: false)
            }
            Gemm.sgemm(transposeA: false, transposeB: false, m: g.queries, n: g.valueDepth, k: g.keys, alpha: 1,
                       s, v + item * g.keys * g.valueDepth, beta: 0, output + item * g.queries * g.valueDepth)
        }
        if g.slots == 1 {
            for item in 0..<g.count { pair(item, scores) }
            return
        }
        // One single-threaded product per thread beats OpenBLAS splitting each small product.
        Gemm.withSingleThreadedBLAS {
            DispatchQueue.concurrentPerform(iterations: g.slots) { slot in
                let s = scores + slot * g.queries * g.keys
                for item in (g.count * slot / g.slots)..<(g.count * (slot + 1) / g.slots) { pair(item, s) }
            }
        }
    }
}
