import GraphIR
import Reference
import Testing

@Suite("Reference: matMul and conv")
struct LinearAlgebraTests {
    static let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
    static let b = Tensor([7, 8, 9, 10, 11, 12], shape: [3, 2])

    @Test("matMul multiplies [2,3]·[3,2]")
    func plainProduct() throws {
        expectValues(try evaluate(.matMul(MatMul()), Self.a, Self.b), [58, 64, 139, 154], shape: [2, 2])
    }

    @Test("transpose flags read operands with their last two axes swapped")
    func transposedOperands() throws {
        let aT = Tensor([1, 4, 2, 5, 3, 6], shape: [3, 2]), bT = Tensor([7, 9, 11, 8, 10, 12], shape: [2, 3])
        expectValues(try evaluate(.matMul(MatMul(transposeA: true)), aT, Self.b), [58, 64, 139, 154], shape: [2, 2])
        expectValues(try evaluate(.matMul(MatMul(transposeB: true)), Self.a, bT), [58, 64, 139, 154], shape: [2, 2])
        expectValues(try evaluate(.matMul(MatMul(transposeA: true, transposeB: true)), aT, bT), [58, 64, 139, 154], shape: [2, 2])
    }

    @Test("leading axes broadcast: [2,1,2,2]·[3,2,2] gives [2,3,2,2] with every pairing")
    func batchBroadcast() throws {
        // A₀ = I, A₁ = 2I; B_k = [[k, 1], [0, k]], so product (a, k) is (a+1)·B_k.
        let a = Tensor([1, 0, 0, 1, 2, 0, 0, 2], shape: [2, 1, 2, 2])
        let b = Tensor([0, 1, 0, 0, 1, 1, 0, 1, 2, 1, 0, 2], shape: [3, 2, 2])
        expectValues(try evaluate(.matMul(MatMul()), a, b),
                     [0, 1, 0, 0, 1, 1, 0, 1, 2, 1, 0, 2,
                      0, 2, 0, 0, 2, 2, 0, 2, 4, 2, 0, 4], shape: [2, 3, 2, 2])
    }

    @Test("matMul accumulates in Double and rounds once (1e8 + 1 − 1e8 is 1, not 0)")
    func accumulatesInDouble() throws {
        let y = try evaluate(.matMul(MatMul()), Tensor([1e8, 1, -1e8], shape: [1, 3]), Tensor([1, 1, 1], shape: [3, 1]))
        expectValues(y, [1], shape: [1, 1])
    }

    @Test("matMul with an empty inner axis gives zeros")
    func emptyInnerAxis() throws {
        let y = try evaluate(.matMul(MatMul()), Tensor(zeros: .float32, [2, 0]), Tensor(zeros: .float32, [0, 3]))
        expectValues(y, [0, 0, 0, 0, 0, 0], shape: [2, 3])
    }

    @Test("conv slides a 2×2 kernel over a 3×3 image (cross-correlation)")
    func plainConv() throws {
        let w = Tensor([1, 0, 0, -1], shape: [1, 1, 2, 2])
        expectValues(try evaluate(.conv(Convolution()), counting([1, 1, 3, 3]), w), [-4, -4, -4, -4], shape: [1, 1, 2, 2])
    }

    @Test("conv with stride 2 and padding 1 counts padded positions as zero")
    func stridedPaddedConv() throws {
        let w = Tensor([1, 1, 1, 1], shape: [1, 1, 2, 2])
        let y = try evaluate(.conv(Convolution(strides: [2, 2], pads: [1, 1, 1, 1])), counting([1, 1, 3, 3]), w)
        expectValues(y, [1, 5, 11, 28], shape: [1, 1, 2, 2])
    }

    @Test("conv with asymmetric pads [top,left,bottom,right] pads only where told")
    func asymmetricPads() throws {
        let w = Tensor([1, 1], shape: [1, 1, 1, 2])
        let y = try evaluate(.conv(Convolution(pads: [0, 0, 0, 1])), counting([1, 1, 1, 3]), w)
        expectValues(y, [3, 5, 3], shape: [1, 1, 1, 3])
    }

    @Test("dilated conv samples every second pixel: a dilated 2×2 kernel on 3×3 sums the corners")
    func dilatedConv() throws {
        let y = try evaluate(.conv(Convolution(dilations: [2, 2])), counting([1, 1, 3, 3]), Tensor([1, 1, 1, 1], shape: [1, 1, 2, 2]))
        expectValues(y, [20], shape: [1, 1, 1, 1])
    }

    @Test("depthwise conv (groups = channels) filters each channel on its own")
    func depthwiseConv() throws {
        let x = Tensor([1, 2, 3, 4, 10, 20, 30, 40], shape: [1, 2, 2, 2])
        let w = Tensor([1, 1, 1, 1, 1, 0, 0, 1], shape: [2, 1, 2, 2])
        expectValues(try evaluate(.conv(Convolution(groups: 2)), x, w), [10, 50], shape: [1, 2, 1, 1])
    }

    @Test("grouped conv: output channel m reads only the input channels of its group")
    func groupedConv() throws {
        let x = Tensor([1, 2, 3, 4], shape: [1, 4, 1, 1])
        let w = Tensor([1, 10, 100, 1000], shape: [2, 2, 1, 1])
        expectValues(try evaluate(.conv(Convolution(groups: 2)), x, w), [21, 4300], shape: [1, 2, 1, 1])
    }

    @Test("conv adds one bias per output channel, over every image of the batch")
    func convBias() throws {
        let x = Tensor([1, 2, 3, 4], shape: [2, 1, 1, 2])
        let w = Tensor([2, -1], shape: [2, 1, 1, 1]), bias = Tensor([0.5, 100], shape: [2])
        let y = try Reference.evaluate(.conv(Convolution()), [x, w, bias])[0]
        expectValues(y, [2.5, 4.5, 99, 98, 6.5, 8.5, 97, 96], shape: [2, 2, 1, 2])
    }
}
