import GraphIR

/// Recognises GELU written out in elementwise ops, as exporters without a Gelu op spell it, and
/// replaces it by `unary(.gelu)` or `unary(.geluTanh)`:
///
/// - x·0.5·(1 + erf(x/√2)) (or erf(x·(1/√2)));
/// - x·0.5·(1 + tanh(√(2/π)·(x + 0.044715·x³))), with x³ as pow(x, 3) or x·x·x.
///
/// Products and sums match in any operand order and grouping of the three factors x, 0.5 and the
/// sum; the constants are float scalars. Every intermediate must have no other reader.
public enum GeluFusion {
    /// The graph with decomposed GELUs replaced by one op each.
    public static func run(_ graph: Graph) -> Graph {
        var rewrite = GraphRewrite(graph)
        for (index, node) in graph.nodes.enumerated() where !rewrite.isTouched(index) {
            guard case .core(.unary(let f)) = node.op, f == .erf || f == .tanh else { continue }
            var matcher = Matcher(rewrite: rewrite)
            let x: ValueID?
            let function: UnaryFunction
            if f == .erf {
                x = matcher.erfArgument(node.inputs[0], readBy: index)
                function = .gelu
            } else {
                x = matcher.tanhArgument(node.inputs[0], readBy: index)
                function = .geluTanh
            }
            guard let x, let (final, interior) = matcher.outerProduct(x: x, nonlinearity: index),
                  graph.type(of: rewrite[final].outputs[0]) == graph.type(of: x) else { continue }
            for i in Set(interior + matcher.claimed + [index]) where i != final { rewrite.remove(i) }
            rewrite.replace(final, with: Node(op: .unary(function), inputs: [x], outputs: rewrite[final].outputs, name: rewrite[final].name))
        }
        return rewrite.finished()
    }

    /// Walks one candidate pattern, collecting the nodes it would remove.
    struct Matcher {
        let rewrite: GraphRewrite
        /// Interior nodes of the argument (x/√2, the cubic polynomial).
        var claimed: [Int] = []

        init(rewrite: GraphRewrite) { self.rewrite = rewrite }

        /// The producer of `value` when it is a binary `function` whose output only `reader` reads.
        func binary(_ value: ValueID, _ function: BinaryFunction, readBy reader: Int) -> (index: Int, a: ValueID, b: ValueID)? {
            guard let index = rewrite.producer(of: value), rewrite.isOnlyRead(value, by: reader),
                  case .core(.binary(let f)) = rewrite[index].op, f == function else { return nil }
            return (index, rewrite[index].inputs[0], rewrite[index].inputs[1])
        }

        func isScalar(_ value: ValueID, _ expected: Double, tolerance: Double = 1e-6) -> Bool {
            guard let v = rewrite.scalar(value) else { return false }
            return abs(v - expected) <= tolerance * max(1, abs(expected))
        }

        /// For `x·c` or `c·x` with the scalar constant c, x.
        func scaled(_ a: ValueID, _ b: ValueID, by c: Double) -> ValueID? {
            if isScalar(b, c) { return a }
            if isScalar(a, c) { return b }
            return nil
        }

        /// x, given the argument of erf: x/√2 or x·(1/√2).
        mutating func erfArgument(_ argument: ValueID, readBy erf: Int) -> ValueID? {
            if let (index, a, b) = binary(argument, .div, readBy: erf), isScalar(b, 2.0.squareRoot()) {
                claimed.append(index)
                return a
            }
            if let (index, a, b) = binary(argument, .mul, readBy: erf), let x = scaled(a, b, by: 0.5.squareRoot()) {
                claimed.append(index)
                return x
            }
            return nil
        }

        /// x, given the argument of tanh: √(2/π)·(x + 0.044715·x³).
        mutating func tanhArgument(_ argument: ValueID, readBy tanh: Int) -> ValueID? {
            guard let (outer, a, b) = binary(argument, .mul, readBy: tanh),
                  let inner = scaled(a, b, by: (2 / Double.pi).squareRoot()),
                  let (sum, p, q) = binary(inner, .add, readBy: outer) else { return nil }
            for (x, cubicTerm) in [(p, q), (q, p)] {
                guard let (scale, c, d) = binary(cubicTerm, .mul, readBy: sum), let cube = scaled(c, d, by: 0.044715),
                      let cubeNodes = cubeOf(x, cube, readBy: scale) else { continue }
                claimed += [outer, sum, scale] + cubeNodes
                return x
            }
            return nil
        }

        /// The nodes computing `cube` = x³ as pow(x, 3), x·(x·x) or (x·x)·x.
        func cubeOf(_ x: ValueID, _ cube: ValueID, readBy reader: Int) -> [Int]? {
            if let (index, base, exponent) = binary(cube, .pow, readBy: reader), base == x, isScalar(exponent, 3) { return [index] }
            guard let (index, a, b) = binary(cube, .mul, readBy: reader) else { return nil }
            for (single, square) in [(a, b), (b, a)] where single == x {
                if let (inner, c, d) = binary(square, .mul, readBy: index), c == x, d == x { return [index, inner] }
            }
            return nil
        }

        /// The node computing x·0.5·(1 + nonlinearity) from the output of node `nonlinearity`, and
        /// the nodes it consumes on the way.
        func outerProduct(x: ValueID, nonlinearity: Int) -> (final: Int, interior: [Int])? {
            let value = rewrite[nonlinearity].outputs[0]
            guard let plusIndex = rewrite.soleConsumer(of: value), case .binary(.add) = rewrite[plusIndex].op,
                  scaled(rewrite[plusIndex].inputs[0], rewrite[plusIndex].inputs[1], by: 1) == value else { return nil }
            let sum = rewrite[plusIndex].outputs[0]
            guard let firstIndex = rewrite.soleConsumer(of: sum), case .binary(.mul) = rewrite[firstIndex].op else { return nil }
            let first = rewrite[firstIndex]
            let other = first.inputs[0] == sum ? first.inputs[1] : first.inputs[0]
            // (x·0.5)·sum, with x·0.5 computed for this product alone.
            if let (halfIndex, a, b) = binary(other, .mul, readBy: firstIndex), scaled(a, b, by: 0.5) == x {
                return (firstIndex, [plusIndex, halfIndex])
            }
            // (x·sum)·0.5 or (0.5·sum)·x.
            guard other == x || isScalar(other, 0.5), let secondIndex = rewrite.soleConsumer(of: first.outputs[0]),
                  case .binary(.mul) = rewrite[secondIndex].op else { return nil }
            let second = rewrite[secondIndex]
            let last = second.inputs[0] == first.outputs[0] ? second.inputs[1] : second.inputs[0]
            let matches = other == x ? isScalar(last, 0.5) : last == x
            return matches ? (secondIndex, [plusIndex, firstIndex]) : nil
        }
    }
}
