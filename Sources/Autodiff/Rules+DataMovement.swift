import GraphIR

// Reductions and data movement: each gradient moves dY back to where the forward op took its
// elements from, summing where one element was used several times. None keeps a forward value
// except gather, which keeps its indices.
extension Autodiff {
    /// sum: dY broadcast back over the reduced axes; mean: the same divided by their extent.
    /// max and min have no rule.
    static func reduceRule(_ kind: Reduction, axes: [Int], keepDims: Bool) -> GradientRule? {
        guard kind == .sum || kind == .mean else { return nil }
        return GradientRule { b in
            let x = b.shape(of: b.input(0))
            var gradient = b.outputGradient
            if kind == .mean {
                let count = axes.reduce(1) { $0 * x[$1] }
                gradient = try b.apply1(.binary(.div), [gradient, b.scalar(Float(count))], "share")
            }
            var kept = x
            for axis in axes { kept[axis] = 1 }
            gradient = try b.reshape(gradient, to: kept)
            return [kept == x ? gradient : try b.apply1(.expand(x), [gradient], "dx")]
        }
    }

    static var reshapeRule: GradientRule {
        GradientRule { b in [try b.reshape(b.outputGradient, to: b.shape(of: b.input(0)))] }
    }

    /// dX = dY transposed by the inverse permutation.
    static func transposeRule(_ permutation: [Int]) -> GradientRule {
        var inverse = permutation
        for (axis, source) in permutation.enumerated() { inverse[source] = axis }
        return GradientRule { b in [try b.apply1(.transpose(permutation: inverse), [b.outputGradient], "dx")] }
    }

    static func sliceRule(_ window: Slice) -> GradientRule {
        GradientRule { b in
            [try b.apply1(.sliceBackward(window, inputShape: b.shape(of: b.input(0))), [b.outputGradient], "dx")]
        }
    }

    /// Each input's gradient is its window of dY along the concatenation axis.
    static func concatRule(axis: Int) -> GradientRule {
        GradientRule { b in
            let dY = b.outputGradient
            let full = b.shape(of: dY)
            var offset = 0
            var gradients: [ValueID?] = []
            for (index, input) in b.node.inputs.enumerated() {
                let length = b.shape(of: input)[axis]
                defer { offset += length }
                guard b.needs(index) else { gradients.append(nil); continue }
                var starts = Array(repeating: 0, count: full.rank), ends = full.dims
                starts[axis] = offset
                ends[axis] = offset + length
                let window = Slice(starts: starts, ends: ends, steps: Array(repeating: 1, count: full.rank))
                gradients.append(try b.apply1(.slice(window), [dY], "d\(index)"))
            }
            return gradients
        }
    }

    /// dData = scatterAdd(dY, indices); the indices get none.
    static func gatherRule(axis: Int) -> GradientRule {
        GradientRule(keeping: [.input(1): [0]]) { b in
            let data = b.shape(of: b.input(0))
            return [try b.apply1(.scatterAdd(axis: axis, dataShape: data), [b.outputGradient, b.input(1)], "dx"), nil]
        }
    }

    static var expandRule: GradientRule {
        GradientRule { b in [try b.unbroadcast(b.outputGradient, toInput: 0)] }
    }

    /// Constant padding: dX is dY with the padding cut off again, i.e. padded by the negated
    /// amounts (which also zero-fills where the forward pad cropped).
    static func padRule(_ pads: [Int]) -> GradientRule {
        GradientRule { b in [try b.apply1(.pad(pads: pads.map { -$0 }, mode: .constant, value: 0), [b.outputGradient], "dx")] }
    }

    /// Tiling [d₀, d₁, …] by [r₀, r₁, …]: dY viewed as [r₀, d₀, r₁, d₁, …] summed over the repeats.
    static func tileRule(_ repeats: [Int]) -> GradientRule {
        GradientRule { b in
            let x = b.shape(of: b.input(0))
            guard x.rank > 0 else { return [b.outputGradient] }
            let split = Shape(zip(repeats, x.dims).flatMap { [$0, $1] })
            let view = try b.reshape(b.outputGradient, to: split)
            let summed = try b.apply1(.reduce(.sum, axes: Array(stride(from: 0, to: split.rank, by: 2)), keepDims: false), [view], "dx")
            return [summed]
        }
    }
}
