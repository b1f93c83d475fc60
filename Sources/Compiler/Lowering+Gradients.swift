import GraphIR
import Runtime

extension Lowering {
    /// Kernels for the gradient and training-mode ops. Shape inference has checked the operand
    /// shapes; what remains here are limits of the kernels themselves, reported against the node.
    static func lowerGradient(_ op: GradientOp, _ node: Node, inputs: [TensorType], output: TensorType) throws -> GradientKernel {
        func fail(_ problem: String) -> InvalidInput { InvalidInput("node '\(node.name)'", problem) }
        switch op {
        case .convBackwardData(let conv, _):
            return .convBackwardData(Conv2DGradient.Geometry(input: output.shape.dims, weight: inputs[1].shape.dims, strides: conv.strides,
                                                             pads: conv.pads, dilations: conv.dilations, groups: conv.groups))
        case .convBackwardWeight(let conv, _):
            return .convBackwardWeight(Conv2DGradient.Geometry(input: inputs[0].shape.dims, weight: output.shape.dims, strides: conv.strides,
                                                               pads: conv.pads, dilations: conv.dilations, groups: conv.groups))
        case .maxPoolBackward(let pool):
            return .maxPoolBackward(poolGeometry(input: inputs[0].shape.dims, gradient: inputs[1].shape.dims, pool))
        case .averagePoolBackward(let pool, _):
            return .averagePoolBackward(poolGeometry(input: output.shape.dims, gradient: inputs[0].shape.dims, pool))
        case .unaryBackward(let function):
            return .unaryBackward(function, count: inputs[0].shape.elementCount)
        case .softmaxBackward(let axis):
            return .softmaxBackward(AxisLayout(shape: inputs[0].shape.dims, axis: axis))
        case .logSoftmaxBackward(let axis):
            return .logSoftmaxBackward(AxisLayout(shape: inputs[0].shape.dims, axis: axis))
        case .layerNormBackward(let axis):
            let dims = inputs[0].shape.dims
            let normalized = Array(dims[axis...])
            guard tilesPeriodically(inputs[1].shape.dims, over: normalized) else {
                throw fail("layer norm scale \(inputs[1].shape) must broadcast along leading axes only")
            }
            guard inputs[1].shape.elementCount > 0 else { throw fail("layer norm over the empty axes \(Shape(normalized))") }
            return .layerNormBackward(Normalization.LayerNormGradientGeometry(rows: dims[..<axis].reduce(1, *), columns: normalized.reduce(1, *),
                                                                              scaleCount: inputs[1].shape.elementCount))
        case .batchNormTraining(let epsilon, let momentum):
            let layout = AxisLayout(shape: inputs[0].shape.dims, axis: 1)
            guard layout.outer * layout.inner > 1 else {
                throw fail("training batch norm needs more than one value per channel, got input \(inputs[0].shape)")
            }
            return .batchNormTraining(layout, epsilon: epsilon, momentum: momentum)
        case .batchNormBackward:
            return .batchNormBackward(AxisLayout(shape: inputs[0].shape.dims, axis: 1))
        case .scatterAdd(let axis, let dataShape):
            guard inputs[0].dtype == .float32 else { throw fail("scatter-add supports f32 gradients, got \(inputs[0])") }
            return .scatterAdd(DataMovement.Gather(shape: dataShape.dims, axis: axis, indexCount: inputs[1].shape.elementCount, elementSize: 4))
        case .sliceBackward(let slice, let inputShape):
            return .sliceBackward(.slice(inputShape.dims, starts: slice.starts, steps: slice.steps, extents: slice.extents,
                                         elementSize: inputs[0].dtype.byteSize),
                                  inputCount: inputShape.elementCount)
        case .dropout(let ratio, let seed, let perSample):
            let x = inputs[0].shape
            return .dropout(Dropout.Geometry(count: x.elementCount, maskCount: perSample ? x[0] : x.elementCount, ratio: ratio, seed: seed))
        }
    }

    /// The forward pooling geometry of an input of `input` dims whose pooled output (and gradient)
    /// has `gradient` dims.
    static func poolGeometry(input: [Int], gradient: [Int], _ pool: Pooling) -> Pool2D.Geometry {
        Pool2D.Geometry(input: input, output: Array(gradient[2...]), kernel: pool.kernel, strides: pool.strides, pads: pool.pads,
                        dilations: pool.dilations, countIncludePad: pool.countIncludePad)
    }
}
