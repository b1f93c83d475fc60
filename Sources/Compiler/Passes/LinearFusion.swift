import GraphIR

/// Fuses a matrix product with the bias add and activation after it (a linear layer), and a
/// convolution with its activation, into one GEMM or convolution kernel whose epilogue adds the
/// bias and applies the activation while the output is still in cache.
///
/// Only values nothing else reads are fused away. In a training step the backward pass usually
/// reads a pre-activation (GELU's and ReLU's gradients take their input), so there the activation
/// stays separate and only the bias is fused; a frozen teacher fuses whole layers.
public enum LinearFusion {
    /// The graph with matMul (+ bias) (+ activation) and conv + activation chains fused.
    public static func run(_ graph: Graph) -> Graph {
        var rewrite = GraphRewrite(graph)
        for (index, node) in graph.nodes.enumerated() where !rewrite.isTouched(index) {
            if case .core(.matMul(let flags)) = node.op {
                fuseLinear(index, flags, &rewrite)
            } else if case .core(.conv(let geometry)) = node.op {
                fuseConvolution(index, geometry, &rewrite)
            }
        }
        return rewrite.finished()
    }

    static func fuseLinear(_ index: Int, _ flags: MatMul, _ rewrite: inout GraphRewrite) {
        let product = rewrite[index]
        let graph = rewrite.graph
        var last = index, operands = product.inputs, bias = LinearBias.none
        var chain: [Int] = []
        if let addIndex = rewrite.soleConsumer(of: product.outputs[0]), case .binary(.add) = rewrite[addIndex].op {
            let add = rewrite[addIndex]
            let other = add.inputs[0] == product.outputs[0] ? add.inputs[1] : add.inputs[0]
            let dims = graph.type(of: product.outputs[0]).shape.dims
            if add.inputs[0] != add.inputs[1], [.constant, .parameter].contains(graph[other].kind),
               graph.type(of: add.outputs[0]).shape.dims == dims,
               let placement = biasPlacement(graph.type(of: other).shape.dims, product: dims) {
                bias = placement
                operands.append(other)
                chain.append(addIndex)
                last = addIndex
            }
        }
        var activation: UnaryFunction?
        if let next = rewrite.soleConsumer(of: rewrite[last].outputs[0]), case .core(.unary(let f)) = rewrite[next].op {
            activation = f
            chain.append(next)
            last = next
        }
        guard last != index else { return }
        rewrite.remove(index)
        for interior in chain.dropLast() { rewrite.remove(interior) }
        rewrite.replace(last, with: Node(op: .linear(flags, bias: bias, activation: activation), inputs: operands,
                                         outputs: rewrite[last].outputs, name: rewrite[last].name))
    }

    /// Whether a bias of shape `bias` added to a product of shape `product` runs along its columns
    /// ([n] or [1, …, 1, n]) or rows ([m, 1] or [1, …, m, 1]).
    static func biasPlacement(_ bias: [Int], product: [Int]) -> LinearBias? {
        guard bias.count <= product.count, let n = product.last else { return nil }
        let m = product[product.count - 2]
        let leading = bias.dropLast(bias.count >= 2 ? 2 : 1)
        guard leading.allSatisfy({ $0 == 1 }) else { return nil }
        if bias.count == 1 { return bias[0] == n ? .column : nil }
        let (rows, columns) = (bias[bias.count - 2], bias[bias.count - 1])
        if rows == 1 && columns == n { return .column }
        if rows == m && columns == 1 && m > 1 { return .row }
        return nil
    }

    static func fuseConvolution(_ index: Int, _ geometry: Convolution, _ rewrite: inout GraphRewrite) {
        let conv = rewrite[index]
        guard let next = rewrite.soleConsumer(of: conv.outputs[0]), case .core(.unary(let f)) = rewrite[next].op else { return }
        rewrite.remove(index)
        rewrite.replace(next, with: Node(op: .convActivation(geometry, activation: f), inputs: conv.inputs,
                                         outputs: rewrite[next].outputs, name: rewrite[next].name))
    }
}
