import CBLAS
import Synchronization

/// The two gradients of a 2-D convolution: with respect to its input (backward data) and to its
/// weights (backward weight). The bias gradient is a reduction in the graph.
///
/// Both use the forward geometry's strategy. im2col convolutions multiply by the transposed weights
/// into columns and fold them back onto the image (col2im), or unfold the input and multiply the
/// output gradient by it; pointwise convolutions are plain GEMMs on the images as they lie;
/// depthwise convolutions run direct per-channel loops, and a stride-1 depthwise convolution with
/// one filter per channel takes its data gradient as the forward depthwise kernel applied to dY with
/// the filters flipped.
///
/// Work is cut into items fixed by the geometry alone (an image's block of input channels for the
/// data gradient; a block of patch rows over a run of images for the weight gradient), each computed
/// by single-threaded sgemm calls in a fixed order, so the result does not depend on how many threads
/// share the items (OpenBLAS's own threading changes rounding on some core types). The weight
/// gradient sums images in order within a run, then the runs' partial sums in run order.
public enum Conv2DGradient {
    /// A convolution's gradient computation.
    public struct Geometry: Hashable, Sendable, Codable {
        /// The forward convolution: shapes, window and strategy.
        public var forward: Conv2D.Geometry
        /// Input channels of one group per backward-data item (im2col and pointwise).
        public var dataChannelBlock: Int
        /// Patch rows (channel, kernel row, kernel column) of one group per backward-weight item.
        public var weightRowBlock: Int
        /// Consecutive runs of images per backward-weight item: with few patch rows, the batch is
        /// split too, each run summing into its own partial dW, and the partials are added in order.
        public var weightImageRuns: Int
        /// Concurrent workers, each with its own columns in the workspace. Chosen when the plan is
        /// made; any number of threads gives the same result.
        public var slots: Int
        /// For a stride-1 depthwise convolution with one filter per channel whose padding is at most
        /// the dilated kernel's extent: the forward convolution of dY by the flipped filters whose
        /// output is dX.
        public var flippedDepthwise: Conv2D.Geometry?

        /// - Parameters:
        ///   - input: [N, C, H, W] of the forward convolution.
        ///   - weight: [M, C/groups, kH, kW].
        ///   - pads: [top, left, bottom, right]
        ///   - slots: concurrent workers (the thread count by default).
        public init(input: [Int], weight: [Int], strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0],
                    dilations: [Int] = [1, 1], groups: Int = 1, slots: Int = Parallel.threadCount) {
            forward = Conv2D.Geometry(input: input, weight: weight, strides: strides, pads: pads, dilations: dilations,
                                      groups: groups)
            let channels = forward.inputChannels / groups
            let taps = forward.kernelHeight * forward.kernelWidth
            // Blocks of up to 512 (data) and 256 (weight) patch rows: measured on 2 Zen 4 cores with
            // ResNet-18 layers, smaller blocks repack the GEMM operands too often and lose up to 40%.
            // Dividing evenly avoids a small last block.
            let dataBlocks = (channels * taps + 511) / 512
            dataChannelBlock = (channels + dataBlocks - 1) / dataBlocks
            let weightBlocks = (channels * taps + 255) / 256
            weightRowBlock = (channels * taps + weightBlocks - 1) / weightBlocks
            // At least 16 weight items where the batch allows, so that threads share the work evenly
            // (a fixed count: the split must not depend on the thread count), with at most 16 MiB of
            // partial sums (the depthwise kernel splits by filter instead).
            let items = groups * weightBlocks
            var runs = forward.algorithm == .depthwise ? 1 : min(forward.batch, (16 + items - 1) / items)
            let weightCount = forward.outputChannels * forward.patchSize
            while runs > 1 && (runs - 1) * weightCount > 1 << 22 { runs -= 1 }
            weightImageRuns = max(1, runs)
            self.slots = max(1, slots)
            // dX[ih] = Σ w[kh]·dY[ih + top − kh·d] is dY correlated with the flipped filter under
            // padding (kH − 1)·d − top above and (kH − 1)·d − bottom below, likewise along columns.
            let reach = [dilations[0] * (weight[2] - 1), dilations[1] * (weight[3] - 1)]
            let flippedPads = [reach[0] - pads[0], reach[1] - pads[1], reach[0] - pads[2], reach[1] - pads[3]]
            if forward.algorithm == .depthwise && weight[0] == groups && strides == [1, 1] && flippedPads.allSatisfy({ $0 >= 0 }) {
                flippedDepthwise = Conv2D.Geometry(input: [input[0], weight[0], forward.outputHeight, forward.outputWidth],
                                                   weight: weight, pads: flippedPads, dilations: dilations, groups: groups)
            }
        }

