import GraphIR
import Runtime

/// The compiler's stages in order: passes over the IR, then lowering to a plan with a memory plan.
public enum Pipeline {
    /// What compiling produced, and the numbers the report prints.
    public struct Result {
        public var plan: Plan
        public var memory: MemoryPlan
        public var graph: Graph
    }

    /// Compiles `graph` into a runnable plan.
    public static func compile(_ graph: Graph) throws -> Result {
        let optimized = DeadCodeElimination.run(graph)
        let (plan, memory) = try Lowering.plan(optimized)
        return Result(plan: plan, memory: memory, graph: optimized)
    }
}
