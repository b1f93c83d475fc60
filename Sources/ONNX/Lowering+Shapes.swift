import GraphIR

// ONNX ops that move data or describe shapes: they lower to reshape/transpose/slice/concat/gather/
// expand/pad/tile, or (Shape, Size, ConstantOfShape, Range, Constant) to constants computed here.
extension Importer {
    /// `Reshape`: 0 copies the input's extent (unless `allowzero`), -1 is inferred.
    mutating func reshapeNode() throws -> [ValueID?] {
        let x = try input(0)
        let xs = type(x).shape
        let requested: [Int]
        if opset < 5 {
            guard let attribute = try node.ints("shape") else { throw LoweringError.invalid("attribute 'shape' is missing") }
            requested = attribute
        } else {
            guard let data = try integersInput(1, "shape") else { throw LoweringError.invalid("input 1 ('shape') is missing") }
            requested = data
        }
        let allowZero = try opset >= 14 && node.int("allowzero", default: 0) != 0
        var dims = requested
        var inferred: Int?
        for (index, extent) in requested.enumerated() {
            if extent == 0 && !allowZero {
                guard index < xs.rank else { throw LoweringError.invalid("shape \(requested) copies axis \(index) of \(xs)") }
                dims[index] = xs[index]
            } else if extent == -1 {
                guard inferred == nil else { throw LoweringError.invalid("shape \(requested) has more than one -1") }
                inferred = index
                dims[index] = 1
            } else if extent < 0 {
                throw LoweringError.invalid("shape \(requested) has a negative extent")
            }
        }
        if let inferred {
            guard let known = Shape(dims).checkedElementCount, known > 0, xs.elementCount % known == 0 else {
                throw LoweringError.invalid("cannot reshape \(xs) to \(requested)")
            }
            dims[inferred] = xs.elementCount / known
        }
        let shape = try checkedShape(dims, "target shape")
        guard shape.elementCount == xs.elementCount else { throw LoweringError.invalid("cannot reshape \(xs) to \(requested)") }
        return [try apply1(.reshape(shape), [x])]
    }

    /// `Flatten`: [d0…d(axis-1) product, the rest's product].
    mutating func flatten() throws -> [ValueID?] {
        let x = try input(0)
        let xs = type(x).shape
        var axis = try node.int("axis", default: 1)
        if axis < 0 { axis += xs.rank }
        guard (0...xs.rank).contains(axis) else { throw LoweringError.invalid("axis \(axis) is out of range for \(xs)") }
        let outer = xs.dims[..<axis].reduce(1, *), inner = xs.dims[axis...].reduce(1, *)
        return [try apply1(.reshape([outer, inner]), [x])]
    }

    /// `Squeeze`: drops the given extent-1 axes, or all of them.
    mutating func squeeze() throws -> [ValueID?] {
        let x = try input(0)
        let xs = type(x).shape
        let requested = opset < 13 ? try node.ints("axes") : try integersInput(1, "axes")
        var drop: Set<Int>
        if let requested {
            drop = []
            for value in requested {
                let resolved = try axis(value, rank: xs.rank)
                guard xs[resolved] == 1 else { throw LoweringError.invalid("axis \(value) of \(xs) is not 1") }
                drop.insert(resolved)
            }
        } else {
            drop = Set(xs.dims.indices.filter { xs[$0] == 1 })
        }
        let dims = xs.dims.indices.filter { !drop.contains($0) }.map { xs[$0] }
        return [try apply1(.reshape(Shape(dims)), [x])]
    }

    /// `Unsqueeze`: inserts extent-1 axes at the given output positions.
    mutating func unsqueeze() throws -> [ValueID?] {
        let x = try input(0)
        let xs = type(x).shape
        let requested = opset < 13 ? try node.ints("axes") : try integersInput(1, "axes")
        guard let requested else { throw LoweringError.invalid("axes are missing") }
        let rank = xs.rank + requested.count
        var inserted = Set<Int>()
        for value in requested {
            guard inserted.insert(try axis(value, rank: rank)).inserted else { throw LoweringError.invalid("axes \(requested) repeat an axis") }
        }
        var source = xs.dims.makeIterator()
        let dims = (0..<rank).map { inserted.contains($0) ? 1 : source.next()! }
        return [try apply1(.reshape(Shape(dims)), [x])]
    }

