import GraphIR

// Matrix products and convolution: direct sums in Double, one rounding per output element.
extension Reference {
    /// numpy matmul over the last two axes, with leading axes broadcast and either operand optionally
    /// read transposed.
    static func matMul(_ a: Tensor, _ b: Tensor, _ flags: MatMul, shape: Shape) -> Tensor {
        let rows = shape[-2], columns = shape[-1]
        let inner = flags.transposeA ? a.shape[-2] : a.shape[-1]
        // Where element (i, p) of op(A) and (p, j) of op(B) sit inside one stored matrix.
        let (aRowStride, aInnerStride) = flags.transposeA ? (1, rows) : (inner, 1)
        let (bInnerStride, bColumnStride) = flags.transposeB ? (1, inner) : (columns, 1)

        let batch = Shape(Array(shape.dims.dropLast(2)))
        let aMatrices = broadcastIndices(from: Shape(Array(a.shape.dims.dropLast(2))), to: batch)
        let bMatrices = broadcastIndices(from: Shape(Array(b.shape.dims.dropLast(2))), to: batch)
        let x = a.doubles, y = b.doubles
        var result: [Double] = []
        result.reserveCapacity(shape.elementCount)
        for matrix in 0..<batch.elementCount {
            let aBase = aMatrices[matrix] * rows * inner, bBase = bMatrices[matrix] * inner * columns
            for i in 0..<rows {
                for j in 0..<columns {
                    var sum = 0.0
                    for p in 0..<inner {
                        sum += x[aBase + i * aRowStride + p * aInnerStride] * y[bBase + p * bInnerStride + j * bColumnStride]
                    }
                    result.append(sum)
                }
            }
        }
        return Tensor(doubles: result, dtype: .float32, shape: shape)
    }

    /// 2-D cross-correlation (ONNX Conv), NCHW: output channel m of group g sees input channels
    /// g·C/groups ..< (g+1)·C/groups; positions in the zero padding contribute nothing.
    static func conv(_ input: Tensor, _ weight: Tensor, bias: Tensor?, _ geometry: Convolution, shape: Shape) -> Tensor {
        let (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (outChannels, groupChannels, kernelH, kernelW) = (weight.shape[0], weight.shape[1], weight.shape[2], weight.shape[3])
        let (outH, outW) = (shape[2], shape[3])
        let outPerGroup = outChannels / geometry.groups
        let (strideH, strideW) = (geometry.strides[0], geometry.strides[1])
        let (dilationH, dilationW) = (geometry.dilations[0], geometry.dilations[1])
        let (padTop, padLeft) = (geometry.pads[0], geometry.pads[1])

        let x = input.doubles, w = weight.doubles
        let b = bias?.doubles ?? [Double](repeating: 0, count: outChannels)
        var result: [Double] = []
        result.reserveCapacity(shape.elementCount)
        for n in 0..<batch {
            for m in 0..<outChannels {
                let firstChannel = (m / outPerGroup) * groupChannels
                for oh in 0..<outH {
                    for ow in 0..<outW {
                        var sum = b[m]
                        for c in 0..<groupChannels {
                            let xPlane = (n * channels + firstChannel + c) * height * width
                            let wPlane = (m * groupChannels + c) * kernelH * kernelW
                            for kh in 0..<kernelH {
                                let ih = oh * strideH - padTop + kh * dilationH
                                guard ih >= 0 && ih < height else { continue }
                                for kw in 0..<kernelW {
                                    let iw = ow * strideW - padLeft + kw * dilationW
                                    guard iw >= 0 && iw < width else { continue }
                                    sum += x[xPlane + ih * width + iw] * w[wPlane + kh * kernelW + kw]
                                }
                            }
                        }
                        result.append(sum)
                    }
                }
            }
        }
        return Tensor(doubles: result, dtype: .float32, shape: shape)
    }
}
