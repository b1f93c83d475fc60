import GraphIR
import Runtime

/// Evaluates at compile time every node whose inputs are all constants, when its result is no
/// larger than what it reads: the frozen teacher's weight transposes, reshapes and scalings then
/// cost nothing per step. Parameters, state and inputs change between steps and are never folded;
/// nodes that update values in place or draw random numbers are kept.
public enum ConstantFolding {
    /// Computes one op on concrete tensors.
    public typealias Evaluator = (Op, [Tensor]) throws -> [Tensor]

    /// The graph with foldable nodes replaced by constants, evaluating them with `evaluate` (by
    /// default the runtime's own kernels, so a folded value is bit for bit what the step would
    /// have computed).
    public static func run(_ graph: Graph, evaluate: Evaluator = evaluateWithKernels) throws -> Graph {
        var rewrite = GraphRewrite(graph)
        for index in graph.nodes.indices {
            let node = graph.nodes[index]
            guard node.op.isPure,
                  node.inputs.allSatisfy({ rewrite.graph[$0].kind == .constant }) else { continue }
            let inputs = node.inputs.map { rewrite.graph.tensors[$0]! }
            let types = node.outputs.map { graph.type(of: $0) }
            guard Folding.isWorthIt(types, inputs) else { continue }
            // An op whose evaluation fails on these values (an out-of-range gather index) stays in
            // the graph and reports the problem when the step runs.
            guard let results = try? evaluate(node.op, inputs) else { continue }
            for (output, result) in zip(node.outputs, results) { rewrite.makeConstant(output, result) }
            rewrite.remove(index)
        }
        return rewrite.finished()
    }

    /// Evaluates `op` by compiling it alone into a plan and running that plan once.
    public static func evaluateWithKernels(_ op: Op, _ inputs: [Tensor]) throws -> [Tensor] {
        var graph = Graph(name: "fold")
        let operands = inputs.enumerated().map { graph.addConstant("x\($0.offset)", $0.element) }
        graph.outputs = try graph.apply(op, operands, name: "y")
        return try Executor(try Lowering.plan(graph).plan).run([])
    }
}
