import Foundation
import GraphIR
import Runtime
import Tensor

/// A graph-to-graph compiler pass: one idea, separately testable, verified after it runs.
public struct Pass: Sendable {
    /// The name `--disable-pass` takes and the report prints.
    public var name: String
    /// What it does, for `serkd-compile --list-passes`.
    public var summary: String
    /// The transformation.
    public var run: @Sendable (Graph) throws -> Graph

    public init(name: String, summary: String, run: @escaping @Sendable (Graph) throws -> Graph) {
        self.name = name
        self.summary = summary
        self.run = run
    }
}

/// The compiler's stages in order: passes over the IR, then lowering to a plan with a memory plan.
public enum Pipeline {
    /// The passes, in the order they run.
    public static let passes: [Pass] = [
        Pass(name: "dce", summary: "remove nodes no output or in-place update needs") { $0.removingDeadNodes() },
        Pass(name: "constant-folding", summary: "evaluate nodes whose inputs are all constants, where that does not grow the model") {
            try ConstantFolding.run($0)
        },
        Pass(name: "cse", summary: "compute each (op, inputs) once; merge small equal constants") { CommonSubexpressionElimination.run($0) },
        Pass(name: "batchnorm-folding", summary: "fold inference batch norms into the constant convolutions before them") { BatchNormFolding.run($0) },
        Pass(name: "gelu", summary: "replace GELU spelled with erf or tanh by one op") { GeluFusion.run($0) },
        Pass(name: "layernorm", summary: "replace layer norm spelled with means, powers and square roots by one op") { LayerNormFusion.run($0) },
        Pass(name: "attention", summary: "fuse softmax(scale·Q·Kᵀ)·V into one op that keeps one head's scores at a time") { AttentionFusion.run($0) },
        Pass(name: "linear-fusion", summary: "fuse matMul + bias + activation and conv + activation into GEMM epilogues") { LinearFusion.run($0) },
        Pass(name: "elementwise-fusion", summary: "evaluate chains of elementwise ops in one pass over memory") { ElementwiseFusion.run($0) },
        Pass(name: "schedule", summary: "order nodes to keep fewer bytes alive at once") { MemoryAwareSchedule.run($0) },
    ]

    /// Settings of one compilation.
    public struct Options: Sendable {
        /// Passes to skip, by name.
        public var disabledPasses: Set<String>
        /// Verify the graph after every pass (always on in debug builds).
        public var verifyEachPass: Bool
        /// Arena bytes to stay within, by recomputing cheap activations in the backward pass.
        public var memoryBudget: Int?
        /// The plan writes the compiled graph's own parameter and state tensors instead of copies
        /// (`Lowering.plan(_:adoptingState:)`): for a caller that hands the graph over, as the trainer does.
        public var adoptsState: Bool

        /// Options with every pass on, no budget, and a plan that leaves the graph as it was.
        public init(disabledPasses: Set<String> = [], verifyEachPass: Bool = false, memoryBudget: Int? = nil, adoptsState: Bool = false) {
            self.disabledPasses = disabledPasses
            self.verifyEachPass = verifyEachPass
            self.memoryBudget = memoryBudget
            self.adoptsState = adoptsState
        }
    }

    /// What one pass did.
    public struct PassReport: Sendable {
        public var name: String
        public var nodesBefore: Int
        public var nodesAfter: Int
        public var seconds: Double
    }

    /// What compiling produced, and the numbers the report prints.
    public struct Result {
        public var plan: Plan
        public var memory: MemoryPlan
        public var graph: Graph
        public var passes: [PassReport]
        /// Values recomputed in the backward pass to meet the memory budget.
        public var recomputed: Int
    }

    /// Compiles `graph` into a runnable plan. Unknown names in `disabledPasses` are an error.
    public static func compile(_ graph: Graph, options: Options = Options()) throws -> Result {
        let known = Set(passes.map(\.name))
        if let unknown = options.disabledPasses.subtracting(known).sorted().first {
            throw InvalidInput("--disable-pass \(unknown)", "no such pass (passes: \(passes.map(\.name).joined(separator: ", ")))")
        }
        var current = graph
        var reports: [PassReport] = []
        var verify = options.verifyEachPass
        assert({ verify = true; return true }())
        for pass in passes where !options.disabledPasses.contains(pass.name) {
            let before = current.nodes.count
            let start = DispatchTime.now().uptimeNanoseconds
            current = try pass.run(current)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if verify {
                do { try Verifier.verify(current) } catch let error as InvalidInput {
                    throw InvalidInput("pass '\(pass.name)'", "left an invalid graph: \(error.problem)")
                }
            }
            reports.append(PassReport(name: pass.name, nodesBefore: before, nodesAfter: current.nodes.count, seconds: seconds))
        }
        var (plan, memory) = try Lowering.plan(current, adoptingState: options.adoptsState)
        var recomputed = 0
        if let budget = options.memoryBudget, memory.arenaBytes > budget {
            // Recompute the largest candidates, doubling their number until the arena fits.
            let available = Recomputation.candidates(current).count
            var count = 1
            while true {
                let trial = Recomputation.run(current, count: count)
                (plan, memory) = try Lowering.plan(trial, adoptingState: options.adoptsState)
                if memory.arenaBytes <= budget {
                    current = trial
                    recomputed = count
                    break
                }
                guard count < available else {
                    throw InvalidInput("--memory-budget", "the plan needs \(memory.arenaBytes) bytes even with \(available) activations recomputed, over the budget of \(budget)")
                }
                count = min(available, count * 2)
            }
        }
        try MemoryLimit.check(memory.arenaBytes, for: "the plan's arena")
        return Result(plan: plan, memory: memory, graph: current, passes: reports, recomputed: recomputed)
    }
}

import Dispatch
