import Tensor

/// 2-D convolution over NCHW tensors with weights [M, C/groups, kH, kW], an optional per-channel bias
/// and an optional fused activation.
///
/// Three strategies, chosen once in the geometry: a 1×1, stride-1, unpadded convolution is a GEMM on
/// the input as it lies; a depthwise convolution (one input channel per group) runs a direct kernel
/// along output rows; everything else unfolds input patches into columns (im2col) in the workspace
/// and multiplies by the weights, which yields the output's [M, H·W] rows directly.
public enum Conv2D {
    /// How a convolution is computed.
    public enum Algorithm: String, Hashable, Sendable, Codable {
        /// Weights times the input image itself.
        case pointwise
        /// Input patches unfolded into the workspace, then weights times patches.
        case im2col
        /// A direct sliding window per channel.
        case depthwise
    }

    /// A resolved convolution.
    public struct Geometry: Hashable, Sendable, Codable {
        /// Input N, C, H, W.
        public var batch: Int
        public var inputChannels: Int
        public var inputHeight: Int
        public var inputWidth: Int
        /// M, the number of filters.
        public var outputChannels: Int
        public var kernelHeight: Int
        public var kernelWidth: Int
        public var strideHeight: Int
        public var strideWidth: Int
        /// Padding before the first row and column (the bottom and right padding only shape the
        /// output extents).
        public var padTop: Int
        public var padLeft: Int
        public var dilationHeight: Int
        public var dilationWidth: Int
        /// Channel groups; C/groups input channels feed M/groups filters each.
        public var groups: Int
        public var outputHeight: Int
        public var outputWidth: Int
        /// A bias vector of length `outputChannels` is added.
        public var hasBias: Bool
        /// Applied to the output after the bias.
        public var activation: UnaryFunction?
        public var algorithm: Algorithm
        /// Give each thread whole images, with single-threaded GEMMs, instead of splitting each
        /// image's GEMM across threads.
        public var parallelOverImages: Bool
        /// Scratch bytes `run` needs: the im2col columns of one group of one image, once per thread
        /// that works on images of its own.
        public var workspaceBytes: Int

        /// - Parameters:
        ///   - input: [N, C, H, W]
        ///   - weight: [M, C/groups, kH, kW]
        ///   - pads: [top, left, bottom, right]
        public init(input: [Int], weight: [Int], strides: [Int] = [1, 1], pads: [Int] = [0, 0, 0, 0],
                    dilations: [Int] = [1, 1], groups: Int = 1, hasBias: Bool = false, activation: UnaryFunction? = nil) {
            precondition(input.count == 4 && weight.count == 4 && strides.count == 2 && pads.count == 4 && dilations.count == 2,
                         "convolution geometry must be 2-D")
            precondition(groups > 0 && input[1] % groups == 0 && weight[0] % groups == 0 && weight[1] * groups == input[1],
                         "weight \(weight) does not fit input \(input) with \(groups) groups")
            batch = input[0]
            inputChannels = input[1]
            inputHeight = input[2]
            inputWidth = input[3]
            outputChannels = weight[0]
            kernelHeight = weight[2]
            kernelWidth = weight[3]
            strideHeight = strides[0]
            strideWidth = strides[1]
            padTop = pads[0]
            padLeft = pads[1]
            dilationHeight = dilations[0]
            dilationWidth = dilations[1]
            self.groups = groups
            outputHeight = (input[2] + pads[0] + pads[2] - dilations[0] * (weight[2] - 1) - 1) / strides[0] + 1
            outputWidth = (input[3] + pads[1] + pads[3] - dilations[1] * (weight[3] - 1) - 1) / strides[1] + 1
            precondition(outputHeight > 0 && outputWidth > 0, "convolution window does not fit the input \(input)")
            self.hasBias = hasBias
            self.activation = activation
            if weight[1] == 1 && groups > 1 {
                algorithm = .depthwise
            } else if weight[2] == 1 && weight[3] == 1 && strides == [1, 1] && pads == [0, 0, 0, 0] {
                algorithm = .pointwise
            } else {
                algorithm = .im2col
            }
            // Measured on 2 Zen 4 cores with 8 images of ResNet shapes: one image per thread beats
            // OpenBLAS splitting each image's GEMM by 10–15% on 7×7 and 14×14 planes, where each GEMM
            // is short and wide; from 28×28 up the two tie, and splitting each GEMM needs one im2col
            // buffer instead of one per thread. At least two images per thread keep the halves even.
            parallelOverImages = algorithm != .depthwise && input[0] >= 2 * Parallel.threadCount
                && outputHeight * outputWidth <= 32 * 32
            let slots = parallelOverImages ? min(Parallel.threadCount, input[0]) : 1
            let columnBytes = weight[1] * weight[2] * weight[3] * outputHeight * outputWidth * MemoryLayout<Float>.size
            workspaceBytes = algorithm == .im2col ? slots * columnBytes : 0
        }

