import GraphIR
import Reference
@testable import Runtime
import Tensor
import Testing

/// One pooling window whose gradients to check.
struct PoolingGradientCase: Sendable, CustomTestStringConvertible {
    var name: String
    var input: [Int]
    var pool: Pooling

    var testDescription: String { name }

    func geometry(output: Shape) -> Pool2D.Geometry {
        Pool2D.Geometry(input: input, output: Array(output.dims[2...]), kernel: pool.kernel, strides: pool.strides, pads: pool.pads,
                        dilations: pool.dilations, countIncludePad: pool.countIncludePad)
    }
}

@Suite struct GradientPoolingTests {
    static let cases: [PoolingGradientCase] = [
        PoolingGradientCase(name: "3×3 stride 2 pad 1 (ResNet stem)", input: [2, 3, 11, 10],
                            pool: Pooling(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1])),
        PoolingGradientCase(name: "ceil mode: the last window overruns the padding", input: [1, 2, 8, 7],
                            pool: Pooling(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true)),
        PoolingGradientCase(name: "ceil mode, count_include_pad", input: [1, 2, 8, 7],
                            pool: Pooling(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: true)),
        PoolingGradientCase(name: "count_include_pad, asymmetric pads", input: [2, 2, 6, 9],
                            pool: Pooling(kernel: [2, 3], strides: [1, 2], pads: [1, 0, 0, 2], countIncludePad: true)),
        PoolingGradientCase(name: "dilation 2, overlapping windows", input: [1, 3, 9, 9],
                            pool: Pooling(kernel: [3, 2], strides: [1, 1], pads: [0, 1, 2, 1], dilations: [2, 2])),
        PoolingGradientCase(name: "stride larger than the window", input: [1, 2, 10, 11],
                            pool: Pooling(kernel: [2, 2], strides: [3, 3])),
    ]

    @Test("max and average pooling gradients match the reference", arguments: cases)
    func matchesReference(c: PoolingGradientCase) throws {
        var noise = Noise(seed: 51)
        let x = noise.tensor(Shape(c.input))
        let output = try outputShape(.maxPool(c.pool), [x])
        let dy = noise.tensor(output)
        let geometry = c.geometry(output: output)
        let maxOp = Op.maxPoolBackward(c.pool)
        // Each dX element is a sum of at most a few float32 gradients.
        expectClose(try runGradient(.maxPoolBackward(geometry), maxOp, [x, dy])[0], try reference(maxOp, [x, dy]), tolerance: 1e-6, "max")
        let averageOp = Op.averagePoolBackward(c.pool, inputSize: Array(c.input[2...]))
        expectClose(try runGradient(.averagePoolBackward(geometry), averageOp, [dy])[0], try reference(averageOp, [dy]),
                    tolerance: 1e-6, "average")
    }

    @Test("a tied window sends its gradient to its first maximum, and the first NaN beats every number")
    func tiesAndNaN() throws {
        let pool = Pooling(kernel: [2, 2], strides: [2, 2])
        // Window 1: all equal → element 0. Window 2: 5 twice → its first 5 (index 3). Window 3: NaN at
        // its second and fourth position → the first NaN (index 9).
        let x = Tensor([1, 1, 2, 5,
                        1, 1, 5, 0,
                        0, .nan, 7, 7,
                        8, .nan, 7, 7] as [Float], shape: [1, 1, 4, 4])
        let dy = Tensor([10, 20, 30, 40], shape: [1, 1, 2, 2])
        let op = Op.maxPoolBackward(pool)
        let geometry = Pool2D.Geometry(input: [1, 1, 4, 4], output: [2, 2], kernel: [2, 2], strides: [2, 2])
        let dx = try runGradient(.maxPoolBackward(geometry), op, [x, dy])[0]
        #expect(dx.floats == [10, 0, 0, 20, 0, 0, 0, 0, 0, 30, 40, 0, 0, 0, 0, 0])
        #expect(dx.bitwiseEqual(try reference(op, [x, dy])))
    }

    @Test("wide rows, whose inner windows take their taps eight at a time, keep scan-order ties and the first NaN",
          arguments: [(stride: 1, width: 37), (stride: 2, width: 41)])
    func wideRows(stride: Int, width: Int) throws {
        var noise = Noise(seed: 52)
        // Values from {0, 1, 2}: most windows hold their maximum more than once.
        var values = (0..<(2 * 7 * width)).map { _ in Float(noise.next() % 3) }
        for i in stride * 20..<values.count where noise.next() % 40 == 0 { values[i] = .nan }
        let x = Tensor(values, shape: [1, 2, 7, width])
        let pool = Pooling(kernel: [3, 3], strides: [stride, stride], pads: [1, 1, 1, 1])
        let output = try outputShape(.maxPool(pool), [x])
        let dy = noise.tensor(output, in: 1...2)
        let geometry = Pool2D.Geometry(input: [1, 2, 7, width], output: Array(output.dims[2...]), kernel: [3, 3],
                                       strides: [stride, stride], pads: [1, 1, 1, 1])
        let op = Op.maxPoolBackward(pool)
        let dx = try runGradient(.maxPoolBackward(geometry), op, [x, dy])[0]
        expectClose(dx, try reference(op, [x, dy]), tolerance: 1e-6)
    }

    @Test("a window of only −∞ sends its gradient to its first position")
    func negativeInfinity() throws {
        let x = Tensor([-.infinity, -.infinity, -.infinity, -.infinity], shape: [1, 1, 2, 2])
        let dy = Tensor([3], shape: [1, 1, 1, 1])
        let geometry = Pool2D.Geometry(input: [1, 1, 2, 2], output: [1, 1], kernel: [2, 2])
        let op = Op.maxPoolBackward(Pooling(kernel: [2, 2]))
        let dx = try runGradient(.maxPoolBackward(geometry), op, [x, dy])[0]
        #expect(dx.floats == [3, 0, 0, 0])
        #expect(dx.bitwiseEqual(try reference(op, [x, dy])))
    }
}
