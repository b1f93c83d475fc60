import Tensor

/// SeRKD's kernels: superpixel tokens and the RKD relation losses with their gradients.
///
/// Each kernel works image by image on a fixed number of concurrent `slots` (chosen at plan time, so
/// the workspace size is known then), each with its own scratch in the workspace.
public enum SeRKDKernel: Hashable, Sendable, Codable {
    /// X [B, N, D] → S [B, M, D], Q̂ [B, N, M] (METHOD §3.3).
    case superpixelTokens(SuperpixelGeometry)
    /// S_s, S_t → RKD distance loss (scalar).
    case rkdDistance(RelationGeometry, perImageMean: Bool)
    /// S_s, S_t, dL (scalar) → dS_s of `rkdDistance`.
    case rkdDistanceBackward(RelationGeometry, perImageMean: Bool)
    /// S_s, S_t → RKD angle loss (scalar), from Gram matrices (METHOD §5.2).
    case rkdAngle(RelationGeometry)
    /// S_s, S_t, dL (scalar) → dS_s of `rkdAngle`.
    case rkdAngleBackward(RelationGeometry)

    /// Scratch bytes the kernel needs during its call.
    public var workspaceBytes: Int {
        switch self {
        case .superpixelTokens(let geometry): geometry.workspaceBytes
        case .rkdDistance(let geometry, _): RelationScratch(geometry, backward: false).bytes
        case .rkdDistanceBackward(let geometry, _): RelationScratch(geometry, backward: true).bytes
        case .rkdAngle(let geometry): AngleScratch(geometry, backward: false).bytes
        case .rkdAngleBackward(let geometry): AngleScratch(geometry, backward: true).bytes
        }
    }

    /// A short name for reports.
    public var name: String {
        switch self {
        case .superpixelTokens: "superpixel_tokens"
        case .rkdDistance: "rkd_distance"
        case .rkdDistanceBackward: "rkd_distance_backward"
        case .rkdAngle: "rkd_angle"
        case .rkdAngleBackward: "rkd_angle_backward"
        }
    }

    /// Runs the kernel on the step's operand and result addresses, in the order documented per case.
    func run(_ operands: [UnsafeRawPointer], _ results: [UnsafeMutableRawPointer], workspace: UnsafeMutableRawPointer?) throws {
        func f(_ p: UnsafeRawPointer) -> UnsafePointer<Float> { p.assumingMemoryBound(to: Float.self) }
        func fm(_ p: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Float> { p.assumingMemoryBound(to: Float.self) }
        precondition(workspaceBytes == 0 || workspace != nil, "\(name) needs a workspace")
        switch self {
        case .superpixelTokens(let geometry):
            SuperpixelTokens.run(geometry, tokens: f(operands[0]), superTokens: fm(results[0]), association: fm(results[1]),
                                 workspace: workspace)
        case .rkdDistance(let geometry, let perImageMean):
            fm(results[0]).pointee = RKDDistance.loss(geometry, perImageMean: perImageMean, student: f(operands[0]),
                                                      teacher: f(operands[1]), workspace: workspace!)
        case .rkdDistanceBackward(let geometry, let perImageMean):
            RKDDistance.gradient(geometry, perImageMean: perImageMean, student: f(operands[0]), teacher: f(operands[1]),
                                 upstream: f(operands[2]).pointee, into: fm(results[0]), workspace: workspace!)
        case .rkdAngle(let geometry):
            fm(results[0]).pointee = RKDAngle.loss(geometry, student: f(operands[0]), teacher: f(operands[1]), workspace: workspace!)
        case .rkdAngleBackward(let geometry):
            RKDAngle.gradient(geometry, student: f(operands[0]), teacher: f(operands[1]), upstream: f(operands[2]).pointee,
                              into: fm(results[0]), workspace: workspace!)
        }
    }
}

/// The token sets a relation loss compares: B images of N student tokens (width Ds) and N teacher
/// tokens (width Dt).
public struct RelationGeometry: Hashable, Sendable, Codable {
    /// Images B.
    public var batch: Int
    /// Tokens per image N (at least 2).
    public var count: Int
    /// Student token width Ds.
    public var studentWidth: Int
    /// Teacher token width Dt.
    public var teacherWidth: Int
    /// Anchor rows per work item of the angle kernels: the grain of their parallel loop and of their
    /// float partial sums.
    public var chunk: Int
    /// Concurrent workers, each with its own scratch.
    public var slots: Int

    /// The geometry of B images of N tokens; the slot count comes from this process's thread count.
    /// - Parameter chunk: anchor rows per work item (angle kernels); clamped to 1…N.
    public init(batch: Int, count: Int, studentWidth: Int, teacherWidth: Int, chunk: Int = 1) {
        precondition(batch > 0 && count >= 2 && studentWidth > 0 && teacherWidth > 0, "relation losses need B ≥ 1, N ≥ 2, D ≥ 1")
        self.batch = batch
        self.count = count
        self.studentWidth = studentWidth
        self.teacherWidth = teacherWidth
        self.chunk = min(max(chunk, 1), count)
        let blocks = (count + self.chunk - 1) / self.chunk
        self.slots = min(Parallel.threadCount, batch * blocks)
    }

    /// Anchor blocks per image.
    var blocks: Int { (count + chunk - 1) / chunk }
}

/// Carves typed, 64-byte aligned regions out of a kernel's workspace, in a fixed order, so the plan's
/// size and the kernel's use of it come from the same code.
struct ScratchLayout {
    private(set) var bytes = 0

    /// Reserves `count` elements of `type` and returns their byte offset.
    mutating func reserve<T>(_ type: T.Type, _ count: Int) -> Int {
        let offset = bytes
        bytes += (count * MemoryLayout<T>.stride + 63) / 64 * 64
        return offset
    }
}

extension UnsafeMutableRawPointer {
    /// The typed region at `offset` of a workspace.
    func region<T>(_ offset: Int, as type: T.Type) -> UnsafeMutablePointer<T> {
        (self + offset).assumingMemoryBound(to: T.self)
    }
}

/// Splits `count` work items into `slots` contiguous shares and runs them concurrently, each share
/// with its slot index. OpenBLAS is single-threaded meanwhile when more than one slot runs, so the
/// products the slots issue do not fight over the cores.
func forEachSlot(_ slots: Int, items count: Int, _ body: (_ slot: Int, _ items: Range<Int>) -> Void) {
    let share = { (slot: Int) in (count * slot / slots)..<(count * (slot + 1) / slots) }
    if slots <= 1 {
        body(0, 0..<count)
        return
    }
    Gemm.withSingleThreadedBLAS {
        Parallel.forEach(slots) { range in
            for slot in range { body(slot, share(slot)) }
        }
    }
}
