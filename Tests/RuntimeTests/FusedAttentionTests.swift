import GraphIR
@testable import Runtime
import Tensor
import Testing

/// The fused attention kernel, and oneDNN's where the backend rule picks it, against the reference,
/// for pair counts that divide among the threads and counts that do not.
@Suite struct FusedAttentionTests {
    @Test("fused attention (serkd's and oneDNN's) matches the reference for 1, 3 and 4 pairs, with K stored either way",
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
        let expected = try reference(.attention(scale: 0.35, keysTransposed: keysTransposed), [q, k, v])
        expectClose(output, expected, tolerance: 1e-6)
        // oneDNN's batched matmuls, a chunk of pairs at a time (the last chunk shorter for 3 pairs).
        guard Backend.attention == .oneDNN else { return }
        let attention = try #require(DNNLAttention(geometry))
        let onOneDNN = Tensor(zeros: .float32, [pairs, tq, dv])
        try withWorkspace(geometry.workspaceBytes) { workspace in
            try attention.run(queries: q.f32, keys: k.f32, values: v.f32, output: onOneDNN.f32, workspace: workspace)
        }
        expectClose(onOneDNN, expected, tolerance: 1e-6)
    }
}
