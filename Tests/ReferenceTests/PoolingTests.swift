import GraphIR
import Reference
import Testing

@Suite("Reference: pooling")
struct PoolingTests {
    /// One row of values 1…width as an NCHW image.
    static func row(_ width: Int) -> Tensor { counting([1, 1, 1, width]) }

    /// A pooling geometry over the width only (kernel height 1).
    static func widthPool(kernel: Int, stride: Int, pads: (Int, Int) = (0, 0), dilation: Int = 1, ceil: Bool = false,
                          countPad: Bool = false) -> Pooling {
        Pooling(kernel: [1, kernel], strides: [1, stride], pads: [0, pads.0, 0, pads.1], dilations: [1, dilation],
                ceilMode: ceil, countIncludePad: countPad)
    }

    @Test("maxPool 2×2 stride 2 takes the max of each block")
    func maxPoolBlocks() throws {
        let y = try evaluate(.maxPool(Pooling(kernel: [2, 2], strides: [2, 2])), counting([1, 1, 4, 4]))
        expectValues(y, [6, 8, 14, 16], shape: [1, 1, 2, 2])
    }

    @Test("maxPool in ceil mode adds a last window that overruns the input and ignores the overrun")
    func ceilModeOverrun() throws {
        expectValues(try evaluate(.maxPool(Self.widthPool(kernel: 2, stride: 2)), Self.row(5)), [2, 4], shape: [1, 1, 1, 2])
        expectValues(try evaluate(.maxPool(Self.widthPool(kernel: 2, stride: 2, ceil: true)), Self.row(5)), [2, 4, 5], shape: [1, 1, 1, 3])
    }

    @Test("maxPool with ceil mode drops a window that starts in the padding")
    func ceilModeDropsPaddingWindow() throws {
        // Windows start at -1, 1, 3; a fourth would start at 5, inside the right padding.
        let y = try evaluate(.maxPool(Self.widthPool(kernel: 2, stride: 2, pads: (1, 1), ceil: true)), Self.row(5))
        expectValues(y, [1, 3, 5], shape: [1, 1, 1, 3])
    }

    @Test("maxPool ignores padding even when every input is negative")
    func maxIgnoresPadding() throws {
        let y = try evaluate(.maxPool(Self.widthPool(kernel: 3, stride: 1, pads: (1, 1))), Tensor([-3, -2, -1], shape: [1, 1, 1, 3]))
        expectValues(y, [-2, -1, -1], shape: [1, 1, 1, 3])
    }

    @Test("a window that could lie entirely in padding is refused")
    func windowInPaddingOnlyIsRefused() {
        #expect(throws: InvalidInput.self) { try evaluate(.maxPool(Self.widthPool(kernel: 1, stride: 1, pads: (1, 0))), Self.row(2)) }
    }

    @Test("dilated maxPool compares every second element")
    func dilatedMaxPool() throws {
        let x = Tensor([5, 9, 1, 9, 3], shape: [1, 1, 1, 5])
        expectValues(try evaluate(.maxPool(Self.widthPool(kernel: 2, stride: 1, dilation: 2)), x), [5, 9, 3], shape: [1, 1, 1, 3])
    }

    @Test("averagePool divides by the input positions in the window, excluding padding")
    func averageExcludesPadding() throws {
        let y = try evaluate(.averagePool(Pooling(kernel: [2, 2], pads: [1, 1, 1, 1])), counting([1, 1, 2, 2]))
        expectValues(y, [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4], shape: [1, 1, 3, 3])
    }

    @Test("averagePool with countIncludePad divides by the full kernel area")
    func averageIncludesPadding() throws {
        let y = try evaluate(.averagePool(Pooling(kernel: [2, 2], pads: [1, 1, 1, 1], countIncludePad: true)), counting([1, 1, 2, 2]))
        expectValues(y, [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1], shape: [1, 1, 3, 3])
    }

    @Test("ceil-mode averagePool with countIncludePad counts the declared padding, not the overrun past it")
    func ceilModeAverageDivisor() throws {
        // Width 6, kernel 3, stride 2, pads 1+1: the last window covers 5, the pad at 6, and 7 beyond it:
        // divisor 2. Matches onnxruntime, PyTorch and ONNX's reference.
        let counted = try evaluate(.averagePool(Self.widthPool(kernel: 3, stride: 2, pads: (1, 1), ceil: true, countPad: true)), Self.row(6))
        expectValues(counted, [1, 3, 5, 3], shape: [1, 1, 1, 4])
        let uncounted = try evaluate(.averagePool(Self.widthPool(kernel: 3, stride: 2, pads: (1, 1), ceil: true)), Self.row(6))
        expectValues(uncounted, [1.5, 3, 5, 6], shape: [1, 1, 1, 4])
    }

    @Test("dilated ceil-mode averagePool: a window reaching past the padding divides by its positions inside it")
    func dilatedCeilModeAverage() throws {
        // Windows {-1,1}, {1,3}, {3,5}, {5,7}; -1 and 6 are padding, 7 lies beyond it.
        let pool = Self.widthPool(kernel: 2, stride: 2, pads: (1, 1), dilation: 2, ceil: true, countPad: true)
        expectValues(try evaluate(.averagePool(pool), Self.row(6)), [1, 3, 5, 6], shape: [1, 1, 1, 4])
    }

    @Test("global pools reduce every spatial position of each channel")
    func globalPools() throws {
        let x = Tensor([1, 2, 3, 6, -1, -2, -3, -6], shape: [1, 2, 2, 2])
        expectValues(try evaluate(.globalAveragePool, x), [3, -3], shape: [1, 2, 1, 1])
        expectValues(try evaluate(.globalMaxPool, x), [6, -1], shape: [1, 2, 1, 1])
    }

    @Test("global pools accept any number of spatial axes")
    func globalPoolsOverOneAxis() throws {
        expectValues(try evaluate(.globalAveragePool, counting([2, 1, 3])), [2, 5], shape: [2, 1, 1])
    }
}
