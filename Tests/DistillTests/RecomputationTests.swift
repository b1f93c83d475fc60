import Compiler
import Distill
import GraphIR
import Runtime
import Testing

/// Under a memory budget the compiler recomputes cheap activations in the backward pass: the arena
/// shrinks below the budget and the step computes exactly the same losses and updates.
@Suite struct RecomputationTests {
    func step() throws -> TrainingStep {
        let student = try ModelZoo.model("deit_distilled_small_images", batch: 4, classes: 10, imageSize: 32, channels: 1, seed: 1)
        let teacher = try ModelZoo.model("vit_mae_small_images", batch: 4, classes: 10, imageSize: 32, channels: 1, seed: 2)
        return try TrainingStep(student: student.graph, studentTaps: student.taps, teacher: (teacher.graph, teacher.taps),
                                objective: DistillationObjective(), optimizer: OptimizerSettings())
    }

    func run(_ compiled: Pipeline.Result) throws -> (losses: [Float], weights: [Tensor]) {
        var generator = SystemRandomNumberGenerator()
        _ = generator.next()
        let images = Tensor((0..<(4 * 32 * 32)).map { Float(($0 * 7919) % 255) / 255 - 0.5 }, shape: [4, 1, 32, 32])
        let targets = Tensor((0..<40).map { $0 % 11 == 0 ? 1 : 0 }, shape: [4, 10])
        let outputs = try Executor(compiled.plan).run([images, targets, Tensor(scalar: Float(1e-3)), Tensor(scalar: Float(1))])
        let weights = compiled.graph.dataValues.filter { compiled.graph[$0].kind == .parameter }.map { compiled.graph.tensors[$0]!.copy() }
        return (outputs.map { $0.floats[0] }, weights)
    }

    @Test func aBudgetIsMetByRecomputingAndTheStepIsUnchanged() throws {
        let free = try Pipeline.compile(try step().graph)
        let budget = free.memory.arenaBytes * 8 / 10
        let tight = try Pipeline.compile(try step().graph, options: Pipeline.Options(memoryBudget: budget))
        #expect(tight.recomputed > 0)
        #expect(tight.memory.arenaBytes <= budget)
        #expect(PlanChecker.firstViolation(in: tight.plan) == nil)
        let (a, b) = (try run(free), try run(tight))
        #expect(a.losses == b.losses)
        #expect(zip(a.weights, b.weights).allSatisfy { $0.bitwiseEqual($1) })
    }

    @Test func anImpossibleBudgetIsRefusedClearly() throws {
        let error = #expect(throws: InvalidInput.self) { try Pipeline.compile(try step().graph, options: Pipeline.Options(memoryBudget: 1024)) }
        #expect(error?.subject == "--memory-budget")
    }
}
