/// The static shape of a tensor: one extent per axis, row-major (the last axis is contiguous).
public struct Shape: Hashable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// Extents, outermost first. A rank-0 shape is a scalar.
    public var dims: [Int]

    /// Creates a shape from its extents.
    public init(_ dims: [Int]) { self.dims = dims }

    public init(arrayLiteral elements: Int...) { self.dims = elements }

    /// The number of axes.
    public var rank: Int { dims.count }

    /// The number of elements (1 for a scalar).
    public var elementCount: Int { dims.reduce(1, *) }

    /// Row-major element strides, one per axis.
    public var strides: [Int] {
        var strides = [Int](repeating: 1, count: dims.count)
        var stride = 1
        for axis in dims.indices.reversed() {
            strides[axis] = stride
            stride *= dims[axis]
        }
        return strides
    }

    /// The extent of an axis; negative axes count from the end.
    public subscript(axis: Int) -> Int {
        get { dims[axis < 0 ? axis + dims.count : axis] }
        set { dims[axis < 0 ? axis + dims.count : axis] = newValue }
    }

    /// `[2,3,224,224]`
    public var description: String { "[" + dims.map(String.init).joined(separator: ",") + "]" }

    /// Resolves a possibly negative axis against this rank, or returns nil when it is out of range.
    public func normalizedAxis(_ axis: Int) -> Int? {
        let resolved = axis < 0 ? axis + rank : axis
        return (0..<rank).contains(resolved) ? resolved : nil
    }

    /// The number of elements, or nil when an extent is negative or the product overflows. Use this on
    /// shapes read from files before allocating anything.
    public var checkedElementCount: Int? {
        var count = 1
        for dim in dims {
            guard dim >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// The numpy broadcast of two shapes, or nil when they are incompatible.
    public static func broadcast(_ a: Shape, _ b: Shape) -> Shape? {
        let rank = max(a.rank, b.rank)
        var dims = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.rank ? 1 : a.dims[i - (rank - a.rank)]
            let db = i < rank - b.rank ? 1 : b.dims[i - (rank - b.rank)]
            if da == db || db == 1 { dims[i] = da } else if da == 1 { dims[i] = db } else { return nil }
        }
        return Shape(dims)
    }
}
