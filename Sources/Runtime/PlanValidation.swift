import Tensor

extension Plan {
    /// Checks that running the plan touches no memory outside its buffers: every step names as many
    /// operands and results as its kernel takes, each of the dtype and element size the kernel reads
    /// it as and holding at least the elements the kernel's geometry reaches (results exactly the
    /// elements it writes), its workspace lies inside the arena, and every geometry is one the
    /// kernels are written for (sizes non-negative, products without overflow, derived fields such as
    /// slots and workspace sizes as this build derives them).
    ///
    /// A plan file is shared like a model, and its checksum only proves it was not damaged by
    /// accident; this is what stands between a forged file and the kernels' unchecked pointer
    /// arithmetic. Throws one line naming the step, its label and kernel.
    public func validate() throws {
        guard arenaBytes >= 0 else { throw InvalidInput(nil, "arena of \(arenaBytes) bytes") }
        for (index, buffer) in buffers.enumerated() {
            guard let count = buffer.shape.checkedElementCount,
                  !count.multipliedReportingOverflow(by: buffer.dtype.byteSize).overflow else {
                throw InvalidInput(nil, "buffer b\(index) '\(buffer.name)' has invalid shape \(buffer.shape)")
            }
        }
        for list in [inputs, outputs] {
            for id in list where !buffers.indices.contains(id.index) {
                throw InvalidInput(nil, "the input or output list refers to buffer \(id), the plan has \(buffers.count)")
            }
        }
        for (index, step) in steps.enumerated() {
            do {
                try validate(step)
            } catch let error as FootprintError {
                throw InvalidInput(nil, "step \(index) ('\(step.label)', \(step.kernel.name)): \(error.problem)")
            }
        }
    }

    private func validate(_ step: Step) throws {
        let footprint = try step.kernel.footprint()
        func check(_ ids: [BufferID], against accesses: [Footprint.Access], _ role: String, exact: Bool) throws {
            guard ids.count == accesses.count else {
                throw FootprintError("the kernel takes \(accesses.count) \(role)s, the step names \(ids.count)")
            }
            for (position, (id, access)) in zip(ids, accesses).enumerated() {
                guard buffers.indices.contains(id.index) else {
                    throw FootprintError("\(role) \(position) is buffer \(id), the plan has \(buffers.count)")
                }
                let buffer = buffers[id.index]
                let what = "\(role) \(position) '\(buffer.name)' (\(buffer.dtype.shortName)\(buffer.shape))"
                if let dtype = access.dtype, buffer.dtype != dtype {
                    throw FootprintError("\(what) is read as \(dtype.shortName)")
                }
                if let size = access.elementSize, buffer.dtype.byteSize != size {
                    throw FootprintError("\(what) is read as \(size)-byte elements")
                }
                let bytes = buffer.byteCount
                guard exact ? bytes == access.bytes : bytes >= access.bytes else {
                    throw FootprintError("\(what) holds \(bytes) bytes, the kernel \(exact ? "writes" : "reads") \(access.bytes)")
                }
            }
        }
        try check(step.operands, against: footprint.operands, "operand", exact: false)
        try check(step.results, against: footprint.results, "result", exact: true)
        guard footprint.workspace > 0 else { return }
        guard let offset = step.workspaceOffset else {
            throw FootprintError("needs \(footprint.workspace) bytes of workspace, the step has none")
        }
        let (end, overflow) = offset.addingReportingOverflow(footprint.workspace)
        guard offset >= 0, !overflow, end <= arenaBytes else {
            throw FootprintError("workspace of \(footprint.workspace) bytes at offset \(offset) lies outside the arena of \(arenaBytes) bytes")
        }
    }
}

