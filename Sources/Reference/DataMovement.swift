import GraphIR

// Ops that only move elements: each works for every dtype by naming, for every output element, the
// input element it copies.
extension Reference {
    /// Output axis a is input axis `permutation[a]`.
    static func transpose(_ input: Tensor, permutation: [Int], shape: Shape) -> Tensor {
        let strides = input.shape.strides
        let tables = permutation.map { axis in (0..<input.shape[axis]).map { $0 * strides[axis] } }
        return take(input, flatIndices(tables), shape: shape)
    }

    /// Index `start + i·step` on each axis, for i below the axis's extent.
    static func slice(_ input: Tensor, _ window: Slice, shape: Shape) -> Tensor {
        let strides = input.shape.strides
        let tables = window.extents.enumerated().map { axis, extent in
            (0..<extent).map { (window.starts[axis] + $0 * window.steps[axis]) * strides[axis] }
        }
        return take(input, flatIndices(tables), shape: shape)
    }

    /// The inputs one after another along `axis`.
    static func concat(_ inputs: [Tensor], axis: Int, shape: Shape) -> Tensor {
        let result = Tensor(zeros: inputs[0].dtype, shape)
        let outer = extent(shape, 0..<axis), inner = extent(shape, (axis + 1)..<shape.rank)
        var position = 0
        for o in 0..<outer {
            for input in inputs {
                let chunk = input.shape[axis] * inner
                copyElements(chunk, from: input, at: o * chunk, to: result, at: position)
                position += chunk
            }
        }
        return result
    }

    /// Entries of `data` along `axis` chosen by int64 `indices`; a negative index counts from the end.
    static func gather(_ data: Tensor, indices: Tensor, axis: Int, shape: Shape) throws -> Tensor {
        let length = data.shape[axis]
        let chosen = try indices.int64s.map { raw -> Int in
            let index = raw < 0 ? Int(raw) + length : Int(raw)
            guard index >= 0 && index < length else { throw InvalidInput(nil, "index \(raw) is out of range for axis \(axis) of extent \(length)") }
            return index
        }
        let result = Tensor(zeros: data.dtype, shape)
        let outer = extent(data.shape, 0..<axis), inner = extent(data.shape, (axis + 1)..<data.shape.rank)
        var position = 0
        for o in 0..<outer {
            for index in chosen {
                copyElements(inner, from: data, at: (o * length + index) * inner, to: result, at: position)
                position += inner
            }
        }
        return result
    }

    /// Pads or crops each axis; pad positions take `value` (constant), the mirror image without the
    /// edge (reflect, as numpy, repeating the reflection when padding exceeds the extent), or the
    /// nearest edge element (edge).
    static func pad(_ input: Tensor, pads: [Int], mode: PadMode, value: Float, shape: Shape) throws -> Tensor {
        let rank = input.shape.rank
        let strides = input.shape.strides
        // Per axis and output index, the input index it copies, or nil for the constant.
        var tables: [[Int?]] = []
        for axis in 0..<rank {
            let length = input.shape[axis]
            let sources = (0..<shape[axis]).map { $0 - pads[axis] }
            if mode != .constant && length == 0 && !sources.isEmpty {
                throw InvalidInput(nil, "cannot \(mode.rawValue)-pad the empty axis \(axis)")
            }
            tables.append(sources.map { source -> Int? in
                let index: Int? = switch mode {
                case .constant: source >= 0 && source < length ? source : nil
                case .edge: Swift.min(Swift.max(source, 0), length - 1)
                case .reflect: reflected(source, length)
                }
                return index.map { $0 * strides[axis] }
            })
        }
        var indices: [Int?] = [0]
        for table in tables {
            var next: [Int?] = []
            next.reserveCapacity(indices.count * table.count)
            for base in indices {
                for offset in table {
                    if let base, let offset { next.append(base + offset) } else { next.append(nil) }
                }
            }
            indices = next
        }

        let fill = Tensor(doubles: [Double(value)], dtype: input.dtype, shape: [])
        let result = Tensor(zeros: input.dtype, shape)
        for (i, index) in indices.enumerated() {
            if let index {
                copyElements(1, from: input, at: index, to: result, at: i)
            } else {
                copyElements(1, from: fill, at: 0, to: result, at: i)
            }
        }
        return result
    }

    /// numpy's "reflect" index: …, 2, 1, [0, 1, …, n−1], n−2, n−3, …, repeating with period 2(n−1).
    static func reflected(_ index: Int, _ length: Int) -> Int {
        guard length > 1 else { return 0 }
        let period = 2 * (length - 1)
        let folded = (index % period + period) % period
        return folded < length ? folded : period - folded
    }

    /// Repeats the input `repeats[a]` times along each axis a.
    static func tile(_ input: Tensor, repeats: [Int], shape: Shape) -> Tensor {
        let strides = input.shape.strides
        let tables = input.shape.dims.enumerated().map { axis, length in
            (0..<shape[axis]).map { ($0 % length) * strides[axis] }
        }
        return take(input, flatIndices(tables), shape: shape)
    }
}
