import GraphIR

/// Recognises scaled dot-product attention — Q·Kᵀ, a scalar scale applied to Q or to the scores
/// (multiplied or divided), softmax over the last axis, ·V — and replaces it by the fused
/// `attention` op, whose kernel never materialises all heads' scores at once.
///
/// Kᵀ may be a `matMul` flag or an explicit transpose of the last two axes (which the fused op then
/// reads through). Only when the scores and probabilities have no other reader: in a training step
/// the softmax and matMul gradients read the probabilities, so only a frozen teacher's attention fuses.
public enum AttentionFusion {
    /// The graph with attention chains fused.
    public static func run(_ graph: Graph) -> Graph {
        var rewrite = GraphRewrite(graph)
        for (index, node) in graph.nodes.enumerated() where !rewrite.isTouched(index) {
            guard case .core(.softmax(let axis)) = node.op, axis == graph.type(of: node.inputs[0]).shape.rank - 1,
                  let contextIndex = rewrite.soleConsumer(of: node.outputs[0]), case .matMul(MatMul()) = rewrite[contextIndex].op,
                  rewrite[contextIndex].inputs[0] == node.outputs[0],
                  var scores = scoresProduct(node.inputs[0], readBy: index, rewrite) else { continue }
            let v = rewrite[contextIndex].inputs[1]
            var keysTransposed = !scores.flags.transposeB
            var k = scores.k
            // An explicit Kᵀ only this product reads: read K itself.
            if keysTransposed, let transposeIndex = rewrite.producer(of: k), rewrite.isOnlyRead(k, by: scores.product),
               case .core(.transpose(let permutation)) = rewrite[transposeIndex].op, permutation.count >= 2,
               permutation == Array(0..<(permutation.count - 2)) + [permutation.count - 1, permutation.count - 2] {
                scores.interior.append(transposeIndex)
                k = rewrite[transposeIndex].inputs[0]
                keysTransposed = false
            }
            let op = Op.attention(scale: scores.scale, keysTransposed: keysTransposed)
            let context = rewrite[contextIndex]
            guard !scores.flags.transposeA,
                  (try? op.outputTypes(for: [scores.q, k, v].map { graph.type(of: $0) })) == [graph.type(of: context.outputs[0])] else { continue }
            for interior in scores.interior + [index] { rewrite.remove(interior) }
            rewrite.replace(contextIndex, with: Node(op: op, inputs: [scores.q, k, v], outputs: context.outputs, name: context.name))
        }
        return rewrite.finished()
    }

    struct Scores {
        var q: ValueID
        var k: ValueID
        var flags: MatMul
        var scale: Float
        /// The Q·K node.
        var product: Int
        /// Nodes the fused op replaces, besides the softmax and the final product.
        var interior: [Int]
    }

    /// How `scores` (read only by the softmax `reader`) was computed, if as scale·Q·Kᵀ.
    static func scoresProduct(_ scores: ValueID, readBy reader: Int, _ rewrite: GraphRewrite) -> Scores? {
        guard let index = rewrite.producer(of: scores), rewrite.isOnlyRead(scores, by: reader) else { return nil }
        let node = rewrite[index]
        switch node.op {
        case .core(.matMul(let flags)):
            var result = Scores(q: node.inputs[0], k: node.inputs[1], flags: flags, scale: 1, product: index, interior: [index])
            // Q scaled first, for this product alone.
            if let (scaleIndex, q, factor) = scaling(node.inputs[0], readBy: index, rewrite) {
                result.q = q
                result.scale = factor
                result.interior.append(scaleIndex)
            }
            return result
        case .core(.binary(.mul)), .core(.binary(.div)):
            guard let (scaleIndex, product, factor) = scaling(scores, readBy: reader, rewrite),
                  let productIndex = rewrite.producer(of: product), rewrite.isOnlyRead(product, by: scaleIndex),
                  case .core(.matMul(let flags)) = rewrite[productIndex].op else { return nil }
            let p = rewrite[productIndex]
            return Scores(q: p.inputs[0], k: p.inputs[1], flags: flags, scale: factor, product: productIndex, interior: [productIndex, scaleIndex])
        case .core, .training, .fused:
            return nil
        }
    }

    /// For `value` = x·c, c·x or x/c with a scalar constant c (read only by `reader`): the node, x
    /// and the factor it applies.
    static func scaling(_ value: ValueID, readBy reader: Int, _ rewrite: GraphRewrite) -> (Int, ValueID, Float)? {
        guard let index = rewrite.producer(of: value), rewrite.isOnlyRead(value, by: reader) else { return nil }
        let node = rewrite[index]
        let (a, b) = (node.inputs[0], node.inputs[1])
        if node.op == .binary(.mul) {
            if let c = rewrite.scalar(b), rewrite.graph.type(of: a) == rewrite.graph.type(of: value) { return (index, a, Float(c)) }
            if let c = rewrite.scalar(a), rewrite.graph.type(of: b) == rewrite.graph.type(of: value) { return (index, b, Float(c)) }
        } else if node.op == .binary(.div) {
            if let c = rewrite.scalar(b), c != 0, rewrite.graph.type(of: a) == rewrite.graph.type(of: value) { return (index, a, Float(1 / c)) }
        }
        return nil
    }
}
