import GraphIR

/// Where the batch sits in a value: axis `axis` has extent `factor`·B, and sample i owns the
/// indices [i·factor, (i+1)·factor) of it.
struct BatchAxis: Hashable {
    var axis: Int
    var factor: Int
}

/// Which axis of every value carries the batch, so an exported graph can take any batch size.
///
/// A `.serkd` graph has static shapes: a student is saved for one batch B. The batch starts on axis
/// 0 of every graph input and is followed through each node; a node passes when it never mixes
/// samples (it does not reduce, slice, concatenate or reshape across the batch axis, and no
/// fixed-shape operand has to grow with the batch). When every node passes, each sample's outputs
/// depend only on that sample's inputs, so the graph means the same thing at any batch and the
/// export can give inputs and outputs a symbolic batch dimension. The first node that does not
/// pass is named in `failure`, and the export keeps the fixed batch.
///
/// Batch-free values (weights and what is computed from them alone) have no entry in `axes`.
/// Two constructions turn a batch-free value into a batched one, both constant along the batch:
/// an `expand` of an extent-1 axis to extent B (the class token broadcast to the batch), and, when
/// B is 1 and cannot be told apart from other unit axes, a batch-free extent-1 operand of a
/// `concat` that must match the batch (the export replicates it with an `Expand`).
struct BatchAnalysis {
    /// The batch the graph was saved with (axis 0 of its inputs).
    let batch: Int
    /// The batch axis of every batched value.
    private(set) var axes: [ValueID: BatchAxis] = [:]
    /// `expand` nodes (by index) whose target must take the batch at run time.
    private(set) var replicatingExpands: Set<Int> = []
    /// `concat` nodes (by index) and the positions of the batch-free operands to replicate.
    private(set) var replicatedOperands: [Int: Set<Int>] = [:]
    /// Why the graph keeps its fixed batch, naming the node; nil when the batch can vary.
    private(set) var failure: String?

    /// Analyses `graph`.
    init(_ graph: Graph) {
        let extents = graph.inputs.map { graph.type(of: $0).shape.dims.first }
        guard let first = extents.first, let batch = first, batch > 0 else {
            self.batch = 0
            failure = graph.inputs.isEmpty ? "the graph has no inputs" : "input '\(graph[graph.inputs[0]].name)' has no batch axis"
            return
        }
        self.batch = batch
        if let index = extents.firstIndex(where: { $0 != batch }) {
            failure = "inputs '\(graph[graph.inputs[0]].name)' and '\(graph[graph.inputs[index]].name)' disagree on the batch"
            return
        }
        for input in graph.inputs { axes[input] = BatchAxis(axis: 0, factor: 1) }
        for (index, node) in graph.nodes.enumerated() {
            do {
                try propagate(node, at: index, in: graph)
            } catch let problem as BatchBreak {
                failure = "node '\(node.name)' (\(node.op.kindName)) \(problem.reason)"
                return
            } catch {
                preconditionFailure("unexpected \(error)")
            }
        }
    }

    /// Whether every node passed.
    var isDynamic: Bool { failure == nil }

    /// Why a node stops the batch from varying.
    private struct BatchBreak: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    private mutating func propagate(_ node: Node, at index: Int, in graph: Graph) throws {
        let states = node.inputs.map { axes[$0] }
        let shapes = node.inputs.map { graph.type(of: $0).shape }
        func set(_ state: BatchAxis?) { for output in node.outputs { axes[output] = state } }
        func onlyFirstBatched() throws -> BatchAxis? {
            if states.dropFirst().contains(where: { $0 != nil }) { throw BatchBreak("has a batched weight operand") }
            return states[0]
        }
        func name(_ position: Int) -> String { graph[node.inputs[position]].name }

