import Autodiff
import GraphIR
import Reference
import Testing

/// SplitMix64: a fixed, seedable sequence, so every test draws the same numbers on every run.
struct TestRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `range`, rounded to a multiple of 2⁻¹⁰ so that finite-difference points are exact.
    mutating func uniform(_ range: ClosedRange<Double>) -> Float {
        let unit = Double(next() >> 11) / Double(1 << 53)
        return quantized(range.lowerBound + unit * (range.upperBound - range.lowerBound))
    }

    /// A float32 tensor of uniform values in `range` (multiples of 2⁻¹⁰).
    mutating func tensor(_ shape: Shape, _ range: ClosedRange<Double> = -1...1) -> Tensor {
        Tensor((0..<shape.elementCount).map { _ in uniform(range) }, shape: shape)
    }

    /// Values of magnitude in `magnitudes` with random signs: safe divisors.
    mutating func awayFromZero(_ shape: Shape, _ magnitudes: ClosedRange<Double> = 0.5...1.5) -> Tensor {
        Tensor((0..<shape.elementCount).map { _ in uniform(magnitudes) * (next() & 1 == 0 ? 1 : -1) }, shape: shape)
    }

    /// `offset + k·spacing` for distinct integers k in a random order: no two elements closer than
    /// `spacing`, so a finite-difference step below spacing/2 never reorders them (max, pooling).
    mutating func separated(_ shape: Shape, spacing: Double = 0.125, offset: Double = 0) -> Tensor {
        var ranks = Array(0..<shape.elementCount)
        for i in ranks.indices.reversed() where i > 0 { ranks.swapAt(i, Int(next() % UInt64(i + 1))) }
        let centre = Double(shape.elementCount - 1) / 2
        return Tensor(ranks.map { quantized(offset + (Double($0) - centre.rounded(.down)) * spacing) }, shape: shape)
    }
}

/// `value` rounded to the nearest multiple of 2⁻¹⁰.
func quantized(_ value: Double) -> Float { Float((value * 1024).rounded() / 1024) }

/// The finite-difference step: a power of two, so x ± h and x ± 2h are exact for the quantised
/// inputs, and large enough that float32 rounding of the loss stays far below the tolerance.
let finiteDifferenceStep = 0x1p-5

/// The default tolerance of `checkGradients`, relative to the gradient's largest magnitude.
let gradientTolerance = 1e-4

/// A forward graph with one output y, extended by `checkGradients` with the loss L = Σ w ⊙ y.
struct GradientCase {
    var graph: Graph
    /// Values for the graph inputs, by name; float32 inputs not listed get uniform values in [−1, 1].
    var values: [String: Tensor] = [:]

    init(_ graph: Graph, values: [String: Tensor] = [:]) {
        self.graph = graph
        self.values = values
    }

    init(text: String, values: [String: Tensor] = [:]) throws {
        self.init(try Graph(text: text), values: values)
    }

    /// A graph applying `op` once to inputs `x0`, `x1`, … of the given types; its first output is y.
    init(_ op: Op, _ inputs: [TensorType], values: [String: Tensor] = [:]) throws {
        var graph = Graph(name: op.kindName)
        let ids = inputs.enumerated().map { graph.addInput("x\($0)", $1) }
        graph.outputs = [try graph.apply(op, ids, name: op.kindName)[0]]
        self.init(graph, values: values)
    }
}

/// The outcome of a gradient check, for further assertions.
struct CheckedGradients {
    /// The forward graph with the loss and the backward nodes appended.
    var graph: Graph
    var gradients: Gradients
    /// Analytic gradients by value name.
    var analytic: [String: Tensor]
    /// Number of nodes before autodiff ran.
    var forwardNodeCount: Int
}