/// What one kernel call touches: the bytes it reads from each operand and writes to each result, in
/// the kernel's operand order, and the scratch bytes it uses.
struct Footprint {
    /// One operand or result.
    struct Access {
        /// The dtype the kernel reads the buffer as, when it reads it as one.
        var dtype: DType?
        /// Bytes per element, for kernels that move elements of any dtype by size.
        var elementSize: Int?
        /// Bytes reached.
        var bytes: Int

        /// `count` elements of `dtype`.
        static func elements(_ dtype: DType, _ count: Int) throws -> Access {
            Access(dtype: dtype, elementSize: nil, bytes: try Checked.product(count, dtype.byteSize))
        }

        /// `count` float32 elements.
        static func floats(_ count: Int) throws -> Access { try elements(.float32, count) }

        /// `count` elements of `size` bytes, any dtype of that size.
        static func sized(_ size: Int, _ count: Int) throws -> Access {
            Access(dtype: nil, elementSize: size, bytes: try Checked.product(count, size))
        }

        /// `bytes` bytes of any dtype.
        static func bytes(_ bytes: Int) -> Access { Access(dtype: nil, elementSize: nil, bytes: bytes) }
    }

    var operands: [Access]
    var results: [Access]
    var workspace: Int = 0
}

/// Why a kernel's geometry or a step's buffers do not fit: the problem, for `Plan.validate` to name
/// the step.
struct FootprintError: Error {
    var problem: String
    init(_ problem: String) { self.problem = problem }
}

/// Size arithmetic that refuses rather than traps: every product and sum of a forged geometry.
enum Checked {
    /// The product of sizes, each non-negative.
    static func product(_ factors: Int...) throws -> Int { try product(factors) }

    /// The product of sizes, each non-negative.
    static func product(_ factors: [Int]) throws -> Int {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { throw FootprintError("negative size \(factor)") }
            let (next, overflow) = result.multipliedReportingOverflow(by: factor)
            guard !overflow else { throw FootprintError("sizes \(factors) overflow") }
            result = next
        }
        return result
    }

    /// The sum of sizes, each non-negative.
    static func sum(_ terms: [Int]) throws -> Int {
        var result = 0
        for term in terms {
            guard term >= 0 else { throw FootprintError("negative size \(term)") }
            let (next, overflow) = result.addingReportingOverflow(term)
            guard !overflow else { throw FootprintError("sizes \(terms) overflow") }
            result = next
        }
        return result
    }

    /// Requires `value` in `range`, naming it.
    static func require(_ value: Int, in range: ClosedRange<Int>, _ name: String) throws {
        guard range.contains(value) else { throw FootprintError("\(name) is \(value), outside \(range.lowerBound)…\(range.upperBound)") }
    }

    /// Requires a condition of the geometry, with the problem if it fails.
    static func require(_ condition: Bool, _ problem: @autoclosure () -> String) throws {
        guard condition else { throw FootprintError(problem()) }
    }

    /// Elements a strided walk reaches: 1 + the largest of `offset + Σ index·stride` over indices
    /// below `extents`, or 0 when the walk is empty. Throws when an offset would be negative or overflow.
    static func reach(extents: [Int], strides: [Int], offset: Int = 0) throws -> Int {
        try require(extents.count == strides.count, "\(extents.count) extents but \(strides.count) strides")
        guard try product(extents) > 0 else { return 0 }
        var low = offset, high = offset
        for (extent, stride) in zip(extents, strides) {
            let (span, overflow) = (extent - 1).multipliedReportingOverflow(by: stride)
            try require(!overflow, "stride \(stride) over \(extent) elements overflows")
            if span < 0 {
                let (next, overflow) = low.addingReportingOverflow(span)
                try require(!overflow, "strides overflow")
                low = next
            } else {
                let (next, overflow) = high.addingReportingOverflow(span)
                try require(!overflow, "strides overflow")
                high = next
            }
        }
        try require(low >= 0, "the view starts \(-low) elements before its input")
        let (end, overflow) = high.addingReportingOverflow(1)
        try require(!overflow, "strides overflow")
        return end
    }
}
