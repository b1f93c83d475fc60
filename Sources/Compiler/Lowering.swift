import GraphIR
import Runtime

/// Turns a graph into a runnable plan: one kernel per node with its geometry resolved, one buffer per
/// value, reshapes as zero-copy aliases, and arena offsets from `MemoryPlan`.
public enum Lowering {
    /// The plan for `graph`, with the memory plan that placed its arena buffers.
    ///
    /// The plan's persistent tensors are `graph.dataValues` in order. Those the plan writes
    /// (parameters, optimizer moments, running statistics) are copies, so running the plan leaves
    /// `graph` as it was, unless `adoptingState`: then the plan writes the graph's own tensors, for a
    /// caller that hands the graph over and would otherwise hold the trained weights twice.
    public static func plan(_ graph: Graph, adoptingState: Bool = false) throws -> (plan: Plan, memory: MemoryPlan) {
        let lowered = try unvalidatedPlan(graph, adoptingState: adoptingState)
        // Debug builds give every lowered plan the checks a plan file gets at load, so a kernel
        // geometry the validator would refuse is a failing test here, not a refused file later.
        var validate = false
        assert({ validate = true; return true }())
        if validate {
            do { try lowered.plan.validate() } catch let error as InvalidInput {
                throw InvalidInput("lowering", "produced a plan that does not validate: \(error.problem)")
            }
        }
        return lowered
    }

    private static func unvalidatedPlan(_ graph: Graph, adoptingState: Bool) throws -> (plan: Plan, memory: MemoryPlan) {
        try Verifier.verify(graph)

        // Every value gets a buffer. Some share their source's: aliases (reshape, identity), in-place
        // updates (optimizers, running statistics), and elementwise results written over an input
        // that dies at that node (DESIGN §7: last consumer, same size, never a weight).
        var root = Array(0..<graph.values.count)
        let consumers = graph.consumers
        let lastUse = graph.values.indices.map { consumers[$0].last ?? -1 }
        var groupLast = lastUse
        for output in graph.outputs { groupLast[output.index] = Int.max }
        func merge(_ value: ValueID, into source: ValueID) {
            let r = root[source.index]
            root[value.index] = r
            groupLast[r] = max(groupLast[r], groupLast[value.index])
        }
        for (index, node) in graph.nodes.enumerated() {
            if node.op.isView {
                merge(node.outputs[0], into: node.inputs[0])
                continue
            }
            for (output, input) in node.op.inPlaceOutputs {
                let source = node.inputs[input]
                if let later = consumers[source.index].first(where: { $0 > index }) {
                    throw InvalidInput("node '\(node.name)'", "overwrites '\(graph[source].name)', which node '\(graph.nodes[later].name)' reads afterwards")
                }
                merge(node.outputs[output], into: source)
            }
            if let input = reusableInput(node, graph), graph.tensors[ValueID(root[input.index])] == nil,
               groupLast[root[input.index]] == index {
                merge(node.outputs[0], into: input)
            }
        }

        var written = Set<Int>()
        for node in graph.nodes where !node.op.isView { node.outputs.forEach { written.insert(root[$0.index]) } }
        var persistent: [Tensor] = []
        var persistentIndex: [Int: Int] = [:]
        for id in graph.dataValues {
            persistentIndex[id.index] = persistent.count
            let tensor = graph.tensors[id]!
            persistent.append(written.contains(id.index) && !adoptingState ? tensor.copy() : tensor)
        }

        // Steps, and for each arena root the first and last step that touch it.
        var steps: [Step] = []
        var first: [Int: Int] = [:], last: [Int: Int] = [:]
        func touch(_ id: ValueID, _ step: Int) {
            let r = root[id.index]
            guard persistentIndex[r] == nil else { return }
            first[r] = min(first[r] ?? step, step)
            last[r] = max(last[r] ?? step, step)
        }
        for input in graph.inputs { touch(input, 0) }
        var workspaces: [(step: Int, bytes: Int)] = []
        for node in graph.nodes where !node.op.isView {
            let kernel = try lower(node, graph)
            let index = steps.count
            node.inputs.forEach { touch($0, index) }
            node.outputs.forEach { touch($0, index) }
            if kernel.workspaceBytes > 0 { workspaces.append((index, kernel.workspaceBytes)) }
            steps.append(Step(kernel: kernel, operands: node.inputs.map { BufferID($0.index) },
                              results: node.outputs.map { BufferID($0.index) }, label: node.name))
        }
        let end = max(steps.count - 1, 0)
        for output in graph.outputs { touch(output, end) }

        let roots = first.keys.sorted()
        var lifetimes = roots.map { MemoryPlan.Lifetime(first: first[$0]!, last: last[$0]!, bytes: graph[ValueID($0)].type.byteCount) }
        lifetimes += workspaces.map { MemoryPlan.Lifetime(first: $0.step, last: $0.step, bytes: $0.bytes) }
        let memory = MemoryPlan(lifetimes)
        var offset: [Int: Int] = [:]
        for (index, r) in roots.enumerated() { offset[r] = memory.offsets[index] }
        for (index, workspace) in workspaces.enumerated() {
            steps[workspace.step].workspaceOffset = memory.offsets[roots.count + index]
        }

        let buffers = graph.values.enumerated().map { index, value -> Buffer in
            let r = root[index]
            let location: Buffer.Location = persistentIndex[r].map { .persistent(index: $0, byteOffset: 0) } ?? .arena(offset: offset[r] ?? 0)
            return Buffer(name: value.name, dtype: value.type.dtype, shape: value.type.shape, location: location)
        }
        let plan = Plan(buffers: buffers, steps: steps, arenaBytes: memory.arenaBytes,
                        inputs: graph.inputs.map { BufferID($0.index) }, outputs: graph.outputs.map { BufferID($0.index) },
                        persistent: persistent)
        return (plan, memory)
    }

