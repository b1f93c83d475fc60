import GraphIR
@testable import Runtime
import Tensor
import Testing

/// The fused attention kernel against the reference, for pair counts that divide among the threads
/// and counts that do not (whose queries are then split into blocks across threads).
@Suite struct FusedAttentionTests {
    @Test("fused attention matches the reference for 1, 3 and 4 pairs, with K stored either way",
          arguments: [(1, false), (3, false), (3, true), (4, true)])
    func matchesReference(pairs: Int, keysTransposed: Bool) throws {
        var noise = Noise(seed: UInt64(17 + pairs))
        let (tq, tk, d, dv) = (13, 11, 8, 6)
        let q = noise.tensor([pairs, tq, d], in: -2...2), v = noise.tensor([pairs, tk, dv])
        let k = noise.tensor(keysTransposed ? [pairs, d, tk] : [pairs, tk, d], in: -2...2)
        let geometry = FusedAttention.Geometry(count: pairs, queries: tq, keys: tk, depth: d, valueDepth: dv, scale: 0.35,
                                               keysTransposed: keysTransposed)
        let output = Tensor(zeros: .float32, [pairs, tq, dv])
        withWorkspace(geometry.workspaceBytes) { workspace in
            FusedAttention.run(geometry, queries: q.f32, keys: k.f32, values: v.f32, output: output.f32, workspace: workspace)
        }
        expectClose(output, try reference(.attention(scale: 0.35, keysTransposed: keysTransposed), [q, k, v]), tolerance: 1e-6)
    }
}