/// Differentiates L = Σ w ⊙ y, where y is the case's output and w fixed uniform weights in [−1, 1]
/// (so every output element matters), with respect to the named values, and checks each gradient
/// element against the fourth-order central difference
///
///     (8·(L(x + h) − L(x − h)) − (L(x + 2h) − L(x − 2h))) / 12h,   h = 2⁻⁵,
///
/// both evaluated with `Reference.run`. Passes when max |analytic − FD| ≤ tolerance ·
/// max(‖FD‖∞, 0.1) for every value. Also checks that the differentiated graph verifies.
@discardableResult
func checkGradients(_ testCase: GradientCase, withRespectTo names: [String], tolerance: Double = gradientTolerance, seed: UInt64 = 7,
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> CheckedGradients {
    var graph = testCase.graph
    var random = TestRandom(seed: seed)
    let y = try #require(graph.outputs.first, sourceLocation: sourceLocation)
    let weights = graph.addConstant("check/weights", random.tensor(graph.type(of: y).shape))
    let weighted = try graph.apply1(.binary(.mul), [y, weights], name: "check/weighted")
    let rank = graph.type(of: y).shape.rank
    let loss = rank == 0 ? weighted : try graph.apply1(.reduce(.sum, axes: Array(0..<rank), keepDims: false), [weighted], name: "check/loss")
    graph.outputs = [loss]

    var inputs: [Tensor] = []
    for id in graph.inputs {
        let name = graph[id].name
        if let given = testCase.values[name] {
            inputs.append(given)
        } else {
            let type = graph.type(of: id)
            try #require(type.dtype == .float32, "input '\(name)' needs a value", sourceLocation: sourceLocation)
            inputs.append(random.tensor(type.shape))
        }
    }
    for (name, tensor) in testCase.values {
        if let id = graph.value(named: name), graph.tensors[id] != nil { graph.tensors[id] = tensor }
    }

    let ids = try names.map { name in try #require(graph.value(named: name), "no value '\(name)'", sourceLocation: sourceLocation) }
    var differentiated = graph
    let gradients = try Autodiff.gradients(of: loss, withRespectTo: ids, in: &differentiated)
    try Verifier.verify(differentiated)
    let gradientIDs = try ids.map { id in try #require(gradients[id], "'\(graph[id].name)' got no gradient", sourceLocation: sourceLocation) }
    differentiated.outputs = [loss] + gradientIDs
    let results = try Reference.run(differentiated, inputs: inputs)

    func lossAt(_ id: ValueID, _ tensor: Tensor) throws -> Double {
        var perturbed = graph, arguments = inputs
        if let position = graph.inputs.firstIndex(of: id) { arguments[position] = tensor } else { perturbed.tensors[id] = tensor }
        return try Reference.run(perturbed, inputs: arguments)[0].doubles[0]
    }

    var analytic: [String: Tensor] = [:]
    for (k, id) in ids.enumerated() {
        let base = (graph.inputs.firstIndex(of: id).map { inputs[$0] } ?? graph.tensors[id])!.floats
        let shape = graph.type(of: id).shape
        var estimates: [Double] = []
        for j in base.indices {
            func at(_ offset: Double) throws -> Double {
                var values = base
                values[j] = Float(Double(base[j]) + offset * finiteDifferenceStep)
                return try lossAt(id, Tensor(values, shape: shape))
            }
            let near = try at(1) - at(-1), far = try at(2) - at(-2)
            estimates.append((8 * near - far) / (12 * finiteDifferenceStep))
        }
        let exact = results[k + 1].doubles
        let scale = max(estimates.map(abs).max() ?? 0, 0.1)
        let errors = zip(exact, estimates).map { abs($0 - $1) }
        let worst = errors.indices.max { errors[$0] < errors[$1] }
        if let worst {
            #expect(errors[worst] <= tolerance * scale,
                    "d\(graph[id].name)[\(worst)]: autodiff \(exact[worst]), finite difference \(estimates[worst]) (error \(errors[worst] / scale) of \(scale))",
                    sourceLocation: sourceLocation)
        }
        analytic[graph[id].name] = results[k + 1]
    }
    return CheckedGradients(graph: differentiated, gradients: gradients, analytic: analytic, forwardNodeCount: graph.nodes.count)
}
