import CBLAS
import Tensor

/// Work a GEMM-shaped kernel does to its output while the output is still in cache: add a bias along
/// rows or columns, then apply an activation. The compiler fuses MatMul + bias + activation (and
/// Conv + bias + activation) into one kernel by filling this in.
public struct Epilogue: Hashable, Sendable, Codable {
    /// Which axis of each output matrix the bias vector runs along.
    public enum Bias: String, Hashable, Sendable, Codable {
        /// No bias.
        case none
        /// One value per row (length m): a convolution's per-channel bias.
        case perRow
        /// One value per column (length n): a linear layer's bias.
        case perColumn
    }

    /// Where the bias goes, if any.
    public var bias: Bias
    /// Applied after the bias.
    public var activation: UnaryFunction?

    /// An epilogue adding `bias`, then applying `activation`.
    public init(bias: Bias = .none, activation: UnaryFunction? = nil) {
        self.bias = bias
        self.activation = activation
    }

    /// No bias, no activation.
    public static let none = Epilogue()

    var isEmpty: Bool { bias == .none && activation == nil }

    /// Applies the epilogue to `rows` of a row-major matrix with `columns` columns.
    func apply(to c: UnsafeMutablePointer<Float>, rows: Range<Int>, columns: Int, bias vector: UnsafePointer<Float>?) {
        for row in rows {
            let line = c + row * columns
            switch bias {
            case .none: break
            case .perRow:
                let value = vector![row]
                for j in 0..<columns { line[j] += value }
            case .perColumn:
                let values = vector!
                for j in 0..<columns { line[j] += values[j] }
            }
            if let activation { Elementwise.applySerially(activation, line, line, count: columns) }
        }
    }
}

/// Batched matrix products C[i] = α·op(A[i])·op(B[i]) + β·C[i], then an optional epilogue, on
/// OpenBLAS's sgemm.
///
/// Leading (batch) axes broadcast as in numpy's matmul. A batch of products that share B and keep A
/// untransposed is one tall product; many small products (attention's per-head matrices) run
/// concurrently, one per thread, instead of each being split across threads by BLAS.
public enum Gemm {
    /// A resolved batched product.
    public struct Geometry: Hashable, Sendable, Codable {
        /// Rows of op(A) and C.
        public var m: Int
        /// Columns of op(B) and C.
        public var n: Int
        /// Columns of op(A), rows of op(B).
        public var k: Int
        /// A is stored k×m (op(A) = Aᵀ) rather than m×k.
        public var transposeA: Bool
        /// B is stored n×k rather than k×n.
        public var transposeB: Bool
        /// Batch axes after merging (empty for a single product); C is contiguous over them.
        public var batchExtents: [Int]
        /// Element strides of A and B along each batch axis (0 where the operand is broadcast).
        public var batchStridesA: [Int]
        public var batchStridesB: [Int]
        /// Number of products.
        public var batchCount: Int
        /// Scales the product.
        public var alpha: Float
        /// 0 overwrites C; 1 accumulates into it.
        public var beta: Float
        /// Bias and activation applied to C afterwards.
        public var epilogue: Epilogue
        /// Run whole products on separate threads (each single-threaded) rather than one after another.
        public var parallelOverBatch: Bool

        /// Scratch bytes the kernel needs: none.
        public var workspaceBytes: Int { 0 }

        /// The product of row-major operands of shapes `a` and `b` (rank ≥ 2, batch axes broadcast),
        /// giving C of shape broadcast(batch) + [m, n].
        public init(a: [Int], b: [Int], transposeA: Bool = false, transposeB: Bool = false, alpha: Float = 1,
                    beta: Float = 0, epilogue: Epilogue = .none) {
            precondition(a.count >= 2 && b.count >= 2, "matrix operands need rank 2, got \(a) and \(b)")
            let (m, ka) = transposeA ? (a[a.count - 1], a[a.count - 2]) : (a[a.count - 2], a[a.count - 1])
            let (kb, n) = transposeB ? (b[b.count - 1], b[b.count - 2]) : (b[b.count - 2], b[b.count - 1])
            precondition(ka == kb, "inner extents differ: \(a) · \(b)")
            let batchA = Array(a.dropLast(2)), batchB = Array(b.dropLast(2))
            let rank = max(batchA.count, batchB.count)
            let paddedA = Array(repeating: 1, count: rank - batchA.count) + batchA
            let paddedB = Array(repeating: 1, count: rank - batchB.count) + batchB
            var extents: [Int] = [], stridesA: [Int] = [], stridesB: [Int] = []
            var strideA = m * ka, strideB = kb * n
            for axis in (0..<rank).reversed() {
                let extent = max(paddedA[axis], paddedB[axis])
                precondition([1, extent].contains(paddedA[axis]) && [1, extent].contains(paddedB[axis]),
                             "batch axes of \(a) and \(b) do not broadcast")
                extents.insert(extent, at: 0)
                stridesA.insert(paddedA[axis] == 1 ? 0 : strideA, at: 0)
                stridesB.insert(paddedB[axis] == 1 ? 0 : strideB, at: 0)
                strideA *= paddedA[axis]
                strideB *= paddedB[axis]
            }
            var merged = mergeAxes(extents: extents, strides: [stridesA, stridesB])
            if merged.extents == [1] { merged = ([], [[], []]) }
            var count = merged.extents.reduce(1, *)
            var rows = m
            // Products sharing B with untransposed, contiguous A rows are one product of stacked rows.
            if count > 1, !transposeA, merged.strides[1].allSatisfy({ $0 == 0 }), merged.extents.count == 1,
               merged.strides[0] == [m * ka], epilogue.bias != .perRow {
                rows = m * count
                count = 1
                merged = ([], [[], []])
            }
            self.m = rows
            self.n = n
            self.k = ka
            self.transposeA = transposeA
            self.transposeB = transposeB
            self.batchExtents = merged.extents
            self.batchStridesA = merged.strides[0]
            self.batchStridesB = merged.strides[1]
            self.batchCount = count
            self.alpha = alpha
            self.beta = beta
            self.epilogue = epilogue
            // Measured on 2 Zen 4 cores: for 8–16 products of 5 to 231 MFLOP, one single-threaded
            // product per thread beats OpenBLAS splitting each one (by 40% at attention's
            // 197×197×64, 2–45% at convolution shapes). At least two products per thread keep an
            // odd count from idling a thread.
            self.parallelOverBatch = count >= 2 * Parallel.threadCount
        }

