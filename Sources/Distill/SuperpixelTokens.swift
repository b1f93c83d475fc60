import GraphIR

/// How a model's visual tokens become the tokens whose relations are distilled: the clustering
/// ablations of METHOD §10 (Tables VI, VIII, IX).
public struct TokenClustering: Hashable, Sendable {
    /// The ablation modes.
    public enum Mode: String, Hashable, Sendable, CaseIterable {
        /// The visual tokens themselves ("Direct-based" RKD).
        case none
        /// g×g max pooling of the token map, no association.
        case maxpool
        /// g×g average pooling: superpixel tokens with no association step.
        case avgpool
        /// Superpixel tokens: average-pooled, then refined by association steps (SeRKD's default).
        case superpixel
    }

    public var mode: Mode
    /// Cell size g of the pooling or of the initial super tokens; it must divide the token map's side.
    public var grid: Int
    /// Association steps of `superpixel` (Table IX); ignored by the other modes.
    public var iterations: Int
    /// Border rule of `superpixel`'s association.
    public var border: SuperpixelBorder

    /// SeRKD's defaults (METHOD §1.3): superpixel tokens, grid 2, one iteration, STViT's border rule.
    public init(mode: Mode = .superpixel, grid: Int = 2, iterations: Int = 1, border: SuperpixelBorder = .stvit) {
        self.mode = mode
        self.grid = grid
        self.iterations = iterations
        self.border = border
    }
}

extension Graph {
    /// Adds the nodes turning visual tokens [B, N, D] (row-major on a square √N×√N map) into the
    /// tokens a relation loss compares, [B, M, D] with M = (√N/g)² (or N for `none`).
    ///
    /// `name` prefixes the new nodes and names the clustering in errors. Throws `InvalidInput` when
    /// the tokens are not [B, N, D] floats, N is not a square, or the grid does not divide the map.
    public mutating func clusterTokens(_ tokens: ValueID, _ clustering: TokenClustering, name: String) throws -> ValueID {
        let subject = "clustering '\(name)'"
        let type = self.type(of: tokens)
        guard type.dtype == .float32, type.shape.rank == 3 else {
            throw InvalidInput(subject, "expects float tokens [B, N, D], got \(type)")
        }
        if clustering.mode == .none { return tokens }

        let (batch, count, width) = (type.shape[0], type.shape[1], type.shape[2])
        let side = Int(Double(count).squareRoot().rounded())
        guard count > 0, side * side == count else {
            throw InvalidInput(subject, "\(count) tokens do not form a square token map")
        }
        guard clustering.grid > 0, side % clustering.grid == 0 else {
            throw InvalidInput(subject, "grid \(clustering.grid) does not divide the \(side)×\(side) token map")
        }

        switch clustering.mode {
        case .none:
            return tokens
        case .avgpool, .superpixel:
            let iterations = clustering.mode == .avgpool ? 0 : clustering.iterations
            guard iterations >= 0 else { throw InvalidInput(subject, "iterations must be ≥ 0, got \(iterations)") }
            let settings = SuperpixelClustering(height: side, width: side, grid: clustering.grid, iterations: iterations, border: clustering.border)
            return try apply(.superpixelTokens(settings), [tokens], name: name, outputNames: [name, "\(name).association"])[0]
        case .maxpool:
            let g = clustering.grid, cells = side / g
            let channelsFirst = try apply1(.transpose(permutation: [0, 2, 1]), [tokens], name: "\(name).channels_first")
            let map = try apply1(.reshape([batch, width, side, side]), [channelsFirst], name: "\(name).map")
            let pooled = try apply1(.maxPool(Pooling(kernel: [g, g], strides: [g, g])), [map], name: "\(name).maxpool")
            let flat = try apply1(.reshape([batch, width, cells * cells]), [pooled], name: "\(name).flatten")
            return try apply1(.transpose(permutation: [0, 2, 1]), [flat], name: name)
        }
    }
}
