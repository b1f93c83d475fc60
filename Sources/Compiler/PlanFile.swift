import CProto
import GraphIR
import Runtime

/// A compiled plan as a file: what `serkd-compile` writes and `serkd-run` executes with no graph
/// work (layout in `schemas/serkd.proto`).
///
/// The header is a protobuf `PlanHeader`: buffers, steps (each kernel as the JSON of its `Codable`
/// form), arena size, inputs, outputs, the persistent-tensor table and metadata. Persistent tensors
/// follow in the 64-byte aligned data section shared with `.serkd` models (`TensorContainer`) and are
/// used in place from a copy-on-write mapping, so a training plan updates its parameters in memory
/// without touching the file. A CRC-32 trailer covers every byte; reading checks it and the plan's
/// structure before returning anything, so a corrupt file is refused before a kernel runs.
public struct PlanFile {
    /// The first eight bytes of every plan file.
    public static let magic = Array("SERKDPLN".utf8)
    /// The layout version this build writes and reads.
    public static let formatVersion: UInt32 = 1
    /// The version of the kernel set: the kernels' cases, their geometry fields and operand orders,
    /// as encoded in plan steps. A plan runs only on the kernels it was compiled for; change this when
    /// a kernel's encoded form or meaning changes.
    public static let kernelABI: UInt32 = 1

    /// What a persistent tensor is, for whoever runs the plan (a trainer saves parameters and state).
    public struct PersistentTensor: Hashable, Sendable {
        /// The IR value's name.
        public var name: String
        /// Parameter, constant or state.
        public var kind: ValueKind

        public init(name: String, kind: ValueKind) {
            self.name = name
            self.kind = kind
        }
    }

    /// The program.
    public var plan: Plan
    /// What the plan was compiled from and what its runner needs to know (free-form strings).
    public var metadata: [String: String]
    /// Name and kind of each of `plan.persistent`, in order.
    public var persistentTensors: [PersistentTensor]

    /// A plan with its metadata and the names and kinds of its persistent tensors.
    public init(plan: Plan, metadata: [String: String], persistentTensors: [PersistentTensor]) {
        precondition(persistentTensors.count == plan.persistent.count, "one name and kind per persistent tensor")
        self.plan = plan
        self.metadata = metadata
        self.persistentTensors = persistentTensors
    }

    /// The plan `Pipeline.compile` produced; persistent tensors take the names and kinds of the graph
    /// values whose buffers they hold.
    public init(_ compiled: Pipeline.Result, metadata: [String: String]) {
        self.init(compiled.plan, graph: compiled.graph, metadata: metadata)
    }

    /// `plan` with names and kinds of its persistent tensors from `graph`, the graph it was lowered
    /// from if known (`Lowering` makes them its data values in order); without it each is named after
    /// the first buffer placed at its start and counted a constant.
    public init(_ plan: Plan, graph: Graph? = nil, metadata: [String: String]) {
        var bufferNames = [String?](repeating: nil, count: plan.persistent.count)
        for buffer in plan.buffers {
            if case .persistent(let index, 0) = buffer.location, bufferNames.indices.contains(index), bufferNames[index] == nil {
                bufferNames[index] = buffer.name
            }
        }
        let owners = graph.map { graph in graph.dataValues.count == plan.persistent.count ? graph.dataValues : [] } ?? []
        let tensors = plan.persistent.indices.map { index -> PersistentTensor in
            if let graph, owners.indices.contains(index) {
                return PersistentTensor(name: graph[owners[index]].name, kind: graph[owners[index]].kind)
            }
            return PersistentTensor(name: bufferNames[index] ?? "persistent.\(index)", kind: .constant)
        }
        self.init(plan: plan, metadata: metadata, persistentTensors: tensors)
    }

    /// Writes `plan` with `metadata` to `path` atomically (nothing appears at `path` on failure).
    public static func write(_ plan: Plan, metadata: [String: String], to path: String) throws {
        try PlanFile(plan, metadata: metadata).write(to: path)
    }

