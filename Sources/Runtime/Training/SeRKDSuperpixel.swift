import Foundation

/// Where the superpixel-token kernel's tokens lie and how it clusters them.
public struct SuperpixelGeometry: Hashable, Sendable, Codable {
    /// Images B.
    public var batch: Int
    /// Token grid height and width (N = height·width tokens per image).
    public var height: Int
    public var width: Int
    /// Token width D.
    public var channels: Int
    /// Cell size g: super tokens start as g×g means.
    public var grid: Int
    /// Association steps after the average-pooled start.
    public var iterations: Int
    /// STViT's border rule: a missing neighbour of a border cell is a zero vector whose logit 0 stays
    /// in the softmax denominator. Otherwise missing neighbours are left out (SSN).
    public var countsMissingNeighbours: Bool
    /// Concurrent workers, each with its own scratch.
    public var slots: Int

    /// The geometry of B images of height × width tokens; the grid must divide both sides. The slot
    /// count comes from this process's thread count.
    public init(batch: Int, height: Int, width: Int, channels: Int, grid: Int, iterations: Int, countsMissingNeighbours: Bool) {
        precondition(grid > 0 && height % grid == 0 && width % grid == 0 && iterations >= 0, "grid \(grid) must divide \(height)×\(width)")
        self.batch = batch
        self.height = height
        self.width = width
        self.channels = channels
        self.grid = grid
        self.iterations = iterations
        self.countsMissingNeighbours = countsMissingNeighbours
        self.slots = max(1, min(Parallel.threadCount, batch))
    }

    /// Tokens per image.
    var tokenCount: Int { height * width }
    /// Super-token grid columns.
    var columns: Int { width / grid }
    /// Super tokens per image.
    var superTokenCount: Int { (height / grid) * columns }

    /// Scratch bytes: one Double column sum per super token, per slot.
    public var workspaceBytes: Int { slots * slotBytes }

    var slotBytes: Int { (superTokenCount * MemoryLayout<Double>.stride + 63) / 64 * 64 }
}

/// Superpixel tokens (METHOD §3.3): S⁰ is the g×g average pool; each iteration associates every token
/// with the 3×3 super tokens around its cell by a softmax of ⟨x, s⟩/√D, column-normalises the
/// association into Q̂ and re-estimates S = Q̂ᵀX. The products are sgemm calls on one image; the
/// association's N×M logits are formed in Q̂'s own storage and masked to the neighbourhood there.
enum SuperpixelTokens {
    /// Writes S [B, M, D] and Q̂ [B, N, M] for tokens X [B, N, D], one image per slot at a time.
    static func run(_ g: SuperpixelGeometry, tokens x: UnsafePointer<Float>, superTokens s: UnsafeMutablePointer<Float>,
                    association q: UnsafeMutablePointer<Float>, workspace: UnsafeMutableRawPointer?) {
        let (n, m, d) = (g.tokenCount, g.superTokenCount, g.channels)
        forEachSlot(g.slots, items: g.batch) { slot, images in
            let columnSums = (workspace! + slot * g.slotBytes).assumingMemoryBound(to: Double.self)
            for b in images {
                let xb = x + b * n * d, sb = s + b * m * d, qb = q + b * n * m
                poolingMatrix(g, into: qb)
                Gemm.sgemm(transposeA: true, transposeB: false, m: m, n: d, k: n, alpha: 1, qb, xb, beta: 0, sb)
                for _ in 0..<g.iterations {
                    Gemm.sgemm(transposeA: false, transposeB: true, m: n, n: m, k: d, alpha: 1 / Float(d).squareRoot(),
                               xb, sb, beta: 0, qb)
                    associate(g, logits: qb, columnSums: columnSums)
                    Gemm.sgemm(transposeA: true, transposeB: false, m: m, n: d, k: n, alpha: 1, qb, xb, beta: 0, sb)
                }
            }
        }
    }

    /// Q̂ of plain g×g average pooling: 1/g² from each token to its own cell.
    static func poolingMatrix(_ g: SuperpixelGeometry, into q: UnsafeMutablePointer<Float>) {
        let (n, m) = (g.tokenCount, g.superTokenCount)
        q.initialize(repeating: 0, count: n * m)
        let weight = 1 / Float(g.grid * g.grid)
        for p in 0..<n {
            let cell = ((p / g.width) / g.grid) * g.columns + (p % g.width) / g.grid
            q[p * m + cell] = weight
        }
    }

    /// Turns one image's N×M logits into the column-normalised association, in place.
    static func associate(_ g: SuperpixelGeometry, logits q: UnsafeMutablePointer<Float>, columnSums: UnsafeMutablePointer<Double>) {
        let (n, m, columns) = (g.tokenCount, g.superTokenCount, g.columns)
        let rows = g.height / g.grid
        columnSums.initialize(repeating: 0, count: m)
        for p in 0..<n {
            let row = q + p * m
            let (cy, cx) = ((p / g.width) / g.grid, (p % g.width) / g.grid)
            let ys = max(cy - 1, 0)...min(cy + 1, rows - 1), xs = max(cx - 1, 0)...min(cx + 1, columns - 1)
            let missing = g.countsMissingNeighbours ? 9 - ys.count * xs.count : 0
            var largest = missing > 0 ? 0 : -Double.infinity
            for y in ys { for x in xs { largest = max(largest, Double(row[y * columns + x])) } }
            var denominator = Double(missing) * exp(-largest)
            var weights = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
            withUnsafeMutableBytes(of: &weights) { raw in
                let weight = raw.bindMemory(to: Double.self)
                var slot = 0
                for y in ys {
                    for x in xs {
                        weight[slot] = exp(Double(row[y * columns + x]) - largest)
                        denominator += weight[slot]
                        slot += 1
                    }
                }
                row.initialize(repeating: 0, count: m)
                slot = 0
                for y in ys {
                    for x in xs {
                        let value = weight[slot] / denominator
                        row[y * columns + x] = Float(value)
                        columnSums[y * columns + x] += value
                        slot += 1
                    }
                }
            }
        }
        for p in 0..<n {
            let row = q + p * m
            for i in 0..<m where row[i] != 0 { row[i] = Float(Double(row[i]) / (columnSums[i] + 1e-12)) }
        }
    }
}
