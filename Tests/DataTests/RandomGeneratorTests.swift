import Foundation
import Testing
@testable import Data
import Tensor

@Suite struct RandomGeneratorTests {
    @Test func splitMix64MatchesTheReferenceOutputs() {
        // SplitMix64 seeded with 1234567, as Vigna's reference splitmix64.c prints it.
        var generator = SplitMix64(seed: 1234567)
        #expect([generator.next(), generator.next(), generator.next()] == [6457827717110365317, 3203168211198807973, 9817491932198370423])
    }

    @Test func xoshiroMatchesTheReferenceImplementation() {
        // Vigna's xoshiro256starstar.c from state {1, 2, 3, 4} (the vector rand_xoshiro also checks).
        var generator = Xoshiro256(state: [1, 2, 3, 4])
        #expect((0..<6).map { _ in generator.next() } == [11520, 0, 1509978240, 1215971899390074240, 1216172134540287360, 607988272756665600])
    }

    @Test func streamsAreReproducibleAndDistinct() {
        var a = Xoshiro256(seed: 7, stream: [2, 3, 11])
        var b = Xoshiro256(seed: 7, stream: [2, 3, 11])
        #expect(a.next() == b.next())
        let variants: [[UInt64]] = [[2, 3, 12], [2, 4, 11], [3, 3, 11], [2, 3], [11, 3, 2]]
        let firsts = Set(variants.map { keys -> UInt64 in
            var g = Xoshiro256(seed: 7, stream: keys)
            return g.next()
        } + [a.next()])
        #expect(firsts.count == 6)
        var other = Xoshiro256(seed: 8, stream: [2, 3, 11])
        var again = Xoshiro256(seed: 7, stream: [2, 3, 11])
        #expect(other.next() != again.next())
    }

    @Test func uniformIntegersAreUnbiasedAndInRange() {
        var generator = Xoshiro256(seed: 1)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<60_000 { counts[generator.integer(below: 6)] += 1 }
        // Each count ~ Binomial(60000, 1/6): mean 10000, σ ≈ 91; allow 4σ.
        #expect(counts.allSatisfy { abs($0 - 10_000) < 365 })
        for _ in 0..<1000 { #expect((3...5).contains(generator.integer(in: 3...5))) }
    }

    @Test func gaussianHasUnitMomentsAndUniformIsInTheHalfOpenInterval() {
        var generator = Xoshiro256(seed: 2)
        let n = 50_000
        let samples = (0..<n).map { _ in generator.gaussian() }
        let mean = samples.reduce(0, +) / Double(n)
        let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        // σ of the mean is 1/√n ≈ 0.0045; of the variance ≈ √(2/n) ≈ 0.0063.
        #expect(abs(mean) < 0.02 && abs(variance - 1) < 0.03)
        for _ in 0..<10_000 {
            let u = generator.uniform()
            #expect(u >= 0 && u < 1)
        }
    }

    @Test(arguments: [(0.8, 0.8), (1.0, 1.0), (0.3, 2.5), (4.0, 2.0)])
    func betaHasTheRightMeanAndVariance(a: Double, b: Double) {
        var generator = Xoshiro256(seed: 3)
        let n = 40_000
        let samples = (0..<n).map { _ in generator.beta(a, b) }
        #expect(samples.allSatisfy { $0 >= 0 && $0 <= 1 })
        let mean = samples.reduce(0, +) / Double(n)
        let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        let expectedMean = a / (a + b)
        let expectedVariance = a * b / ((a + b) * (a + b) * (a + b + 1))
        // The mean's σ is √(var/n) ≤ 0.0025 here; allow 4σ. The variance within 5 %.
        #expect(abs(mean - expectedMean) < 4 * (expectedVariance / Double(n)).squareRoot())
        #expect(abs(variance - expectedVariance) < 0.05 * expectedVariance)
    }

    @Test func gammaHasMeanAndVarianceEqualToItsShape() {
        var generator = Xoshiro256(seed: 4)
        for shape in [0.5, 1.0, 3.0] {
            let n = 40_000
            let samples = (0..<n).map { _ in generator.gamma(shape: shape) }
            let mean = samples.reduce(0, +) / Double(n)
            let variance = samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
            #expect(abs(mean - shape) < 4 * (shape / Double(n)).squareRoot())
            #expect(abs(variance - shape) < 0.06 * shape)
        }
    }

    @Test func permutationsAreUniformPermutations() {
        var generator = Xoshiro256(seed: 5)
        var firstPosition = [Int](repeating: 0, count: 4)
        for _ in 0..<8000 {
            let order = generator.permutation(4)
            #expect(order.sorted() == [0, 1, 2, 3])
            firstPosition[order[0]] += 1
        }
        // Each element leads ~2000 times (σ ≈ 39).
        #expect(firstPosition.allSatisfy { abs($0 - 2000) < 160 })
        #expect(generator.permutation(0).isEmpty && generator.permutation(1) == [0])
    }
}
