import GraphIR

extension Autodiff {
    /// dX = maxPoolBackward(X, dY): the window maxima are found again from the kept input.
    static func maxPoolRule(_ pool: Pooling) -> GradientRule {
        GradientRule(keeping: [.input(0): [0]]) { b in
            [try b.apply1(.maxPoolBackward(pool), [b.input(0), b.outputGradient], "dx")]
        }
    }

    /// dX = averagePoolBackward(dY): only the geometry is needed, not the input.
    static func averagePoolRule(_ pool: Pooling) -> GradientRule {
        GradientRule { b in
            let x = b.shape(of: b.input(0))
            return [try b.apply1(.averagePoolBackward(pool, inputSize: [x[2], x[3]]), [b.outputGradient], "dx")]
        }
    }

    /// dX = dY/(spatial size), broadcast back over the spatial axes.
    static var globalAveragePoolRule: GradientRule {
        GradientRule { b in
            let x = b.shape(of: b.input(0))
            let size = x.dims[2...].reduce(1, *)
            let share = try b.apply1(.binary(.div), [b.outputGradient, b.scalar(Float(size))], "share")
            return [try b.apply1(.expand(x), [share], "dx")]
        }
    }

    /// Global max pooling over [H, W] is a max pool whose window is the whole plane.
    static var globalMaxPoolRule: GradientRule {
        GradientRule(keeping: [.input(0): [0]]) { b in
            let x = b.shape(of: b.input(0))
            guard x.rank == 4 else {
                throw InvalidInput("node '\(b.node.name)'", "the gradient of global max pooling needs an NCHW input, got \(x)")
            }
            return [try b.apply1(.maxPoolBackward(Pooling(kernel: [x[2], x[3]])), [b.input(0), b.outputGradient], "dx")]
        }
    }
}
