import Tensor

/// A compiled program: kernels in execution order over buffers with fixed places, ready to run with
/// no graph work.
///
/// Intermediate buffers live at planned offsets in one arena allocated once per executor; parameters
/// and constants live in their own persistent tensors, which steps may update in place (optimizer
/// steps). Reshapes cost nothing: their result is a second buffer at the same place.
public struct Plan: Sendable {
    /// Every tensor the steps read or write.
    public var buffers: [Buffer]
    /// Kernels in execution order.
    public var steps: [Step]
    /// Bytes of the arena holding all `.arena` buffers and workspaces.
    public var arenaBytes: Int
    /// Buffers the caller fills before a run, in order.
    public var inputs: [BufferID]
    /// Buffers the caller reads after a run, in order.
    public var outputs: [BufferID]
    /// Data of `.persistent` buffers.
    public var persistent: [Tensor]

    public init(buffers: [Buffer], steps: [Step], arenaBytes: Int, inputs: [BufferID], outputs: [BufferID], persistent: [Tensor]) {
        self.buffers = buffers
        self.steps = steps
        self.arenaBytes = arenaBytes
        self.inputs = inputs
        self.outputs = outputs
        self.persistent = persistent
    }
}

/// Identifies a buffer of a plan.
public struct BufferID: Hashable, Sendable, CustomStringConvertible {
    public let index: Int
    public init(_ index: Int) { self.index = index }
    public var description: String { "b\(index)" }
}

/// A tensor's type and where its bytes are during a run.
public struct Buffer: Hashable, Sendable {
    /// Where a buffer's bytes live.
    public enum Location: Hashable, Sendable {
        /// At this byte offset in the arena.
        case arena(offset: Int)
        /// In `Plan.persistent[index]`, at a byte offset inside it (non-zero for views).
        case persistent(index: Int, byteOffset: Int)
    }

    /// For messages and dumps (the IR value's name).
    public var name: String
    public var dtype: DType
    public var shape: Shape
    public var location: Location

    public init(name: String, dtype: DType, shape: Shape, location: Location) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.location = location
    }

    /// Bytes of element data.
    public var byteCount: Int { shape.elementCount * dtype.byteSize }
}

/// One kernel call.
public struct Step: Hashable, Sendable {
    /// What to compute, with its geometry resolved.
    public var kernel: Kernel
    /// Buffers read, in the kernel's operand order.
    public var operands: [BufferID]
    /// Buffers written.
    public var results: [BufferID]
    /// Arena offset of scratch memory (`kernel.workspaceBytes` long), if the kernel needs any.
    public var workspaceOffset: Int?
    /// The IR node this step came from.
    public var label: String

    public init(kernel: Kernel, operands: [BufferID], results: [BufferID], workspaceOffset: Int? = nil, label: String) {
        self.kernel = kernel
        self.operands = operands
        self.results = results
        self.workspaceOffset = workspaceOffset
        self.label = label
    }
}