        if case .core(.expand(let target)) = node.op, states[0] == nil {
            // A batch-free value broadcast from extent 1 to extent B is the same for every sample.
            let offset = target.rank - shapes[0].rank
            guard batch > 1, let axis = target.dims.indices.first(where: { axis in
                target[axis] == batch && (axis < offset || shapes[0][axis - offset] == 1)
            }) else { return }
            replicatingExpands.insert(index)
            set(BatchAxis(axis: axis, factor: 1))
            return
        }
        guard states.contains(where: { $0 != nil }) else { return }

        let op: CoreOp
        switch node.op {
        case .core(let core): op = core
        case .training: throw BatchBreak("is a training op")
        case .fused: throw BatchBreak("is a compiler fusion")
        }
        switch op {
        case .unary, .cast, .identity, .logicalNot:
            set(states[0])

        case .binary, .compare, .select:
            let rank = graph.type(of: node.outputs[0]).shape.rank
            set(try broadcastAxis(states, shapes, rank: rank, name))

        case .matMul(let flags):
            set(try matMulAxis(states, shapes, flags, name))

        case .conv, .maxPool, .averagePool, .globalAveragePool, .globalMaxPool, .batchNorm:
            guard let state = try onlyFirstBatched(), state.axis == 0 else { throw BatchBreak("needs the batch on axis 0") }
            set(state)

        case .layerNorm(let axis, _):
            guard let state = try onlyFirstBatched(), state.axis < axis else { throw BatchBreak("normalises over the batch axis") }
            set(state)

        case .softmax(let axis), .logSoftmax(let axis):
            guard let state = states[0], state.axis != axis else { throw BatchBreak("normalises over the batch axis") }
            set(state)

        case .reduce(_, let reduced, let keepDims):
            guard let state = states[0], !reduced.contains(state.axis) else { throw BatchBreak("reduces over the batch axis") }
            set(BatchAxis(axis: keepDims ? state.axis : state.axis - reduced.filter { $0 < state.axis }.count, factor: state.factor))

        case .argMax(let axis, let keepDims, _):
            guard let state = states[0], state.axis != axis else { throw BatchBreak("reduces over the batch axis") }
            set(BatchAxis(axis: keepDims || state.axis < axis ? state.axis : state.axis - 1, factor: state.factor))

        case .reshape(let target):
            set(try reshapeAxis(states[0]!, from: shapes[0], to: target))

        case .transpose(let permutation):
            let state = states[0]!
            set(BatchAxis(axis: permutation.firstIndex(of: state.axis)!, factor: state.factor))

        case .slice(let window):
            let state = states[0]!
            guard window.starts[state.axis] == 0, window.steps[state.axis] == 1, window.ends[state.axis] == shapes[0][state.axis] else {
                throw BatchBreak("slices the batch axis")
            }
            set(state)

        case .concat(let axis):
            let batched = Set(states.compactMap { $0 })
            guard batched.count == 1, let state = batched.first else { throw BatchBreak("joins values batched on different axes") }
            guard state.axis != axis else { throw BatchBreak("concatenates along the batch axis") }
            for (position, operand) in states.enumerated() where operand == nil {
                guard batch * state.factor == 1 else {
                    throw BatchBreak("joins '\(name(position))', whose extent \(shapes[position][state.axis]) on the batch axis is fixed")
                }
                replicatedOperands[index, default: []].insert(position)
            }
            set(state)

        case .gather(let axis):
            switch (states[0], states[1]) {
            case (let data?, nil):
                guard data.axis != axis else { throw BatchBreak("gathers along the batch axis") }
                set(BatchAxis(axis: data.axis < axis ? data.axis : data.axis - 1 + shapes[1].rank, factor: data.factor))
            case (nil, let indices?):
                set(BatchAxis(axis: axis + indices.axis, factor: indices.factor))
            default:
                throw BatchBreak("has batched data and indices")
            }

        case .expand(let target):
            let state = states[0]!
            let axis = state.axis + target.rank - shapes[0].rank
            guard target[axis] == shapes[0][state.axis] else { throw BatchBreak("broadcasts along the batch axis") }
            set(BatchAxis(axis: axis, factor: state.factor))

        case .pad(let pads, _, _):
            let state = states[0]!
            guard pads[state.axis] == 0, pads[state.axis + shapes[0].rank] == 0 else { throw BatchBreak("pads the batch axis") }
            set(state)

        case .tile(let repeats):
            let state = states[0]!
            guard repeats[state.axis] == 1 else { throw BatchBreak("tiles the batch axis") }
            set(state)

        }
    }