    mutating func transpose() throws -> [ValueID?] {
        let x = try input(0)
        let rank = type(x).shape.rank
        let permutation = try node.ints("perm") ?? Array((0..<rank).reversed())
        guard permutation.sorted() == Array(0..<rank) else { throw LoweringError.invalid("perm \(permutation) is not a permutation of \(rank) axes") }
        return [try apply1(.transpose(permutation: permutation), [x])]
    }

    /// `Slice`: bounds from attributes (opset < 10) or inputs, clamped as ONNX specifies.
    mutating func slice() throws -> [ValueID?] {
        let x = try input(0)
        let xs = type(x).shape
        let starts, ends: [Int]
        let axes, steps: [Int]?
        if opset < 10 {
            guard let s = try node.ints("starts"), let e = try node.ints("ends") else { throw LoweringError.invalid("starts and ends are required") }
            (starts, ends, axes, steps) = (s, e, try node.ints("axes"), nil)
        } else {
            guard let s = try integersInput(1, "starts"), let e = try integersInput(2, "ends") else {
                throw LoweringError.invalid("starts and ends are required")
            }
            (starts, ends, axes, steps) = (s, e, try integersInput(3, "axes"), try integersInput(4, "steps"))
        }
        let axisList = axes ?? Array(0..<starts.count)
        let stepList = steps ?? Array(repeating: 1, count: starts.count)
        guard ends.count == starts.count, axisList.count == starts.count, stepList.count == starts.count else {
            throw LoweringError.invalid("starts, ends, axes and steps have different lengths")
        }
        var window = GraphIR.Slice(starts: Array(repeating: 0, count: xs.rank), ends: xs.dims, steps: Array(repeating: 1, count: xs.rank))
        var seen = Set<Int>()
        for index in starts.indices {
            let resolved = try axis(axisList[index], rank: xs.rank)
            guard seen.insert(resolved).inserted else { throw LoweringError.invalid("axis \(axisList[index]) is sliced twice") }
            let extent = xs[resolved]
            guard stepList[index] != 0 else { throw LoweringError.invalid("step is 0") }
            // A step longer than the axis takes at most one element, like a step of the axis' length.
            let step = max(-(extent + 1), min(extent + 1, stepList[index]))
            var start = starts[index], end = ends[index]
            if start < 0 { start += extent }
            if end < 0 { end += extent }
            if step > 0 {
                start = min(max(start, 0), extent)
                end = min(max(end, 0), extent)
            } else {
                start = min(max(start, 0), extent - 1)
                end = min(max(end, -1), extent - 1)
            }
            if extent == 0 { (start, end) = (0, 0) }
            window.starts[resolved] = start
            window.ends[resolved] = end
            window.steps[resolved] = step
        }
        return [try apply1(.slice(window), [x])]
    }

    /// `Split`: sizes from an attribute (opset < 13), an input, `num_outputs` (opset ≥ 18), or
    /// equal parts; each output is a slice.
    mutating func split() throws -> [ValueID?] {
        let x = try input(0)
        let xs = type(x).shape
        let along = try axis(try node.int("axis", default: 0), rank: xs.rank)
        let extent = xs[along]
        let count = node.outputs.count
        var sizes = opset < 13 ? try node.ints("split") : try integersInput(1, "split")
        if sizes == nil {
            if opset >= 18, let parts = try node.int("num_outputs") {
                guard parts == count, parts > 0 else { throw LoweringError.invalid("num_outputs \(parts) differs from the \(count) outputs") }
                let chunk = (extent + parts - 1) / parts
                sizes = (0..<parts).map { max(0, min(chunk, extent - $0 * chunk)) }
            } else {
                guard count > 0, extent % count == 0 else { throw LoweringError.invalid("axis of \(extent) does not split into \(count) equal parts") }
                sizes = Array(repeating: extent / count, count: count)
            }
        }
        guard let sizes, sizes.count == count, sizes.allSatisfy({ (0...extent).contains($0) }), sizes.reduce(0, +) == extent else {
            throw LoweringError.invalid("split sizes \(sizes ?? []) do not divide axis \(along) of \(xs) into \(count) outputs")
        }
        var results: [ValueID?] = []
        var offset = 0
        for (index, size) in sizes.enumerated() {
            var window = GraphIR.Slice(starts: Array(repeating: 0, count: xs.rank), ends: xs.dims, steps: Array(repeating: 1, count: xs.rank))
            window.starts[along] = offset
            window.ends[along] = offset + size
            offset += size
            results.append(try apply1(.slice(window), [x], "\(index)"))
        }
        return results
    }

