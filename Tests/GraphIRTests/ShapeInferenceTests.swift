import Testing
@testable import GraphIR

@Suite struct ShapeInferenceTests {
    func infer(_ op: Op, _ types: TensorType...) throws -> [TensorType] { try op.outputTypes(for: types) }
    func f32(_ dims: Int...) -> TensorType { TensorType(.float32, Shape(dims)) }

    @Test func convolutionOutputExtent() throws {
        let conv = Op.conv(Convolution(strides: [2, 2], pads: [3, 3, 3, 3], dilations: [1, 1], groups: 1))
        #expect(try infer(conv, f32(2, 3, 224, 224), f32(64, 3, 7, 7)) == [f32(2, 64, 112, 112)])
        let depthwise = Op.conv(Convolution(strides: [1, 1], pads: [1, 1, 1, 1], dilations: [2, 2], groups: 8))
        #expect(try infer(depthwise, f32(1, 8, 10, 10), f32(8, 1, 3, 3), f32(8)) == [f32(1, 8, 8, 8)])
        #expect(throws: InvalidInput.self) { try infer(conv, f32(2, 4, 224, 224), f32(64, 3, 7, 7)) }
    }

    @Test func ceilModePoolingDropsAWindowStartingInThePadding() throws {
        // PyTorch: MaxPool2d(2, stride=2, padding=1, ceil_mode=True) on 5×5 gives 3×3: ceil would add a
        // fourth window, but it would start at 6, inside the end padding.
        let pool = Pooling(kernel: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true)
        #expect(try infer(.maxPool(pool), f32(1, 1, 5, 5)) == [f32(1, 1, 3, 3)])
        // MaxPool2d(3, stride=2, padding=1, ceil_mode=True) on 6×6 keeps its ceil window (starts at 6 < 7): 4×4.
        #expect(try infer(.maxPool(Pooling(kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true)), f32(1, 1, 6, 6)) == [f32(1, 1, 4, 4)])
        // Without padding, ceil mode on 5×5 with a 2×2 window adds the partial window: 3×3.
        #expect(try infer(.maxPool(Pooling(kernel: [2, 2], strides: [2, 2], ceilMode: true)), f32(1, 1, 5, 5)) == [f32(1, 1, 3, 3)])
    }

    @Test func matMulBroadcastsBatchAxesAndHonoursTransposes() throws {
        #expect(try infer(.matMul(MatMul()), f32(2, 1, 4, 5), f32(3, 5, 6)) == [f32(2, 3, 4, 6)])
        #expect(try infer(.matMul(MatMul(transposeA: true, transposeB: true)), f32(5, 4), f32(6, 5)) == [f32(4, 6)])
    }

    @Test func layerNormProducesStatisticsWithNormalisedAxesKept() throws {
        let types = try infer(.layerNorm(axis: 2, epsilon: 1e-6), f32(2, 197, 768), f32(768), f32(768))
        #expect(types == [f32(2, 197, 768), f32(2, 197, 1), f32(2, 197, 1)])
    }

    @Test func sliceExtentsHandleNegativeSteps() throws {
        let reverse = Slice(starts: [4], ends: [-1], steps: [-2])
        #expect(reverse.extents == [3])
        #expect(try infer(.slice(reverse), f32(5)) == [f32(3)])
        #expect(try infer(.slice(Slice(starts: [0, 1], ends: [2, 197], steps: [1, 1])), f32(2, 197)) == [f32(2, 196)])
    }

    @Test func gatherAndReduceShapes() throws {
        #expect(try infer(.gather(axis: 1), f32(2, 197, 8), TensorType(.int64, [])) == [f32(2, 8)])
        #expect(try infer(.reduce(.mean, axes: [1], keepDims: false), f32(2, 196, 768)) == [f32(2, 768)])
        #expect(try infer(.reduce(.sum, axes: [0, 2], keepDims: true), f32(2, 3, 4)) == [f32(1, 3, 1)])
    }
}

@Suite struct HostileGeometryTests {
    @Test func absurdWindowGeometryIsRefusedNotTrapped() {
        let conv = Op.conv(Convolution(strides: [1, 1], pads: [Int.max / 2, 0, Int.max / 2, 0], dilations: [1, 1], groups: 1))
        #expect(throws: InvalidInput(nil, "window geometry is out of range")) {
            try conv.outputTypes(for: [TensorType(.float32, [1, 1, 4, 4]), TensorType(.float32, [1, 1, 3, 3])])
        }
        #expect(throws: InvalidInput.self) {
            try Op.reshape(Shape([Int.max, 4])).outputTypes(for: [TensorType(.float32, [4])])
        }
    }

    @Test func poolingPadsMustBeSmallerThanTheWindow() {
        let pool = Op.maxPool(Pooling(kernel: [2, 2], strides: [1, 1], pads: [2, 0, 0, 0]))
        #expect(throws: InvalidInput.self) { try pool.outputTypes(for: [TensorType(.float32, [1, 1, 4, 4])]) }
    }

    @Test func reflectPaddingOfAnEmptyAxisIsRefused() {
        let pad = Op.pad(pads: [1, 1], mode: .reflect, value: 0)
        #expect(throws: InvalidInput(nil, "reflect padding needs a non-empty axis to copy from")) {
            try pad.outputTypes(for: [TensorType(.float32, [0])])
        }
    }
}
