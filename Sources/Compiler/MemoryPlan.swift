/// Offsets for every intermediate buffer of a plan inside one arena, chosen so that buffers alive at
/// the same time never overlap.
///
/// Each buffer has a lifetime: the first and last step that touch it. The planner places buffers
/// greedily — once ordered largest first (TFLite's greedy-by-size), once in order of first use — each
/// at the best-fitting gap among the already placed buffers whose lifetimes overlap it, and keeps the
/// smaller arena. Alongside the arena size it reports two yardsticks: the naive sum of all buffers
/// (what allocating each separately costs) and the lower bound (the most bytes alive at any one
/// step, which no placement can beat).
public struct MemoryPlan: Sendable, Equatable {
    /// The steps during which a buffer must keep its contents, and its size.
    public struct Lifetime: Sendable, Equatable {
        /// First step that writes or reads the buffer.
        public var first: Int
        /// Last step that reads it.
        public var last: Int
        /// Size in bytes.
        public var bytes: Int

        public init(first: Int, last: Int, bytes: Int) {
            precondition(first <= last && bytes >= 0, "invalid lifetime \(first)...\(last) of \(bytes) bytes")
            self.first = first
            self.last = last
            self.bytes = bytes
        }

        func overlaps(_ other: Lifetime) -> Bool { first <= other.last && other.first <= last }
    }

    /// Byte offset of each buffer in the arena, in the order the lifetimes were given.
    public var offsets: [Int]
    /// Arena size in bytes.
    public var arenaBytes: Int
    /// Sum of all buffer sizes.
    public var naiveBytes: Int
    /// The largest number of bytes alive at any one step.
    public var lowerBound: Int
    /// Which placement order won.
    public var strategy: String

    /// Every offset is a multiple of this, so kernels may use aligned vector loads.
    public static let alignment = 64

    /// Plans `lifetimes`.
    public init(_ lifetimes: [Lifetime]) {
        let sizes = lifetimes.map { ($0.bytes + Self.alignment - 1) / Self.alignment * Self.alignment }
        let bySize = lifetimes.indices.sorted { (sizes[$0], lifetimes[$0].last - lifetimes[$0].first, -$0) > (sizes[$1], lifetimes[$1].last - lifetimes[$1].first, -$1) }
        let byFirstUse = lifetimes.indices.sorted { (lifetimes[$0].first, -sizes[$0], $0) < (lifetimes[$1].first, -sizes[$1], $1) }
        let candidates = [("greedy-by-size", bySize), ("greedy-by-first-use", byFirstUse)].map { name, order in
            (name, Self.place(lifetimes, sizes: sizes, order: order))
        }
        let best = candidates.min { $0.1.arena < $1.1.arena }!
        offsets = best.1.offsets
        arenaBytes = best.1.arena
        strategy = best.0
        naiveBytes = sizes.reduce(0, +)
        lowerBound = Self.peakLiveBytes(lifetimes, sizes: sizes)
    }

    /// Places buffers in `order`, each at the smallest gap that fits among placed, overlapping buffers.
    private static func place(_ lifetimes: [Lifetime], sizes: [Int], order: [Int]) -> (offsets: [Int], arena: Int) {
        var offsets = [Int](repeating: 0, count: lifetimes.count)
        var placed: [Int] = []
        var arena = 0
        for buffer in order {
            let size = sizes[buffer]
            let busy = placed.filter { lifetimes[$0].overlaps(lifetimes[buffer]) }
                .map { (start: offsets[$0], end: offsets[$0] + sizes[$0]) }
                .sorted { $0.start < $1.start }
            var best: (offset: Int, gap: Int)?
            var cursor = 0
            for interval in busy {
                let gap = interval.start - cursor
                if gap >= size, best == nil || gap < best!.gap { best = (cursor, gap) }
                cursor = max(cursor, interval.end)
            }
            let offset = best?.offset ?? cursor
            offsets[buffer] = offset
            arena = max(arena, offset + size)
            placed.append(buffer)
        }
        return (offsets, arena)
    }

    private static func peakLiveBytes(_ lifetimes: [Lifetime], sizes: [Int]) -> Int {
        guard let steps = lifetimes.map(\.last).max() else { return 0 }
        var delta = [Int](repeating: 0, count: steps + 2)
        for (lifetime, size) in zip(lifetimes, sizes) {
            delta[lifetime.first] += size
            delta[lifetime.last + 1] -= size
        }
        var live = 0, peak = 0
        for change in delta {
            live += change
            peak = max(peak, live)
        }
        return peak
    }

    /// The first pair of buffers that are alive together and overlap in the arena, if any: the
    /// invariant tests check on every plan.
    public func firstConflict(_ lifetimes: [Lifetime]) -> (Int, Int)? {
        for a in lifetimes.indices {
            for b in lifetimes.indices where b > a && lifetimes[a].overlaps(lifetimes[b]) {
                guard lifetimes[a].bytes > 0 && lifetimes[b].bytes > 0 else { continue }
                if offsets[a] < offsets[b] + lifetimes[b].bytes && offsets[b] < offsets[a] + lifetimes[a].bytes { return (a, b) }
            }
        }
        return nil
    }
}