    /// The output batch axis of a broadcasting op: the batched operands must agree once aligned to
    /// the right, and batch-free operands must broadcast (extent 1) along it.
    private func broadcastAxis(_ states: [BatchAxis?], _ shapes: [Shape], rank: Int, _ name: (Int) -> String) throws -> BatchAxis {
        let aligned = Set(zip(states, shapes).compactMap { state, shape in
            state.map { BatchAxis(axis: $0.axis + rank - shape.rank, factor: $0.factor) }
        })
        guard aligned.count == 1, let result = aligned.first else { throw BatchBreak("combines values batched on different axes") }
        for (position, (state, shape)) in zip(states, shapes).enumerated() where state == nil {
            let axis = result.axis - (rank - shape.rank)
            if axis >= 0 && shape[axis] != 1 {
                throw BatchBreak("combines '\(name(position))', whose extent \(shape[axis]) on the batch axis is fixed")
            }
        }
        return result
    }

    /// The output batch axis of a matrix product: leading axes broadcast; in the matrix axes the
    /// batch may be A's rows or B's columns, never the contracted axis.
    private func matMulAxis(_ states: [BatchAxis?], _ shapes: [Shape], _ flags: MatMul, _ name: (Int) -> String) throws -> BatchAxis {
        let rank = max(shapes[0].rank, shapes[1].rank)
        let kept = [flags.transposeA ? shapes[0].rank - 1 : shapes[0].rank - 2, flags.transposeB ? shapes[1].rank - 2 : shapes[1].rank - 1]
        var results = Set<BatchAxis>()
        for operand in 0..<2 {
            guard let state = states[operand] else { continue }
            let operandRank = shapes[operand].rank
            if state.axis < operandRank - 2 {
                results.insert(BatchAxis(axis: state.axis + rank - operandRank, factor: state.factor))
            } else if state.axis == kept[operand] {
                results.insert(BatchAxis(axis: rank - 2 + operand, factor: state.factor))
            } else {
                throw BatchBreak("contracts over the batch axis")
            }
        }
        guard results.count == 1, let result = results.first else { throw BatchBreak("multiplies values batched on different axes") }
        if result.axis < rank - 2 {
            for operand in 0..<2 where states[operand] == nil {
                let axis = result.axis - (rank - shapes[operand].rank)
                if axis >= 0 && shapes[operand][axis] != 1 {
                    throw BatchBreak("multiplies by '\(name(operand))', whose extent \(shapes[operand][axis]) on the batch axis is fixed")
                }
            }
        }
        return result
    }

    /// The batch axis after a reshape. Samples stay contiguous blocks only while the batch is the
    /// outermost axis (everything before it has extent 1); the result's batch axis is its first
    /// axis that can hold whole samples: preceded only by unit axes, with an extent divisible by B.
    private func reshapeAxis(_ state: BatchAxis, from input: Shape, to target: Shape) throws -> BatchAxis {
        guard input.dims[..<state.axis].allSatisfy({ $0 == 1 }) else { throw BatchBreak("reshapes across the batch axis") }
        for axis in target.dims.indices {
            if target[axis] > 0 && target[axis] % batch == 0 { return BatchAxis(axis: axis, factor: target[axis] / batch) }
            guard target[axis] == 1 else { break }
        }
        throw BatchBreak("reshapes the batch away")
    }
}