    mutating func concat() throws -> [ValueID?] {
        let inputs = try presentInputs()
        guard let first = inputs.first else { throw LoweringError.invalid("needs at least one input") }
        guard let value = try node.int("axis") else { throw LoweringError.invalid("attribute 'axis' is missing") }
        return [try apply1(.concat(axis: try axis(value, rank: type(first).shape.rank)), inputs)]
    }

    mutating func gather() throws -> [ValueID?] {
        let data = try input(0)
        let indices = try cast(try input(1), to: .int64, "indices")
        let along = try axis(try node.int("axis", default: 0), rank: type(data).shape.rank)
        if let known = constantData(indices) {
            let extent = Int64(type(data).shape[along])
            if let bad = known.int64s.first(where: { $0 < -extent || $0 >= extent }) {
                throw LoweringError.invalid("index \(bad) is out of range for an axis of \(extent)")
            }
        }
        return [try apply1(.gather(axis: along), [data, indices])]
    }

    /// `Expand`: numpy broadcasting in both directions between the input and the given shape.
    mutating func expand() throws -> [ValueID?] {
        let x = try input(0)
        guard let requested = try integersInput(1, "shape") else { throw LoweringError.invalid("input 1 ('shape') is missing") }
        let shape = try checkedShape(requested, "shape")
        guard let target = Shape.broadcast(type(x).shape, shape) else {
            throw LoweringError.invalid("cannot expand \(type(x).shape) to \(shape)")
        }
        _ = try checkedShape(target.dims, "expanded shape")
        return [try apply1(.expand(target), [x])]
    }

    mutating func tile() throws -> [ValueID?] {
        let x = try input(0)
        guard let repeats = try integersInput(1, "repeats") else { throw LoweringError.invalid("input 1 ('repeats') is missing") }
        let xs = type(x).shape
        guard repeats.count == xs.rank, repeats.allSatisfy({ $0 >= 0 && $0 <= ShapeLimits.maxElements }) else {
            throw LoweringError.invalid("repeats \(repeats) do not fit \(xs)")
        }
        var dims: [Int] = []
        for (extent, count) in zip(xs.dims, repeats) {
            let (product, overflow) = extent.multipliedReportingOverflow(by: count)
            guard !overflow else { throw LoweringError.invalid("tiling \(xs) by \(repeats) is too large") }
            dims.append(product)
        }
        _ = try checkedShape(dims, "tiled shape")
        return [try apply1(.tile(repeats: repeats), [x])]
    }

    /// `Pad`: amounts from an attribute (opset < 11) or inputs, optionally for chosen axes (opset ≥ 18).
    mutating func pad() throws -> [ValueID?] {
        let x = try input(0)
        let xs = type(x).shape
        let mode: PadMode
        switch try node.string("mode", default: "constant") {
        case "constant": mode = .constant
        case "reflect": mode = .reflect
        case "edge": mode = .edge
        case let other: throw LoweringError.unsupported("mode '\(other)'")
        }
        var amounts: [Int]
        var value: Double = 0
        if opset < 11 {
            guard let attribute = try node.ints("pads") ?? node.ints("paddings") else { throw LoweringError.invalid("attribute 'pads' is missing") }
            amounts = attribute
            value = Double(try node.float("value", default: 0))
        } else {
            guard let data = try integersInput(1, "pads") else { throw LoweringError.invalid("input 1 ('pads') is missing") }
            amounts = data
            value = try scalarInput(2, "constant_value") ?? 0
            if let axes = try integersInput(3, "axes") {
                guard amounts.count == 2 * axes.count else { throw LoweringError.invalid("pads \(amounts) do not match axes \(axes)") }
                var full = Array(repeating: 0, count: 2 * xs.rank)
                for (index, value) in axes.enumerated() {
                    let resolved = try axis(value, rank: xs.rank)
                    full[resolved] = amounts[index]
                    full[resolved + xs.rank] = amounts[index + axes.count]
                }
                amounts = full
            }
        }
        guard amounts.count == 2 * xs.rank, amounts.allSatisfy({ (-ShapeLimits.maxElements...ShapeLimits.maxElements).contains($0) }) else {
            throw LoweringError.invalid("pads \(amounts) do not fit \(xs)")
        }
        let dims = (0..<xs.rank).map { xs[$0] + amounts[$0] + amounts[$0 + xs.rank] }
        guard dims.allSatisfy({ $0 >= 0 }) else { throw LoweringError.invalid("pads \(amounts) crop \(xs) below zero") }
        _ = try checkedShape(dims, "padded shape")
        return [try apply1(.pad(pads: amounts, mode: mode, value: Float(value)), [x])]
    }

