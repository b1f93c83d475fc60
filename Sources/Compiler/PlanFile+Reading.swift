import CProto
import GraphIR
import Runtime

extension PlanFile {
    /// Reads and validates the plan in `path`. Nothing is returned unless the whole file checks out:
    /// magic, format and kernel versions, thread count, the checksum over every byte, then the
    /// structure (tensor sizes, every buffer inside the arena or its persistent tensor, operand and
    /// result ids, workspaces inside the arena, inputs and outputs, every kernel decoding), then every
    /// step's kernel against the buffers it names (`Plan.validate`). Errors are one line naming the
    /// file. Persistent tensors live in a private copy-on-write mapping.
    public static func read(_ path: String) throws -> PlanFile {
        let file = try MappedFile(path: path, writable: true)
        do {
            return try decode(try TensorContainer(file, magic: magic, kind: "serkd plan file"))
        } catch let error as InvalidInput {
            throw InvalidInput(path, error.problem)
        }
    }

    private static func decode(_ container: TensorContainer) throws -> PlanFile {
        guard container.version == formatVersion else {
            throw InvalidInput(nil, "plan format \(container.version) is not supported (this serkd reads \(formatVersion)): recompile with serkd-compile")
        }
        let headerBytes = try container.header(trailer: TensorContainer.trailerSize)
        guard let header = serkd__plan_header__unpack(nil, headerBytes.count, headerBytes.baseAddress?.assumingMemoryBound(to: UInt8.self)) else {
            throw InvalidInput(nil, "corrupt header")
        }
        defer { serkd__plan_header__free_unpacked(header, nil) }
        let wire = header.pointee

        let dataStart = container.dataStart(headerLength: headerBytes.count)
        let fileSize = UInt64(container.bytes.count)
        let (dataEnd, overflow) = UInt64(dataStart).addingReportingOverflow(wire.data_length)
        guard !overflow, dataEnd <= fileSize - UInt64(TensorContainer.trailerSize) else {
            let held = max(0, Int(fileSize) - TensorContainer.trailerSize - dataStart)
            throw InvalidInput(nil, "truncated: the data section has \(wire.data_length) bytes, the file holds \(held)")
        }
        guard dataEnd + UInt64(TensorContainer.trailerSize) == fileSize else {
            throw InvalidInput(nil, "\(fileSize - dataEnd - 4) unexpected bytes after the data section")
        }
        guard container.checksumMatches() else {
            throw InvalidInput(nil, "checksum mismatch: the file is corrupt (rewrite it with serkd-compile)")
        }
        guard wire.kernel_abi == kernelABI else {
            throw InvalidInput(nil, "plan kernel ABI \(wire.kernel_abi) is not supported (this serkd runs \(kernelABI)): recompile with serkd-compile")
        }
        guard wire.threads == Parallel.threadCount else {
            throw InvalidInput(nil, "was compiled for \(wire.threads) threads, this process uses \(Parallel.threadCount): "
                                    + "run with SERKD_THREADS=\(wire.threads), or recompile with serkd-compile")
        }
        guard wire.arena_bytes <= UInt64(Int.max) else { throw InvalidInput(nil, "arena of \(wire.arena_bytes) bytes is too large") }
        let arenaBytes = Int(wire.arena_bytes)
        try MemoryLimit.check(arenaBytes, for: "the arena")

        var persistent: [Tensor] = [], described: [PersistentTensor] = []
        for index in 0..<wire.n_persistent {
            let message = wire.persistent[index]!.pointee
            let name = String(cString: message.name)
            let (dtype, shape) = try type(message.dtype, message.shape, message.n_shape, of: "tensor '\(name)'")
            guard let kind = ValueKind(wire: message.kind), [.parameter, .constant, .state].contains(kind) else {
                throw InvalidInput(nil, "tensor '\(name)' has kind \(message.kind.rawValue), not parameter, constant or state")
            }
            persistent.append(try container.tensor("tensor", name, dtype, shape, offset: message.data_offset, length: message.data_length,
                                                   dataStart: dataStart, dataSize: Int(wire.data_length)))
            described.append(PersistentTensor(name: name, kind: kind))
        }

        var buffers: [Buffer] = []
        for index in 0..<wire.n_buffers {
            let message = wire.buffers[index]!.pointee
            let name = String(cString: message.name)
            let (dtype, shape) = try type(message.dtype, message.shape, message.n_shape, of: "buffer b\(index) '\(name)'")
            let byteCount = shape.elementCount * dtype.byteSize
            let location: Buffer.Location
            switch message.location_case {
            case SERKD__PLAN_BUFFER__LOCATION_ARENA_OFFSET:
                try checkPlace(message.arena_offset, byteCount, in: arenaBytes, of: "buffer b\(index) '\(name)'")
                location = .arena(offset: Int(message.arena_offset))
            case SERKD__PLAN_BUFFER__LOCATION_PERSISTENT:
                guard let place = message.persistent?.pointee else { throw InvalidInput(nil, "buffer b\(index) '\(name)' has no persistent place") }
                guard Int(place.index) < persistent.count else {
                    throw InvalidInput(nil, "buffer b\(index) '\(name)' lies in persistent tensor #\(place.index), the plan has \(persistent.count)")
                }
                let tensor = persistent[Int(place.index)]
                guard tensor.dtype == dtype, place.byte_offset % UInt64(dtype.byteSize) == 0, place.byte_offset <= UInt64(tensor.byteCount),
                      UInt64(byteCount) <= UInt64(tensor.byteCount) - place.byte_offset else {
                    throw InvalidInput(nil, "buffer b\(index) '\(name)' (\(dtype.shortName)\(shape) at byte \(place.byte_offset)) does not fit in "
                                            + "tensor '\(described[Int(place.index)].name)' (\(tensor.dtype.shortName)\(tensor.shape))")
                }
                location = .persistent(index: Int(place.index), byteOffset: Int(place.byte_offset))
            default:
                throw InvalidInput(nil, "buffer b\(index) '\(name)' has no location")
            }
            buffers.append(Buffer(name: name, dtype: dtype, shape: shape, location: location))
        }

        func ids(_ pointer: UnsafeMutablePointer<UInt32>?, _ count: Int, _ what: @autoclosure () -> String) throws -> [BufferID] {
            try (0..<count).map { i in
                let index = Int(pointer![i])
                guard index < buffers.count else { throw InvalidInput(nil, "\(what()) refers to buffer b\(index), the plan has \(buffers.count)") }
                return BufferID(index)
            }
        }
        let coder = KernelCoding()
        var steps: [Step] = []
        steps.reserveCapacity(wire.n_steps)
        for index in 0..<wire.n_steps {
            let message = wire.steps[index]!.pointee
            let label = String(cString: message.label)
            let what = "step \(index) ('\(label)')"
            let kernel: Kernel
            do { kernel = try coder.decode(String(cString: message.kernel)) } catch let error as InvalidInput {
                throw InvalidInput(nil, "\(what): kernel does not decode (\(error.problem)): recompile with serkd-compile")
            }
            var workspace: Int?
            if message.workspace_case == SERKD__PLAN_STEP__WORKSPACE_WORKSPACE_OFFSET {
                guard message.workspace_offset % UInt64(MemoryPlan.alignment) == 0, message.workspace_offset <= UInt64(arenaBytes) else {
                    throw InvalidInput(nil, "\(what): workspace offset \(message.workspace_offset) is not an aligned place in the arena of \(arenaBytes) bytes")
                }
                workspace = Int(message.workspace_offset)
            }
            steps.append(Step(kernel: kernel, operands: try ids(message.operands, message.n_operands, what),
                              results: try ids(message.results, message.n_results, what), workspaceOffset: workspace, label: label))
        }
        let inputs = try ids(wire.inputs, wire.n_inputs, "the input list")
        let outputs = try ids(wire.outputs, wire.n_outputs, "the output list")
        guard Set(inputs).count == inputs.count else { throw InvalidInput(nil, "an input buffer is listed twice") }

        var metadata: [String: String] = [:]
        for index in 0..<wire.n_metadata {
            let entry = wire.metadata[index]!.pointee
            metadata[String(cString: entry.key)] = String(cString: entry.value)
        }
        let plan = Plan(buffers: buffers, steps: steps, arenaBytes: arenaBytes, inputs: inputs, outputs: outputs, persistent: persistent)
        try plan.validate()
        return PlanFile(plan: plan, metadata: metadata, persistentTensors: described)
    }