        /// Blocks of input channels per image and group (backward data).
        var dataBlocks: Int { (forward.inputChannels / forward.groups + dataChannelBlock - 1) / dataChannelBlock }
        /// Blocks of patch rows per group (backward weight).
        var weightBlocks: Int { (forward.patchSize + weightRowBlock - 1) / weightRowBlock }

        /// Scratch bytes of backward data: one block of columns per slot (im2col), or the flipped
        /// filters (depthwise through the forward kernel).
        public var dataWorkspaceBytes: Int {
            let taps = forward.kernelHeight * forward.kernelWidth
            if flippedDepthwise != nil { return forward.outputChannels * taps * MemoryLayout<Float>.size }
            return forward.algorithm == .im2col ? slots * dataChannelBlock * taps * forward.outputPlane * MemoryLayout<Float>.size : 0
        }

        /// Floats of backward weight's scratch before the unfolded patches: a partial dW per image
        /// run after the first.
        var partialFloats: Int { (weightImageRuns - 1) * forward.outputChannels * forward.patchSize }

        /// Scratch bytes of backward weight: the partial sums of the image runs after the first, and
        /// one block of unfolded patches per slot (im2col only).
        public var weightWorkspaceBytes: Int {
            let columns = forward.algorithm == .im2col ? slots * weightRowBlock * forward.outputPlane : 0
            return (partialFloats + columns) * MemoryLayout<Float>.size
        }
    }

    /// dX (N × C × H × W) from dY (N × M × outH × outW) and the weights. `workspace` must hold
    /// `geometry.dataWorkspaceBytes`.
    public static func data(_ geometry: Geometry, outputGradient dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            inputGradient dx: UnsafeMutablePointer<Float>, workspace: UnsafeMutableRawPointer?) {
        let g = geometry.forward
        precondition(geometry.dataWorkspaceBytes == 0 || workspace != nil, "backward data needs a workspace")
        if let flipped = geometry.flippedDepthwise {
            let taps = g.kernelHeight * g.kernelWidth
            let filters = workspace!.assumingMemoryBound(to: Float.self)
            for tap in 0..<(g.outputChannels * taps) {
                let (channel, index) = tap.quotientAndRemainder(dividingBy: taps)
                filters[tap] = weight[channel * taps + taps - 1 - index]
            }
            Conv2D.run(flipped, input: dy, weight: filters, bias: nil, output: dx, workspace: nil)
            return
        }
        if g.algorithm == .depthwise {
            depthwiseData(g, dy, weight, dx)
            return
        }
        let channelsIn = g.inputChannels / g.groups, channelsOut = g.outputChannels / g.groups
        let taps = g.kernelHeight * g.kernelWidth
        let blocks = geometry.dataBlocks
        let slotFloats = geometry.dataChannelBlock * taps * g.outputPlane
        forEachItem(count: g.batch * g.groups * blocks, slots: geometry.slots) { item, slot in
            let (imageGroup, block) = item.quotientAndRemainder(dividingBy: blocks)
            let (image, group) = imageGroup.quotientAndRemainder(dividingBy: g.groups)
            let first = block * geometry.dataChannelBlock
            let count = min(geometry.dataChannelBlock, channelsIn - first)
            let gradient = dy + (image * g.outputChannels + group * channelsOut) * g.outputPlane
            // Wᵀ restricted to this block's patch rows: a column range of the group's [M/g, patch] weights.
            let filters = weight + group * channelsOut * g.patchSize + first * taps
            let target = dx + (image * g.inputChannels + group * channelsIn + first) * g.inputPlane
            if g.algorithm == .pointwise {
                sgemm(transposeA: true, transposeB: false, m: count, n: g.outputPlane, k: channelsOut,
                      filters, lda: g.patchSize, gradient, ldb: g.outputPlane, beta: 0, target, ldc: g.outputPlane)
            } else {
                let columns = workspace!.assumingMemoryBound(to: Float.self) + slot * slotFloats
                sgemm(transposeA: true, transposeB: false, m: count * taps, n: g.outputPlane, k: channelsOut,
                      filters, lda: g.patchSize, gradient, ldb: g.outputPlane, beta: 0, columns, ldc: g.outputPlane)
                fold(g, columns, channels: count, into: target)
            }
        }
    }

    /// dW (M × C/groups × kH × kW) from the forward input X and dY. `workspace` must hold
    /// `geometry.weightWorkspaceBytes`.
    public static func weight(_ geometry: Geometry, input x: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
                              weightGradient dw: UnsafeMutablePointer<Float>, workspace: UnsafeMutableRawPointer?) {
        let g = geometry.forward
        if g.algorithm == .depthwise {
            depthwiseWeight(g, x, dy, dw)
            return
        }
        precondition(geometry.weightWorkspaceBytes == 0 || workspace != nil, "backward weight needs a workspace")
        let weightCount = g.outputChannels * g.patchSize
        if g.batch == 0 {
            dw.update(repeating: 0, count: weightCount)
            return
        }
        let channelsIn = g.inputChannels / g.groups, channelsOut = g.outputChannels / g.groups
        let (blocks, runs) = (geometry.weightBlocks, geometry.weightImageRuns)
        let partials = workspace?.assumingMemoryBound(to: Float.self)
        let columnBase = partials.map { $0 + geometry.partialFloats }
        let slotFloats = geometry.weightRowBlock * g.outputPlane
        forEachItem(count: g.groups * blocks * runs, slots: geometry.slots) { item, slot in
            let (groupBlock, run) = item.quotientAndRemainder(dividingBy: runs)
            let (group, block) = groupBlock.quotientAndRemainder(dividingBy: blocks)
            let first = block * geometry.weightRowBlock
            let rows = min(geometry.weightRowBlock, g.patchSize - first)
            let sums = run == 0 ? dw : partials! + (run - 1) * weightCount
            let target = sums + group * channelsOut * g.patchSize + first
            let columns = columnBase.map { $0 + slot * slotFloats }
            let images = (g.batch * run / runs)..<(g.batch * (run + 1) / runs)
            for image in images {
                let gradient = dy + (image * g.outputChannels + group * channelsOut) * g.outputPlane
                let plane = x + (image * g.inputChannels + group * channelsIn) * g.inputPlane
                let patches: UnsafePointer<Float>
                if let columns, g.algorithm == .im2col {
                    // `unfold` writes row r at columns + r·plane: shift the base so row `first` lands at 0.
                    Conv2D.unfold(g, plane, first..<(first + rows), into: columns - first * g.outputPlane)
                    patches = UnsafePointer(columns)
                } else {
                    patches = plane + first * g.inputPlane
                }
                sgemm(transposeA: false, transposeB: true, m: channelsOut, n: rows, k: g.outputPlane,
                      gradient, lda: g.outputPlane, patches, ldb: g.outputPlane, beta: image == images.lowerBound ? 0 : 1,
                      target, ldc: g.patchSize)
            }
        }
        // The runs' partial sums, added in run order.
        guard runs > 1, let partials else { return }
        Parallel.forEach(weightCount, grain: Elementwise.grain) { range in
            for run in 1..<runs {
                let partial = partials + (run - 1) * weightCount
                for i in range { dw[i] += partial[i] }
            }
        }
    }

    /// Runs `body(item, slot)` for every item, on `slots` workers with single-threaded BLAS, each
    /// taking the next unclaimed item when it finishes one (items differ in cost at the borders and
    /// an even split would leave a thread idle).
    static func forEachItem(count: Int, slots: Int, _ body: (Int, Int) -> Void) {
        let slots = min(slots, count)
        guard slots > 0 else { return }
        let next = ItemCounter()
        Gemm.withSingleThreadedBLAS {
            Parallel.forEach(slots) { range in
                for slot in range {
                    while case let item = next.claim(), item < count { body(item, slot) }
                }
            }
        }
    }

    /// col2im for `channels` input channels: each plane of `target` is zeroed, then every column row
    /// (channel, kernel row, kernel column) is added at the input positions its tap read, taps in order.
    static func fold(_ g: Conv2D.Geometry, _ columns: UnsafePointer<Float>, channels: Int, into target: UnsafeMutablePointer<Float>) {
        let taps = g.kernelHeight * g.kernelWidth
        let (outH, outW, inW) = (g.outputHeight, g.outputWidth, g.inputWidth)
        for channel in 0..<channels {
            let plane = target + channel * g.inputPlane
            plane.update(repeating: 0, count: g.inputPlane)
            for tap in 0..<taps {
                let (kh, kw) = tap.quotientAndRemainder(dividingBy: g.kernelWidth)
                let offsetW = kw * g.dilationWidth - g.padLeft
                let (first, end) = Conv2D.validRange(offset: offsetW, stride: g.strideWidth, input: inW, output: outW)
                guard first < end else { continue }
                var line = columns + (channel * taps + tap) * g.outputPlane
                for oh in 0..<outH {
                    let ih = oh * g.strideHeight - g.padTop + kh * g.dilationHeight
                    if ih >= 0 && ih < g.inputHeight {
                        scatterAdd(line, first, end, into: plane + ih * inW + offsetW, stride: g.strideWidth)
                    }
                    line += outW
                }
            }
        }
    }

    /// target[ow·stride] += scale·source[ow] for ow in [from, to).
    @inline(__always)
    static func scatterAdd(_ source: UnsafePointer<Float>, _ from: Int, _ to: Int, into target: UnsafeMutablePointer<Float>,
                           stride: Int, scale: Float = 1) {
        if stride == 1 {
            for ow in from..<to { target[ow] += scale * source[ow] }
        } else {
            for ow in from..<to { target[ow * stride] += scale * source[ow] }
        }
    }

    /// Depthwise backward data (strided, several filters per channel, or padded beyond the kernel's
    /// reach): each input plane takes, from each of its output channels in turn, every tap's scaled
    /// output-gradient rows at the positions the tap read.
    static func depthwiseData(_ g: Conv2D.Geometry, _ dy: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                              _ dx: UnsafeMutablePointer<Float>) {
        let multiplier = g.outputChannels / g.groups
        let (kH, kW, outW, inW) = (g.kernelHeight, g.kernelWidth, g.outputWidth, g.inputWidth)
        Parallel.forEach(g.batch * g.inputChannels, grain: max(1, 16384 / max(multiplier * g.outputPlane * kH * kW, 1))) { planes in
            for plane in planes {
                let (image, channel) = plane.quotientAndRemainder(dividingBy: g.inputChannels)
                let target = dx + plane * g.inputPlane
                target.update(repeating: 0, count: g.inputPlane)
                for m in 0..<multiplier {
                    let output = channel * multiplier + m
                    let w = weight + output * kH * kW
                    let gradient = dy + (image * g.outputChannels + output) * g.outputPlane
                    for oh in 0..<g.outputHeight {
                        let row = gradient + oh * outW
                        let top = oh * g.strideHeight - g.padTop
                        for kh in 0..<kH {
                            let ih = top + kh * g.dilationHeight
                            if ih < 0 || ih >= g.inputHeight { continue }
                            for kw in 0..<kW {
                                let offsetW = kw * g.dilationWidth - g.padLeft
                                let (first, end) = Conv2D.validRange(offset: offsetW, stride: g.strideWidth, input: inW, output: outW)
                                scatterAdd(row, first, end, into: target + ih * inW + offsetW, stride: g.strideWidth,
                                           scale: w[kh * kW + kw])
                            }
                        }
                    }
                }
            }
        }
    }

    /// Depthwise backward weight: each filter's taps sum output gradient × input over the batch,
    /// image by image and row by row in order.
    static func depthwiseWeight(_ g: Conv2D.Geometry, _ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                _ dw: UnsafeMutablePointer<Float>) {
        let multiplier = g.outputChannels / g.groups
        let (kH, kW, outW, inW) = (g.kernelHeight, g.kernelWidth, g.outputWidth, g.inputWidth)
        let taps = kH * kW
        Parallel.forEach(g.outputChannels, grain: max(1, 16384 / max(g.batch * g.outputPlane * taps, 1))) { filters in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: taps) { buffer in
                let sums = buffer.baseAddress!
                for output in filters {
                    sums.update(repeating: 0, count: taps)
                    for image in 0..<g.batch {
                        let gradient = dy + (image * g.outputChannels + output) * g.outputPlane
                        let plane = x + (image * g.inputChannels + output / multiplier) * g.inputPlane
                        for oh in 0..<g.outputHeight {
                            let row = gradient + oh * outW
                            let top = oh * g.strideHeight - g.padTop
                            for kh in 0..<kH {
                                let ih = top + kh * g.dilationHeight
                                if ih < 0 || ih >= g.inputHeight { continue }
                                for kw in 0..<kW {
                                    let offsetW = kw * g.dilationWidth - g.padLeft
                                    let (first, end) = Conv2D.validRange(offset: offsetW, stride: g.strideWidth, input: inW, output: outW)
                                    guard first < end else { continue }
                                    let source = plane + ih * inW + offsetW
                                    sums[kh * kW + kw] += Double(stridedDot(row, source, first, end, stride: g.strideWidth))
                                }
                            }
                        }
                    }
                    for tap in 0..<taps { dw[output * taps + tap] = Float(sums[tap]) }
                }
            }
        }
    }

    /// Σ a[i]·b[i·stride] for i in [from, to), in four interleaved partial sums.
    @inline(__always)
    static func stridedDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ from: Int, _ to: Int, stride: Int) -> Float {
        var s = SIMD4<Float>()
        var i = from
        if stride == 1 {
            while i + 4 <= to {
                s += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD4<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD4<Float>.self)
                i += 4
            }
        } else {
            while i + 4 <= to {
                let v = SIMD4(b[i * stride], b[(i + 1) * stride], b[(i + 2) * stride], b[(i + 3) * stride])
                s += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD4<Float>.self) * v
                i += 4
            }
        }
        var total = s.sum()
        while i < to {
            total += a[i] * b[i * stride]
            i += 1
        }
        return total
    }

    /// One row-major sgemm with explicit leading dimensions (operands may be blocks of larger matrices).
    static func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, _ a: UnsafePointer<Float>, lda: Int,
                      _ b: UnsafePointer<Float>, ldb: Int, beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if beta == 0 { for row in 0..<m { (c + row * ldc).update(repeating: 0, count: n) } }
            return
        }
        _ = BLAS.selection
        serkd_sgemm(Int32(SERKD_ROW_MAJOR), Int32(transposeA ? SERKD_TRANS : SERKD_NO_TRANS),
                    Int32(transposeB ? SERKD_TRANS : SERKD_NO_TRANS), Int32(m), Int32(n), Int32(k), 1,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}

/// Hands out 0, 1, 2, … to concurrent workers.
final class ItemCounter: Sendable {
    private let next = Atomic<Int>(0)

    /// The next unclaimed number.
    func claim() -> Int { next.add(1, ordering: .relaxed).oldValue }
}