        /// Separate im2col buffers in the workspace.
        var workspaceSlots: Int { parallelOverImages ? min(Parallel.threadCount, batch) : 1 }

        var inputPlane: Int { inputHeight * inputWidth }
        var outputPlane: Int { outputHeight * outputWidth }
        /// Rows of the unfolded patch matrix: (channel, kernel row, kernel column) of one group.
        var patchSize: Int { inputChannels / groups * kernelHeight * kernelWidth }
    }

    /// Computes the convolution of `input` into `output` (N × M × outH × outW). `workspace` must hold
    /// `geometry.workspaceBytes` bytes (it may be nil when that is 0); `bias` is required when
    /// `geometry.hasBias`.
    public static func run(_ geometry: Geometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                           bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                           workspace: UnsafeMutableRawPointer?) {
        let g = geometry
        precondition(!g.hasBias || bias != nil, "the convolution adds a bias but none was given")
        precondition(g.workspaceBytes == 0 || workspace != nil, "the convolution needs a workspace")
        let operands = Operands(input: input, weight: weight, bias: bias, output: output)
        switch g.algorithm {
        case .depthwise:
            depthwise(g, input: input, weight: weight, bias: bias, output: output)
        case .pointwise, .im2col:
            if g.parallelOverImages {
                // A share of the images per thread, each with its own columns and single-threaded GEMMs.
                let slots = g.workspaceSlots, slotBytes = g.workspaceBytes / slots
                Gemm.withSingleThreadedBLAS {
                    Parallel.forEach(slots) { slotRange in
                        for slot in slotRange {
                            let columns = workspace.map { ($0 + slot * slotBytes).assumingMemoryBound(to: Float.self) }
                            for image in (g.batch * slot / slots)..<(g.batch * (slot + 1) / slots) {
                                for group in 0..<g.groups {
                                    convolve(g, operands, image: image, group: group, columns: columns, threaded: false)
                                }
                            }
                        }
                    }
                }
            } else {
                let columns = workspace?.assumingMemoryBound(to: Float.self)
                for image in 0..<g.batch {
                    for group in 0..<g.groups {
                        convolve(g, operands, image: image, group: group, columns: columns, threaded: true)
                    }
                }
            }
        }
    }

    /// The tensors of one `run` call.
    struct Operands {
        let input: UnsafePointer<Float>
        let weight: UnsafePointer<Float>
        let bias: UnsafePointer<Float>?
        let output: UnsafeMutablePointer<Float>
    }

    /// One group of one image by GEMM: weights [M/g, C/g·kH·kW] times the unfolded patches (or the
    /// image itself, pointwise) gives the output rows [M/g, H·W] in place; then the epilogue.
    /// `threaded` splits the unfolding and the epilogue across threads.
    static func convolve(_ g: Geometry, _ operands: Operands, image: Int, group: Int,
                         columns: UnsafeMutablePointer<Float>?, threaded: Bool) {
        let channelsIn = g.inputChannels / g.groups, channelsOut = g.outputChannels / g.groups
        let x = operands.input + (image * g.inputChannels + group * channelsIn) * g.inputPlane
        let y = operands.output + (image * g.outputChannels + group * channelsOut) * g.outputPlane
        let patches: UnsafePointer<Float>
        if let columns, g.algorithm == .im2col {
            if threaded {
                Parallel.forEach(g.patchSize, grain: max(1, 4096 / g.outputPlane)) { rows in unfold(g, x, rows, into: columns) }
            } else {
                unfold(g, x, 0..<g.patchSize, into: columns)
            }
            patches = UnsafePointer(columns)
        } else {
            patches = x
        }
        Gemm.sgemm(transposeA: false, transposeB: false, m: channelsOut, n: g.outputPlane, k: g.patchSize,
                   alpha: 1, operands.weight + group * channelsOut * g.patchSize, patches, beta: 0, y)
        let epilogue = Epilogue(bias: g.hasBias ? .perRow : .none, activation: g.activation)
        if !epilogue.isEmpty {
            let groupBias = operands.bias.map { $0 + group * channelsOut }
            if threaded {
                Parallel.forEach(channelsOut, grain: max(1, Elementwise.grain / g.outputPlane)) { rows in
                    epilogue.apply(to: y, rows: rows, columns: g.outputPlane, bias: groupBias)
                }
            } else {
                epilogue.apply(to: y, rows: 0..<channelsOut, columns: g.outputPlane, bias: groupBias)
            }
        }
    }

