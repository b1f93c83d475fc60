import Foundation
@testable import Runtime
import Testing

/// `VectorMath.exponentials`, the exp behind softmax: CVectorMath's AVX2 kernel where the CPU has
/// AVX2, else the Swift loop. Either must meet the exp bound of VectorMath.swift.
@Suite struct VectorMathTests {
    @Test("exponentials are within 1 ulp of float64 exp on [-87, 88], 0 below -104, NaN for NaN, and their sum is returned")
    func exponentialsMatchLibm() {
        // Every length up to 19 tests the vector kernel's tail; the sweep tests the polynomial.
        let xs = (0...175_000).map { Float(-87 + Double($0) * 1e-3) } + [-104.5, -200, -.infinity, .nan, 0, 1, 2]
        var ys = [Float](repeating: 0, count: xs.count)
        let total = VectorMath.exponentials(of: xs, into: &ys, count: xs.count, shift: 0)
        var worst = 0.0
        for (x, y) in zip(xs, ys) where x.isFinite && x >= -87 {
            worst = max(worst, ulps(y, from: Foundation.exp(Double(x))))
        }
        #expect(worst <= 1, "\(worst) ulp")
        #expect(ys[175_001...175_003].allSatisfy { $0 == 0 })
        #expect(ys[175_004].isNaN && total.isNaN)
        for n in 1...19 {
            let row = (0..<n).map { Float($0) * 0.37 - 2 }
            var out = [Float](repeating: 0, count: n)
            let sum = VectorMath.exponentials(of: row, into: &out, count: n, shift: 0.5)
            // The shift is subtracted in float32, as the kernel does, so the yardstick measures exp alone.
            let expected = row.map { Foundation.exp(Double($0 - 0.5)) }
            #expect(zip(out, expected).allSatisfy { ulps($0, from: $1) <= 1 }, "length \(n)")
            #expect(abs(Double(sum) - expected.reduce(0, +)) <= 1e-6 * expected.reduce(0, +), "length \(n)")
        }
    }
}