    /// The input whose buffer a node may overwrite with its result: same dtype and shape as the
    /// output, for ops that read each element before writing it (`Op.canWriteOverInput`).
    static func reusableInput(_ node: Node, _ graph: Graph) -> ValueID? {
        guard node.op.canWriteOverInput else { return nil }
        let output = graph.type(of: node.outputs[0])
        return node.inputs.first { graph.type(of: $0) == output }
    }

    /// The kernel computing `node`.
    static func lower(_ node: Node, _ graph: Graph) throws -> Kernel {
        let inputs = node.inputs.map { graph.type(of: $0) }
        let output = graph.type(of: node.outputs[0])
        switch node.op {
        case .core(let op): return try lowerCore(op, node, inputs: inputs, output: output)
        case .training(let op): return try lowerTraining(op, node, inputs: inputs, output: output)
        case .fused(let op): return lowerFused(op, inputs: inputs, output: output)
        }
    }

    /// The kernel of a core op.
    static func lowerCore(_ op: CoreOp, _ node: Node, inputs: [TensorType], output: TensorType) throws -> Kernel {
        let x = inputs.first
        let elementSize = x?.dtype.byteSize ?? 4
        switch op {
        case .unary(let function):
            return .unary(function, dtype: x!.dtype, count: x!.shape.elementCount)
        case .binary(let function):
            return .binary(function, dtype: x!.dtype, Broadcast(output: output.shape.dims, operands: inputs.map(\.shape.dims)))
        case .compare(let comparison):
            return .compare(comparison, dtype: x!.dtype, Broadcast(output: output.shape.dims, operands: inputs.map(\.shape.dims)))
        case .select:
            return .select(Broadcast(output: output.shape.dims, operands: inputs.map(\.shape.dims)), elementSize: output.dtype.byteSize)
        case .logicalNot:
            return .logicalNot(count: x!.shape.elementCount)
        case .cast(let target):
            return .cast(from: x!.dtype, to: target, count: x!.shape.elementCount)
        case .identity, .reshape:
            preconditionFailure("aliases have no kernel")
        case .matMul(let flags):
            return .gemm(Gemm.Geometry(a: inputs[0].shape.dims, b: inputs[1].shape.dims, transposeA: flags.transposeA, transposeB: flags.transposeB))
        case .conv(let conv):
            return .conv2d(Conv2D.Geometry(input: x!.shape.dims, weight: inputs[1].shape.dims, strides: conv.strides, pads: conv.pads,
                                           dilations: conv.dilations, groups: conv.groups, hasBias: inputs.count > 2))
        case .maxPool(let pool), .averagePool(let pool):
            let geometry = Pool2D.Geometry(input: x!.shape.dims, output: Array(output.shape.dims[2...]), kernel: pool.kernel,
                                           strides: pool.strides, pads: pool.pads, dilations: pool.dilations,
                                           countIncludePad: pool.countIncludePad)
            if case .maxPool = op { return .maxPool(geometry) }
            return .averagePool(geometry)
        case .globalAveragePool, .globalMaxPool:
            let planes = x!.shape[0] * x!.shape[1]
            let size = x!.shape.elementCount / max(planes, 1)
            if case .globalAveragePool = op { return .globalAveragePool(planes: planes, size: size) }
            return .globalMaxPool(planes: planes, size: size)
        case .batchNorm(let epsilon):
            return .batchNorm(AxisLayout(shape: x!.shape.dims, axis: 1), epsilon: epsilon)
        case .layerNorm(let axis, let epsilon):
            let rows = x!.shape.dims[..<axis].reduce(1, *)
            let columns = x!.shape.dims[axis...].reduce(1, *)
            let normalized = Array(x!.shape.dims[axis...])
            for parameter in inputs.dropFirst() where !tilesPeriodically(parameter.shape.dims, over: normalized) {
                throw InvalidInput("node '\(node.name)'", "layer norm parameter \(parameter.shape) must broadcast along leading axes only")
            }
            return .layerNorm(Normalization.LayerNormGeometry(rows: rows, columns: columns, epsilon: epsilon,
                                                              scaleCount: inputs[1].shape.elementCount,
                                                              biasCount: inputs.count > 2 ? inputs[2].shape.elementCount : 0),
                              hasBias: inputs.count > 2)
        case .softmax(let axis):
            return .softmax(AxisLayout(shape: x!.shape.dims, axis: axis))
        case .logSoftmax(let axis):
            return .logSoftmax(AxisLayout(shape: x!.shape.dims, axis: axis))
        case .reduce(let kind, let axes, _):
            return .reduce(kind, dtype: x!.dtype, Reductions.Geometry(shape: x!.shape.dims, axes: axes))
        case .argMax(let axis, _, let last):
            return .argMax(AxisLayout(shape: x!.shape.dims, axis: axis), dtype: x!.dtype, selectLastIndex: last)
        case .transpose(let permutation):
            return .copy(.transpose(x!.shape.dims, permutation: permutation, elementSize: elementSize))
        case .slice(let slice):
            return .copy(.slice(x!.shape.dims, starts: slice.starts, steps: slice.steps, extents: slice.extents, elementSize: elementSize))
        case .concat(let axis):
            return .concat(DataMovement.Concat(shapes: inputs.map(\.shape.dims), axis: axis, elementSize: elementSize))
        case .gather(let axis):
            return .gather(DataMovement.Gather(shape: x!.shape.dims, axis: axis, indexCount: inputs[1].shape.elementCount, elementSize: elementSize))
        case .expand(let shape):
            return .copy(.expand(x!.shape.dims, to: shape.dims, elementSize: elementSize))
        case .pad(let pads, let mode, let value):
            return .pad(try DataMovement.Pad(shape: x!.shape.dims, pads: pads, mode: mode, value: value, dtype: x!.dtype))
        case .tile(let repeats):
            return .copy(.tile(x!.shape.dims, repeats: repeats, elementSize: elementSize))
        }
    }

    /// Whether a parameter broadcast to `normalized` repeats with period equal to its element count,
    /// i.e. only its leading axes broadcast (what the layer-norm kernel indexes by `column % count`).
    static func tilesPeriodically(_ shape: [Int], over normalized: [Int]) -> Bool {
        let aligned = Array(repeating: 1, count: normalized.count - shape.count) + shape
        guard let firstFull = aligned.firstIndex(where: { $0 != 1 }) else { return true }
        return aligned[firstFull...] == normalized[firstFull...]
    }
}

extension TensorType {
    /// Bytes of element data.
    public var byteCount: Int { shape.elementCount * dtype.byteSize }
}