    /// im2col for one group of one image, rows `rows`: row (c, kh, kw) of `columns` holds, for every
    /// output position, the input value under that kernel tap (0 in the padding).
    static func unfold(_ g: Geometry, _ x: UnsafePointer<Float>, _ rows: Range<Int>, into columns: UnsafeMutablePointer<Float>) {
        let taps = g.kernelHeight * g.kernelWidth
        let (outH, outW, inW) = (g.outputHeight, g.outputWidth, g.inputWidth)
        for row in rows {
            let (channel, tap) = row.quotientAndRemainder(dividingBy: taps)
            let (kh, kw) = tap.quotientAndRemainder(dividingBy: g.kernelWidth)
            let plane = x + channel * g.inputPlane
            let offsetW = kw * g.dilationWidth - g.padLeft
            let (first, end) = validRange(offset: offsetW, stride: g.strideWidth, input: inW, output: outW)
            var line = columns + row * g.outputPlane
            for oh in 0..<outH {
                let ih = oh * g.strideHeight - g.padTop + kh * g.dilationHeight
                if ih < 0 || ih >= g.inputHeight {
                    line.update(repeating: 0, count: outW)
                } else {
                    let source = plane + ih * inW + offsetW
                    for ow in 0..<first { line[ow] = 0 }
                    if g.strideWidth == 1 {
                        (line + first).update(from: source + first, count: end - first)
                    } else {
                        for ow in first..<end { line[ow] = source[ow * g.strideWidth] }
                    }
                    for ow in end..<outW { line[ow] = 0 }
                }
                line += outW
            }
        }
    }

    /// The output positions [first, end) whose input position `o·stride + offset` lies in [0, input).
    @inline(__always)
    static func validRange(offset: Int, stride: Int, input: Int, output: Int) -> (Int, Int) {
        let first = offset >= 0 ? 0 : (-offset + stride - 1) / stride
        let end = input - offset <= 0 ? 0 : (input - offset - 1) / stride + 1
        let clampedFirst = min(first, output)
        return (clampedFirst, max(clampedFirst, min(end, output)))
    }

    /// The direct depthwise kernel: each output plane accumulates kH·kW shifted, scaled input rows,
    /// one output row at a time so the row stays in L1. A 3×3 window whose three input rows are all
    /// inside the image (every row but the borders) takes all nine taps in one pass over the row.
    static func depthwise(_ g: Geometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                          bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>) {
        let multiplier = g.outputChannels / g.groups
        let (outH, outW, inW) = (g.outputHeight, g.outputWidth, g.inputWidth)
        let (kH, kW, sw, dw) = (g.kernelHeight, g.kernelWidth, g.strideWidth, g.dilationWidth)
        // Output columns where all three column taps of a 3×3 window are inside the row: from the
        // first where tap 0 is inside to the last where tap 2 is.
        let (first0, _) = validRange(offset: -g.padLeft, stride: sw, input: inW, output: outW)
        let (_, end2) = validRange(offset: 2 * dw - g.padLeft, stride: sw, input: inW, output: outW)
        let nineTaps = kH == 3 && kW == 3 && sw <= 2 && first0 < end2
        Parallel.forEach(g.batch * g.outputChannels, grain: max(1, 16384 / (g.outputPlane * kH * kW))) { planes in
            for plane in planes {
                let (image, channel) = plane.quotientAndRemainder(dividingBy: g.outputChannels)
                let x = input + (image * g.inputChannels + channel / multiplier) * g.inputPlane
                let w = weight + channel * kH * kW
                let initial = bias?[channel] ?? 0
                for oh in 0..<outH {
                    let y = output + plane * g.outputPlane + oh * outW
                    for ow in 0..<outW { y[ow] = initial }
                    let top = oh * g.strideHeight - g.padTop
                    if nineTaps && top >= 0 && top + 2 * g.dilationHeight < g.inputHeight {
                        let rowStep = g.dilationHeight * inW
                        let a = x + top * inW - g.padLeft, b = a + rowStep, c = b + rowStep
                        nineTapRow(y, a, b, c, w, from: first0, to: end2, stride: sw, dilation: dw,
                                   inputEnd: inW + g.padLeft)
                        // The few border columns, where some taps fall in the padding.
                        for ow in 0..<first0 { y[ow] += nineTapBorder(ow, a, rowStep, w, g) }
                        for ow in end2..<outW { y[ow] += nineTapBorder(ow, a, rowStep, w, g) }
                    } else {
                        for kh in 0..<kH {
                            let ih = top + kh * g.dilationHeight
                            if ih < 0 || ih >= g.inputHeight { continue }
                            let row = x + ih * inW - g.padLeft
                            for kw in 0..<kW {
                                let (f, e) = validRange(offset: kw * dw - g.padLeft, stride: sw, input: inW, output: outW)
                                accumulate(y, w[kh * kW + kw], row + kw * dw, f, e, stride: sw)
                            }
                        }
                    }
                    if let activation = g.activation { Elementwise.applySerially(activation, y, y, count: outW) }
                }
            }
        }
    }