    /// A dtype and shape from the header, checked: a known dtype and a byte size that fits in an Int.
    private static func type(_ dtype: Serkd__DType, _ dims: UnsafeMutablePointer<Int64>?, _ rank: Int, of what: String) throws -> (DType, Shape) {
        guard let type = DType(wire: dtype) else { throw InvalidInput(nil, "\(what) has unknown dtype \(dtype.rawValue)") }
        guard rank <= 64 else { throw InvalidInput(nil, "\(what) has \(rank) axes") }
        let shape = Shape((0..<rank).map { Int(clamping: dims![$0]) })
        guard let count = shape.checkedElementCount, !count.multipliedReportingOverflow(by: type.byteSize).overflow else {
            throw InvalidInput(nil, "\(what) has invalid shape \(shape)")
        }
        return (type, shape)
    }

    /// Checks that `byteCount` bytes at `offset` lie inside an arena of `arenaBytes`, aligned as the
    /// memory planner aligns them (kernels may rely on it).
    private static func checkPlace(_ offset: UInt64, _ byteCount: Int, in arenaBytes: Int, of what: String) throws {
        guard offset <= UInt64(arenaBytes), UInt64(byteCount) <= UInt64(arenaBytes) - offset else {
            throw InvalidInput(nil, "\(what) (\(byteCount) bytes at offset \(offset)) lies outside the arena of \(arenaBytes) bytes")
        }
        guard offset % UInt64(MemoryPlan.alignment) == 0 else {
            throw InvalidInput(nil, "\(what) at offset \(offset) is not \(MemoryPlan.alignment)-byte aligned")
        }
    }
}
