import GraphIR

/// Recognises layer normalisation spelled in core ops, as opset-13 exports write it —
/// μ = mean(x), d = x − μ, σ² = mean(d²), y = d / √(σ² + ε) · γ + β over the trailing axes — and
/// replaces it by the `layerNorm` op: one pass over each row instead of nine kernels.
///
/// d² may be pow(d, 2) or d·d, the scale and bias multiply and add in either operand order, and the
/// bias is optional. The statistics must have no reader outside the pattern.
public enum LayerNormFusion {
    /// The graph with decomposed layer norms replaced by one op each.
    public static func run(_ graph: Graph) -> Graph {
        var rewrite = GraphRewrite(graph)
        for (index, node) in graph.nodes.enumerated() where !rewrite.isTouched(index) {
            guard let match = match(mean: index, rewrite) else { continue }
            let x = node.inputs[0]
            var inputs = [x, match.scale]
            if let bias = match.bias { inputs.append(bias) }
            let axis = match.axis, op = Op.layerNorm(axis: axis, epsilon: match.epsilon)
            guard let types = try? op.outputTypes(for: inputs.map { graph.type(of: $0) }),
                  types[0] == graph.type(of: rewrite[match.final].outputs[0]) else { continue }
            let final = rewrite[match.final]
            let mean = rewrite.addIntermediate(final.name + ".mean", types[1])
            let inverse = rewrite.addIntermediate(final.name + ".inverse_std", types[2])
            for interior in match.interior { rewrite.remove(interior) }
            rewrite.replace(match.final, with: Node(op: op, inputs: inputs, outputs: [final.outputs[0], mean, inverse], name: final.name))
        }
        return rewrite.finished()
    }

    struct Match {
        var axis: Int
        var epsilon: Float
        var scale: ValueID
        var bias: ValueID?
        var final: Int
        var interior: [Int]
    }

    /// The pattern starting at the mean node `index`, if it is one.
    static func match(mean index: Int, _ rewrite: GraphRewrite) -> Match? {
        let graph = rewrite.graph
        let meanNode = rewrite[index]
        guard case .core(.reduce(.mean, let axes, true)) = meanNode.op else { return nil }
        let x = meanNode.inputs[0], rank = graph.type(of: x).shape.rank
        guard let axis = axes.first, axes == Array(axis..<rank), graph.type(of: x).dtype == .float32 else { return nil }
        func single(_ value: ValueID, _ accept: (Op) -> Bool) -> Int? {
            guard let reader = rewrite.soleConsumer(of: value), accept(rewrite[reader].op) else { return nil }
            return reader
        }
        func isBinary(_ f: BinaryFunction) -> (Op) -> Bool { { if case .binary(f) = $0 { true } else { false } } }
        // d = x − μ, read by the square and by the division only.
        guard let subIndex = single(meanNode.outputs[0], isBinary(.sub)), rewrite[subIndex].inputs == [x, meanNode.outputs[0]] else { return nil }
        let d = rewrite[subIndex].outputs[0]
        let readers = rewrite.consumers[d.index]
        guard readers.count == 2 || (readers.count == 3 && Set(readers).count == 2), !rewrite.outputs.contains(d),
              readers.allSatisfy({ !rewrite.isTouched($0) }) else { return nil }
        let square = readers.first { node in
            let n = rewrite[node]
            if case .binary(.pow) = n.op { return n.inputs[0] == d && rewrite.scalar(n.inputs[1]) == 2 }
            if case .binary(.mul) = n.op { return n.inputs == [d, d] }
            return false
        }
        guard let square, let divIndex = readers.first(where: { $0 != square }), case .binary(.div) = rewrite[divIndex].op,
              rewrite[divIndex].inputs[0] == d else { return nil }
        // σ² = mean(d²); √(σ² + ε).
        guard let varianceIndex = single(rewrite[square].outputs[0], { $0 == meanNode.op }),
              let epsilonIndex = single(rewrite[varianceIndex].outputs[0], isBinary(.add)) else { return nil }
        let epsilonNode = rewrite[epsilonIndex]
        let variance = rewrite[varianceIndex].outputs[0]
        let epsilonValue = epsilonNode.inputs[0] == variance ? epsilonNode.inputs[1] : epsilonNode.inputs[0]
        guard let epsilon = rewrite.scalar(epsilonValue),
              let sqrtIndex = single(epsilonNode.outputs[0], { $0 == .unary(.sqrt) }), sqrtIndex == rewrite.producer(of: rewrite[divIndex].inputs[1]),
              rewrite.isOnlyRead(rewrite[sqrtIndex].outputs[0], by: divIndex) else { return nil }
        // · γ, then optionally + β.
        let normalized = rewrite[divIndex].outputs[0]
        guard let scaleIndex = single(normalized, isBinary(.mul)) else { return nil }
        let scaleNode = rewrite[scaleIndex]
        let scale = scaleNode.inputs[0] == normalized ? scaleNode.inputs[1] : scaleNode.inputs[0]
        var interior = [index, subIndex, square, varianceIndex, epsilonIndex, sqrtIndex, divIndex]
        var final = scaleIndex
        var bias: ValueID?
        if let biasIndex = single(scaleNode.outputs[0], isBinary(.add)) {
            let biasNode = rewrite[biasIndex]
            let candidate = biasNode.inputs[0] == scaleNode.outputs[0] ? biasNode.inputs[1] : biasNode.inputs[0]
            if graph.type(of: biasNode.outputs[0]) == graph.type(of: x) {
                bias = candidate
                interior.append(scaleIndex)
                final = biasIndex
            }
        }
        guard [scale, bias].allSatisfy({ $0.map { isLeadingOnes(graph.type(of: $0).shape.dims, rank - axis) } ?? true }) else { return nil }
        return Match(axis: axis, epsilon: Float(epsilon), scale: scale, bias: bias, final: final, interior: interior)
    }

    /// Whether a parameter of `dims` applies along the last `normalized` axes only (extra leading
    /// axes, if any, are 1).
    static func isLeadingOnes(_ dims: [Int], _ normalized: Int) -> Bool {
        dims.count <= normalized || dims.dropLast(normalized).allSatisfy { $0 == 1 }
    }
}