    /// `Shape` (with `start`/`end` from opset 15): known at import, since shapes are static.
    mutating func shape() throws -> [ValueID?] {
        let dims = type(try input(0)).shape.dims
        func clamp(_ value: Int) -> Int { min(max(value < 0 ? value + dims.count : value, 0), dims.count) }
        let start = clamp(try node.int("start", default: 0)), end = clamp(try node.int("end", default: dims.count))
        let slice = start < end ? Array(dims[start..<end]) : []
        return [constant(Tensor(slice.map { Int64($0) }, shape: [slice.count]), "shape")]
    }

    mutating func size() throws -> [ValueID?] {
        [constant(Tensor(scalar: Int64(type(try input(0)).shape.elementCount)), "size")]
    }

    /// `ConstantOfShape`: the `value` attribute broadcast to the given shape.
    mutating func constantOfShape() throws -> [ValueID?] {
        guard let requested = try integersInput(0, "shape") else { throw LoweringError.invalid("input 0 ('shape') is missing") }
        let shape = try checkedShape(requested, "shape")
        var fill = Tensor(scalar: Float(0))
        if let value = try attributeTensor("value") {
            guard value.elementCount == 1 else { throw LoweringError.invalid("attribute 'value' must hold one element") }
            fill = value
        }
        let seed = constant(fill.reshaped(Shape(Array(repeating: 1, count: shape.rank))), "value")
        return [try apply1(.expand(shape), [seed])]
    }

    /// `Range(start, limit, delta)`, computed at import.
    mutating func range() throws -> [ValueID?] {
        guard let start = try constantInput(0, "start"), let limit = try constantInput(1, "limit"), let delta = try constantInput(2, "delta") else {
            throw LoweringError.invalid("start, limit and delta are required")
        }
        guard start.elementCount == 1, limit.elementCount == 1, delta.elementCount == 1 else {
            throw LoweringError.invalid("start, limit and delta must be scalars")
        }
        let (first, bound, step) = (start.doubles[0], limit.doubles[0], delta.doubles[0])
        guard step != 0 else { throw LoweringError.invalid("delta is 0") }
        let count = max(0, (bound - first) / step).rounded(.up)
        guard count <= Double(1 << 26) else { throw LoweringError.unsupported("a range of \(count) elements") }
        let values = (0..<Int(count)).map { first + Double($0) * step }
        return [constant(Tensor(doubles: values, dtype: start.dtype, shape: [values.count]), "range")]
    }

    /// `Constant`, in any of its attribute forms.
    mutating func constantNode() throws -> [ValueID?] {
        let tensor: Tensor
        if let value = try attributeTensor("value") {
            tensor = value
            origins.constantNodes += 1
        } else if case .float(let value) = node.attributes["value_float"] {
            tensor = Tensor(scalar: value)
        } else if let values = try node.floats("value_floats") {
            tensor = Tensor(values, shape: [values.count])
        } else if case .int(let value) = node.attributes["value_int"] {
            tensor = Tensor(scalar: Int64(value))
        } else if let values = try node.ints("value_ints") {
            tensor = Tensor(values.map { Int64($0) }, shape: [values.count])
        } else if node.attributes["value_string"] != nil || node.attributes["value_strings"] != nil {
            throw LoweringError.unsupported("string constant")
        } else if node.attributes["sparse_value"] != nil {
            throw LoweringError.unsupported("sparse constant")
        } else {
            throw LoweringError.invalid("has no value attribute")
        }
        return [constant(tensor, "value")]
    }

    /// A tensor attribute, decoded once per protobuf message.
    mutating func attributeTensor(_ key: String) throws -> Tensor? {
        switch node.attributes[key] {
        case nil: return nil
        case .tensor(let proto):
            if let known = attributeTensors[UnsafeMutableRawPointer(proto)] { return known }
            let (tensor, _) = try reader.read(proto, what: "node '\(node.label)' attribute '\(key)'")
            attributeTensors[UnsafeMutableRawPointer(proto)] = tensor
            return tensor
        case .unsupported(let kind): throw LoweringError.unsupported("\(kind) attribute '\(key)'")
        default: throw LoweringError.invalid("attribute '\(key)' must be a tensor")
        }
    }
}
