import GraphIR
import Runtime

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
        Pass(name: "dce", summary: "remove nodes no output or in-place update needs") { DeadCodeElimination.run($0) },
    ]

    /// Settings of one compilation.
    public struct Options: Sendable {
        /// Passes to skip, by name.
        public var disabledPasses: Set<String>
        /// Verify the graph after every pass (always on in debug builds).
        public var verifyEachPass: Bool

        public init(disabledPasses: Set<String> = [], verifyEachPass: Bool = false) {
            self.disabledPasses = disabledPasses
            self.verifyEachPass = verifyEachPass
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
        let (plan, memory) = try Lowering.plan(current)
        return Result(plan: plan, memory: memory, graph: current, passes: reports)
    }
}

import Dispatch
