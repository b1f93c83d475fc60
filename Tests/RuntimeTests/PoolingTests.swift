import GraphIR
import Runtime
import Tensor
import Testing

@Suite struct PoolingTests {
    static let windows: [Pooling] = [
        Pooling(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]),                                  // ResNet's stem
        Pooling(kernel: [2, 2], strides: [2, 2]),
        Pooling(kernel: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1], ceilMode: true),                  // ceil overrun
        Pooling(kernel: [3, 2], strides: [2, 1], pads: [1, 0, 1, 1], countIncludePad: true),
        Pooling(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: true),
        Pooling(kernel: [2, 3], strides: [1, 2], pads: [1, 1, 0, 2], dilations: [2, 2]),
        Pooling(kernel: [2, 2], strides: [3, 3]),                                                       // stride > kernel
        Pooling(kernel: [5, 5], strides: [1, 1], pads: [2, 2, 2, 2], countIncludePad: true),
    ]

    @Test("max and average pooling match the reference, including ceil mode and count_include_pad",
          arguments: windows)
    func windowed(pool: Pooling) throws {
        var noise = Noise(seed: 21)
        let x = noise.tensor([2, 3, 11, 10])
        let shape = try outputShape(.maxPool(pool), [x])
        let geometry = Pool2D.Geometry(input: x.shape.dims, output: [shape[2], shape[3]], kernel: pool.kernel,
                                       strides: pool.strides, pads: pool.pads, dilations: pool.dilations,
                                       countIncludePad: pool.countIncludePad)
        let y = Tensor(zeros: .float32, shape)
        Pool2D.max(geometry, x.f32, y.f32)
        expectClose(y, try reference(.maxPool(pool), [x]), tolerance: 0, "max")
        Pool2D.average(geometry, x.f32, y.f32)
        expectClose(y, try reference(.averagePool(pool), [x]), tolerance: 1e-6, "average")
    }

    @Test("a NaN inside a max window wins; padding never does")
    func maxWithNaN() {
        let x = Tensor([-5, .nan, -7, -8], shape: [1, 1, 2, 2])
        let geometry = Pool2D.Geometry(input: [1, 1, 2, 2], output: [2, 2], kernel: [2, 2], pads: [1, 1, 0, 0])
        let y = Tensor(zeros: .float32, [1, 1, 2, 2])
        Pool2D.max(geometry, x.f32, y.f32)
        #expect(y.floats[0] == -5 && y.floats[1].isNaN && y.floats[2] == -5 && y.floats[3].isNaN)
    }

    @Test("global pools reduce each plane, with odd plane sizes", arguments: [[2, 3, 7, 7], [1, 5, 1, 1], [1, 2, 33, 1]])
    func global(shape: [Int]) throws {
        var noise = Noise(seed: 22)
        let x = noise.tensor(Shape(shape), in: -3...5)
        let out = Shape([shape[0], shape[1], 1, 1])
        let y = Tensor(zeros: .float32, out)
        Pool2D.globalAverage(planes: shape[0] * shape[1], size: shape[2] * shape[3], x.f32, y.f32)
        expectClose(y, try reference(.globalAveragePool, [x]), tolerance: 1e-6, "average")
        Pool2D.globalMax(planes: shape[0] * shape[1], size: shape[2] * shape[3], x.f32, y.f32)
        expectClose(y, try reference(.globalMaxPool, [x]), tolerance: 0, "max")
    }
}
