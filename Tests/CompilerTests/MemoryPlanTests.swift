import Testing
@testable import Compiler

@Suite struct MemoryPlanTests {
    typealias Lifetime = MemoryPlan.Lifetime

    @Test func buffersWithDisjointLifetimesShareMemory() {
        // A chain a → b → c: a and c never live together, so c reuses a's bytes.
        let plan = MemoryPlan([Lifetime(first: 0, last: 1, bytes: 1024), Lifetime(first: 1, last: 2, bytes: 1024),
                               Lifetime(first: 2, last: 3, bytes: 1024)])
        #expect(plan.arenaBytes == 2048)
        #expect(plan.lowerBound == 2048)
        #expect(plan.naiveBytes == 3072)
        #expect(plan.offsets[0] == plan.offsets[2])
    }

    @Test func offsetsAreAlignedAndSizesRoundedUp() {
        let plan = MemoryPlan([Lifetime(first: 0, last: 0, bytes: 3), Lifetime(first: 0, last: 0, bytes: 5)])
        #expect(plan.offsets.allSatisfy { $0 % MemoryPlan.alignment == 0 })
        #expect(plan.arenaBytes == 128)
    }

    @Test func randomLifetimesNeverOverlapAndStayNearTheLowerBound() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            let steps = Int.random(in: 5...60, using: &generator)
            let lifetimes = (0..<Int.random(in: 1...80, using: &generator)).map { _ -> Lifetime in
                let first = Int.random(in: 0..<steps, using: &generator)
                return Lifetime(first: first, last: Int.random(in: first..<steps, using: &generator),
                                bytes: Int.random(in: 0...100_000, using: &generator))
            }
            let plan = MemoryPlan(lifetimes)
            #expect(plan.firstConflict(lifetimes) == nil)
            #expect(plan.arenaBytes >= plan.lowerBound)
            #expect(plan.arenaBytes <= plan.naiveBytes)
        }
    }
}