    /// y[ow] += the 3×3 window at output column ow, for ow in [from, to) where every tap is inside
    /// the rows `a`, `b`, `c` (each already offset by the left padding; `inputEnd` is the row's end in
    /// those coordinates). Written with explicit vectors: with ten pointers in play the compiler's
    /// alias checks would keep the loop scalar.
    @inline(__always)
    static func nineTapRow(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                           _ c: UnsafePointer<Float>, _ w: UnsafePointer<Float>, from: Int, to: Int, stride: Int,
                           dilation: Int, inputEnd: Int) {
        // A vector step at ow reads inputs up to (ow + 4)·stride − 1 + 2·dilation, which must stay
        // below the row's end: ow + 4 ≤ vectorEnd.
        let vectorEnd = min(to, (inputEnd - 2 * dilation) / stride)
        var ow = from
        if stride == 1 {
            ow = nineTapVectors(y, a, b, c, w, from: from, to: vectorEnd, stride: 1, dilation: dilation) { p in
                UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Float>.self)
            }
        } else if stride == 2 {
            ow = nineTapVectors(y, a, b, c, w, from: from, to: vectorEnd, stride: 2, dilation: dilation) { p in
                UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self).evenHalf
            }
        }
        let (a1, a2, b1, b2, c1, c2) = (a + dilation, a + 2 * dilation, b + dilation, b + 2 * dilation,
                                        c + dilation, c + 2 * dilation)
        while ow < to {
            let i = ow * stride
            y[ow] += (w[0] * a[i] + w[1] * a1[i] + w[2] * a2[i]) + (w[3] * b[i] + w[4] * b1[i] + w[5] * b2[i])
                + (w[6] * c[i] + w[7] * c1[i] + w[8] * c2[i])
            ow += 1
        }
    }

    /// The four-lane loop of `nineTapRow` for one stride, `load` reading the four inputs of a tap
    /// for four adjacent outputs. Returns the first column it did not do.
    @inline(__always)
    static func nineTapVectors(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                               _ c: UnsafePointer<Float>, _ w: UnsafePointer<Float>, from: Int, to: Int, stride: Int,
                               dilation: Int, _ load: (UnsafePointer<Float>) -> SIMD4<Float>) -> Int {
        let (w0, w1, w2, w3, w4, w5, w6, w7, w8) = (w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], w[8])
        let (d1, d2) = (dilation, 2 * dilation)
        var ow = from
        while ow + 4 <= to {
            let i = ow * stride
            let top = w0 * load(a + i) + w1 * load(a + i + d1) + w2 * load(a + i + d2)
            let middle = w3 * load(b + i) + w4 * load(b + i + d1) + w5 * load(b + i + d2)
            let bottom = w6 * load(c + i) + w7 * load(c + i + d1) + w8 * load(c + i + d2)
            let target = UnsafeMutableRawPointer(y + ow)
            target.storeBytes(of: target.loadUnaligned(as: SIMD4<Float>.self) + (top + middle + bottom), as: SIMD4<Float>.self)
            ow += 4
        }
        return ow
    }

    /// The 3×3 window at border column `ow` over rows `a`, `a + rowStep`, `a + 2·rowStep` (offset by
    /// the left padding), skipping taps in the padding.
    @inline(__always)
    static func nineTapBorder(_ ow: Int, _ a: UnsafePointer<Float>, _ rowStep: Int, _ w: UnsafePointer<Float>,
                              _ g: Geometry) -> Float {
        var sum: Float = 0
        for kw in 0..<3 {
            let column = ow * g.strideWidth + kw * g.dilationWidth
            guard column >= g.padLeft && column < g.inputWidth + g.padLeft else { continue }
            sum += w[kw] * a[column] + w[3 + kw] * a[rowStep + column] + w[6 + kw] * a[2 * rowStep + column]
        }
        return sum
    }

    /// y[ow] += tap · source[ow·stride] for ow in [from, to).
    @inline(__always)
    static func accumulate(_ y: UnsafeMutablePointer<Float>, _ tap: Float, _ source: UnsafePointer<Float>,
                           _ from: Int, _ to: Int, stride: Int) {
        guard from < to else { return }
        if stride == 1 {
            for ow in from..<to { y[ow] += tap * source[ow] }
        } else {
            for ow in from..<to { y[ow] += tap * source[ow * stride] }
        }
    }
}