        /// Element offsets of batch item `item` in A and B.
        func offsets(of item: Int) -> (a: Int, b: Int) {
            var rest = item, a = 0, b = 0
            for axis in batchExtents.indices.reversed() {
                let index = rest % batchExtents[axis]
                rest /= batchExtents[axis]
                a += index * batchStridesA[axis]
                b += index * batchStridesB[axis]
            }
            return (a, b)
        }
    }

    /// Computes the batched product into `c` (contiguous, batch × m × n). `bias` is required when the
    /// epilogue has one (length m or n). `c` must not overlap `a` or `b`.
    public static func multiply(_ geometry: Geometry, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                bias: UnsafePointer<Float>? = nil, into c: UnsafeMutablePointer<Float>) {
        let g = geometry
        guard g.m > 0, g.n > 0, g.batchCount > 0 else { return }
        precondition(g.epilogue.bias == .none || bias != nil, "the epilogue adds a bias but none was given")
        let itemSize = g.m * g.n
        func product(_ item: Int) {
            let (offsetA, offsetB) = g.offsets(of: item)
            sgemm(transposeA: g.transposeA, transposeB: g.transposeB, m: g.m, n: g.n, k: g.k, alpha: g.alpha,
                  a + offsetA, b + offsetB, beta: g.beta, c + item * itemSize)
        }
        if g.parallelOverBatch {
            withSingleThreadedBLAS {
                Parallel.forEach(g.batchCount) { items in
                    for item in items {
                        product(item)
                        if !g.epilogue.isEmpty {
                            g.epilogue.apply(to: c + item * itemSize, rows: 0..<g.m, columns: g.n, bias: bias)
                        }
                    }
                }
            }
            return
        }
        for item in 0..<g.batchCount { product(item) }
        if !g.epilogue.isEmpty {
            Parallel.forEach(g.batchCount * g.m, grain: max(1, Elementwise.grain / g.n)) { rows in
                for row in rows {
                    let (item, r) = row.quotientAndRemainder(dividingBy: g.m)
                    g.epilogue.apply(to: c + item * itemSize, rows: r..<(r + 1), columns: g.n, bias: bias)
                }
            }
        }
    }

    /// Runs `body` with OpenBLAS limited to one thread, for kernels that call sgemm from several of
    /// their own threads: OpenBLAS would otherwise split every product across its threads as well and
    /// serialise the callers. The setting is library-wide, so the call holds `BLAS.exclusively` and
    /// restores the count chosen at load, never a value another caller may have left.
    static func withSingleThreadedBLAS(_ body: () -> Void) {
        let threads = Int32(BLAS.selection.threads)
        BLAS.exclusively {
            serkd_blas_set_threads(1)
            defer { serkd_blas_set_threads(threads) }
            body()
        }
    }

    /// One row-major sgemm: C (m×n, leading dimension n) = α·op(A)·op(B) + β·C with A and B dense.
    /// Loads OpenBLAS on first use.
    static func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                      _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, beta: Float, _ c: UnsafeMutablePointer<Float>) {
        _ = BLAS.selection
        let lda = transposeA ? m : k, ldb = transposeB ? k : n
        serkd_sgemm(Int32(SERKD_ROW_MAJOR), Int32(transposeA ? SERKD_TRANS : SERKD_NO_TRANS),
                    Int32(transposeB ? SERKD_TRANS : SERKD_NO_TRANS), Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(max(1, lda)), b, Int32(max(1, ldb)), beta, c, Int32(max(1, n)))
    }
}
