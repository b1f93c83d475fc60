import Tensor

/// Where a fused linear op's bias runs.
public enum LinearBias: String, Hashable, Sendable, Codable, CaseIterable {
    /// No bias input.
    case none
    /// One value per row of each product (length m).
    case row
    /// One value per column of each product (length n): a linear layer's bias.
    case column
}

/// How border super tokens treat neighbours outside the grid (METHOD §3.3).
public enum SuperpixelBorder: String, Hashable, Sendable, CaseIterable {
    /// STViT: missing neighbours are zero vectors whose logit 0 stays in the softmax denominator.
    case stvit
    /// SSN: missing neighbours are excluded from the softmax.
    case mask
}

/// Settings of the superpixel-token clustering.
public struct SuperpixelClustering: Hashable, Sendable {
    /// Token grid height and width (H·W tokens).
    public var height: Int
    public var width: Int
    /// Super-token cell size g: each super token starts as the mean of a g×g cell.
    public var grid: Int
    /// Association/update iterations (0: plain average pooling).
    public var iterations: Int
    public var border: SuperpixelBorder

    public init(height: Int, width: Int, grid: Int = 2, iterations: Int = 1, border: SuperpixelBorder = .stvit) {
        self.height = height
        self.width = width
        self.grid = grid
        self.iterations = iterations
        self.border = border
    }

    /// Number of super tokens.
    public var superTokenCount: Int { (height / grid) * (width / grid) }
}

/// Transposition flags of a matrix product (the transposes cost nothing in GEMM).
public struct MatMul: Hashable, Sendable {
    /// Use Aᵀ (the last two axes of A swapped).
    public var transposeA: Bool
    /// Use Bᵀ.
    public var transposeB: Bool

    public init(transposeA: Bool = false, transposeB: Bool = false) {
        self.transposeA = transposeA
        self.transposeB = transposeB
    }
}

/// Geometry of a 2-D convolution.
public struct Convolution: Hashable, Sendable {
    /// [strideH, strideW]
    public var strides: [Int]
    /// [top, left, bottom, right]
    public var pads: [Int]
    /// [dilationH, dilationW]
    public var dilations: [Int]
    /// Number of channel groups (C and M are both divisible by it).
    public var groups: Int

    public init(strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0], dilations: [Int] = [1, 1], groups: Int = 1) {
        self.strides = strides
        self.pads = pads
        self.dilations = dilations
        self.groups = groups
    }
}

/// Geometry of a 2-D pooling window.
public struct Pooling: Hashable, Sendable {
    /// [kH, kW]
    public var kernel: [Int]
    /// [strideH, strideW]
    public var strides: [Int]
    /// [top, left, bottom, right]
    public var pads: [Int]
    /// [dilationH, dilationW]
    public var dilations: [Int]
    /// Round the output extent up instead of down.
    public var ceilMode: Bool
    /// Average pooling only: divide by the full window, padding included.
    public var countIncludePad: Bool

    public init(kernel: [Int], strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0], dilations: [Int] = [1, 1],
                ceilMode: Bool = false, countIncludePad: Bool = false) {
        self.kernel = kernel
        self.strides = strides
        self.pads = pads
        self.dilations = dilations
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
    }
}

/// A resolved strided window: one entry per input axis.
public struct Slice: Hashable, Sendable {
    /// First index taken on each axis.
    public var starts: [Int]
    /// Exclusive bound on each axis (may be -1 for a negative step reaching index 0).
    public var ends: [Int]
    /// Step on each axis (never 0).
    public var steps: [Int]

    public init(starts: [Int], ends: [Int], steps: [Int]) {
        self.starts = starts
        self.ends = ends
        self.steps = steps
    }

    /// Number of indices taken on each axis (0 for a step of 0). Written so that no step, however
    /// large, overflows: shape inference bounds starts and ends by the axis, steps are anything.
    public var extents: [Int] {
        zip(zip(starts, ends), steps).map { bounds, step in
            let (start, end) = bounds
            if step > 0 { return end > start ? (end - start - 1) / step + 1 : 0 }
            if step < 0 { return start > end ? Int(UInt(start - end - 1) / step.magnitude) + 1 : 0 }
            return 0
        }
    }
}