    /// Writes the plan file to `path` atomically (nothing appears at `path` on failure).
    public func write(to path: String, producer: String = "serkd") throws {
        let arena = ProtobufArena()
        let coder = KernelCoding()
        var data = TensorContainer.DataSection()
        let persistent = zip(plan.persistent, persistentTensors).map { tensor, described -> UnsafeMutablePointer<Serkd__PlanTensor>? in
            arena.message { serkd__plan_tensor__init($0) }.withPointee { message in
                message.name = arena.string(described.name)
                message.dtype = tensor.dtype.wire
                message.n_shape = tensor.shape.rank
                message.shape = arena.array(tensor.shape.dims.map(Int64.init))
                message.kind = described.kind.wire
                message.data_offset = UInt64(data.place(tensor))
                message.data_length = UInt64(tensor.byteCount)
            }
        }
        let buffers = plan.buffers.map { buffer -> UnsafeMutablePointer<Serkd__PlanBuffer>? in
            arena.message { serkd__plan_buffer__init($0) }.withPointee { message in
                message.name = arena.string(buffer.name)
                message.dtype = buffer.dtype.wire
                message.n_shape = buffer.shape.rank
                message.shape = arena.array(buffer.shape.dims.map(Int64.init))
                switch buffer.location {
                case .arena(let offset):
                    message.location_case = SERKD__PLAN_BUFFER__LOCATION_ARENA_OFFSET
                    message.arena_offset = UInt64(offset)
                case .persistent(let index, let byteOffset):
                    message.location_case = SERKD__PLAN_BUFFER__LOCATION_PERSISTENT
                    message.persistent = arena.message { serkd__persistent_place__init($0) }.withPointee {
                        $0.index = UInt32(index)
                        $0.byte_offset = UInt64(byteOffset)
                    }
                }
            }
        }
        let steps = try plan.steps.map { step -> UnsafeMutablePointer<Serkd__PlanStep>? in
            let kernel = try coder.encode(step.kernel)
            return arena.message { serkd__plan_step__init($0) }.withPointee { message in
                message.kernel = arena.string(kernel)
                message.n_operands = step.operands.count
                message.operands = arena.array(step.operands.map { UInt32($0.index) })
                message.n_results = step.results.count
                message.results = arena.array(step.results.map { UInt32($0.index) })
                if let offset = step.workspaceOffset {
                    message.workspace_case = SERKD__PLAN_STEP__WORKSPACE_WORKSPACE_OFFSET
                    message.workspace_offset = UInt64(offset)
                }
                message.label = arena.string(step.label)
            }
        }
        let entries = metadata.keys.sorted().map { key -> UnsafeMutablePointer<Serkd__MetadataEntry>? in
            arena.message { serkd__metadata_entry__init($0) }.withPointee {
                $0.key = arena.string(key)
                $0.value = arena.string(metadata[key]!)
            }
        }
        let header = arena.message { serkd__plan_header__init($0) }.withPointee { message in
            message.producer = arena.string(producer)
            message.kernel_abi = Self.kernelABI
            message.threads = UInt32(Parallel.threadCount)
            message.n_buffers = buffers.count
            message.buffers = arena.array(buffers)
            message.n_steps = steps.count
            message.steps = arena.array(steps)
            message.arena_bytes = UInt64(plan.arenaBytes)
            message.n_inputs = plan.inputs.count
            message.inputs = arena.array(plan.inputs.map { UInt32($0.index) })
            message.n_outputs = plan.outputs.count
            message.outputs = arena.array(plan.outputs.map { UInt32($0.index) })
            message.n_persistent = persistent.count
            message.persistent = arena.array(persistent)
            message.n_metadata = entries.count
            message.metadata = arena.array(entries)
            message.data_length = UInt64(data.byteCount)
        }
        var headerBytes = [UInt8](repeating: 0, count: serkd__plan_header__get_packed_size(header))
        _ = serkd__plan_header__pack(header, &headerBytes)
        try TensorContainer.write(to: path, magic: Self.magic, version: Self.formatVersion, header: headerBytes, data: data, checksummed: true)
    }
}

extension DType {
    /// The dtype's code in `schemas/serkd.proto`.
    var wire: Serkd__DType { Serkd__DType(rawValue: UInt32(rawValue)) }

    /// The dtype with code `wire`, if there is one.
    init?(wire: Serkd__DType) {
        guard let dtype = DType(rawValue: Int32(truncatingIfNeeded: wire.rawValue)), dtype.wire == wire else { return nil }
        self = dtype
    }
}
