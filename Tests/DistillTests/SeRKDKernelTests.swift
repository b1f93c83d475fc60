import Compiler
import GraphIR
@testable import Reference
@testable import Runtime
import Tensor
import Testing

/// The float32 SeRKD kernels, run through lowering and the executor, against the float64 references.
/// The angle kernels use the Gram form (METHOD §5.2) and the references the direct pairwise form, so
/// these tests also check that the rewrite is exact up to float32 rounding.
@Suite struct SeRKDKernelTests {
    struct TokenMap: CustomTestStringConvertible, Sendable {
        var batch, height, width, channels, grid: Int
        var testDescription: String { "\(batch)×\(height)×\(width)×\(channels) grid \(grid)" }
    }

    static let maps = [
        TokenMap(batch: 2, height: 4, width: 4, channels: 5, grid: 2),
        TokenMap(batch: 2, height: 8, width: 8, channels: 16, grid: 2),
        TokenMap(batch: 2, height: 7, width: 7, channels: 32, grid: 1),
        TokenMap(batch: 3, height: 6, width: 6, channels: 7, grid: 3),
    ]

    @Test("superpixel tokens and Q̂ match the reference (tolerance 2e-6 relative)",
          arguments: maps, [(0, SuperpixelBorder.stvit), (1, .stvit), (2, .stvit), (1, .mask), (2, .mask)])
    func superpixelTokens(map: TokenMap, settings: (iterations: Int, border: SuperpixelBorder)) throws {
        let x = SeRKDCheck.tokens([map.batch, map.height * map.width, map.channels], seed: 31, offset: 0.5)
        let op = Op.superpixelTokens(SuperpixelClustering(height: map.height, width: map.width, grid: map.grid,
                                                          iterations: settings.iterations, border: settings.border))
        let actual = try SeRKDCheck.run(op, [x]), expected = try Reference.evaluate(op, [x])
        #expect(SeRKDCheck.relativeError(actual[0], expected[0]) < 2e-6, "S")
        #expect(SeRKDCheck.relativeError(actual[1], expected[1]) < 2e-6, "Q̂")
    }

    struct TokenSets: CustomTestStringConvertible, Sendable {
        var batch, count, studentWidth, teacherWidth: Int
        /// Relative tolerance of the Gram-form angle gradient against the direct form.
        var angleTolerance = 1e-5
        var testDescription: String { "B \(batch), N \(count), Ds \(studentWidth), Dt \(teacherWidth)" }
    }

    static let sets = [
        TokenSets(batch: 2, count: 16, studentWidth: 5, teacherWidth: 7),
        TokenSets(batch: 2, count: 49, studentWidth: 32, teacherWidth: 12),
        // Nine tokens in a 2-D square: some pairs lie within 1/20 of the spread, and the float32
        // rounding of their Gram entries grows by (spread/distance)² in ‖x_j − x_i‖² (measured 1.2e-5).
        TokenSets(batch: 3, count: 9, studentWidth: 2, teacherWidth: 3, angleTolerance: 3e-5),
    ]

    /// Student tokens far from the origin (a common offset real features have) and teacher tokens near it.
    static func inputs(_ sets: TokenSets, upstream: Float = 0.75) -> [Tensor] {
        [SeRKDCheck.tokens([sets.batch, sets.count, sets.studentWidth], seed: 41, offset: 4),
         SeRKDCheck.tokens([sets.batch, sets.count, sets.teacherWidth], seed: 42), Tensor(scalar: upstream)]
    }

    @Test("the distance loss and its gradient match the reference (1e-5 relative), μ per image and per batch",
          arguments: sets, [true, false])
    func distance(sets: TokenSets, perImageMean: Bool) throws {
        let inputs = Self.inputs(sets)
        let forward = Op.rkdDistance(perImageMean: perImageMean), backward = Op.rkdDistanceBackward(perImageMean: perImageMean)
        let loss = try SeRKDCheck.run(forward, Array(inputs.prefix(2)))[0]
        #expect(SeRKDCheck.relativeError(loss, try Reference.evaluate(forward, Array(inputs.prefix(2)))[0]) < 1e-5)
        let gradient = try SeRKDCheck.run(backward, inputs)[0]
        #expect(SeRKDCheck.relativeError(gradient, try Reference.evaluate(backward, inputs)[0]) < 1e-5)
    }

    @Test("the Gram-form angle loss and its gradient match the direct reference (1e-5 relative, 3e-5 for 2-D tokens) for chunks 1, 7 and N",
          arguments: sets)
    func angle(sets: TokenSets) throws {
        let inputs = Self.inputs(sets)
        let expectedLoss = try Reference.evaluate(.rkdAngle(chunk: 1), Array(inputs.prefix(2)))[0]
        let expectedGradient = try Reference.evaluate(.rkdAngleBackward(chunk: 1), inputs)[0]
        var losses: [Tensor] = [], gradients: [Tensor] = []
        for chunk in [1, 7, sets.count] {
            losses.append(try SeRKDCheck.run(.rkdAngle(chunk: chunk), Array(inputs.prefix(2)))[0])
            gradients.append(try SeRKDCheck.run(.rkdAngleBackward(chunk: chunk), inputs)[0])
            #expect(SeRKDCheck.relativeError(losses.last!, expectedLoss) < 1e-5, "loss, chunk \(chunk)")
            #expect(SeRKDCheck.relativeError(gradients.last!, expectedGradient) < sets.angleTolerance, "gradient, chunk \(chunk)")
        }
        // The forward sums each anchor row alone, so the chunk cannot change it; the backward's float
        // partial sums per chunk may move the last bits.
        #expect(losses.allSatisfy { $0.bitwiseEqual(losses[0]) })
        for gradient in gradients.dropFirst() { #expect(SeRKDCheck.relativeError(gradient, gradients[0]) < 1e-6) }
    }

    @Test("coincident tokens (a flat background) give the direct form's zero angles, not rounding noise divided by zero")
    func coincidentTokens() throws {
        var inputs = Self.inputs(TokenSets(batch: 2, count: 16, studentWidth: 5, teacherWidth: 7))
        // Tokens 3, 4 and 9 repeat token 0 in both sets, as superpixels of a black border do.
        for t in 0..<2 {
            let width = inputs[t].shape[2]
            var values = inputs[t].floats
            for b in 0..<2 { for copy in [3, 4, 9] { for d in 0..<width { values[(b * 16 + copy) * width + d] = values[(b * 16) * width + d] } } }
            inputs[t] = Tensor(values, shape: inputs[t].shape)
        }
        let expected = try Reference.evaluate(.rkdAngle(chunk: 1), Array(inputs.prefix(2)))[0]
        let loss = try SeRKDCheck.run(.rkdAngle(chunk: 4), Array(inputs.prefix(2)))[0]
        #expect(SeRKDCheck.relativeError(loss, expected) < 1e-5)
        let gradient = try SeRKDCheck.run(.rkdAngleBackward(chunk: 4), inputs)[0]
        #expect(gradient.floats.allSatisfy { $0.isFinite && abs($0) < 1 })
    }

    @Test("splitting an image's anchors across workers gives the one-worker result", arguments: [1, 3, 3 * 6])
    func workerSplits(batch: Int) throws {
        // 6 anchor blocks per image over 5 workers: shares start inside images, so images are summed in pieces.
        let sets = TokenSets(batch: batch, count: 11, studentWidth: 4, teacherWidth: 6)
        let inputs = Self.inputs(sets)
        var geometry = RelationGeometry(batch: batch, count: 11, studentWidth: 4, teacherWidth: 6, chunk: 2)
        func gradient(slots: Int) throws -> Tensor {
            geometry.slots = slots
            let kernel = SeRKDKernel.rkdAngleBackward(geometry)
            let result = Tensor(zeros: .float32, inputs[0].shape)
            let workspace = UnsafeMutableRawPointer.allocate(byteCount: kernel.workspaceBytes, alignment: 64)
            defer { workspace.deallocate() }
            try kernel.run(inputs.map { UnsafeRawPointer($0.rawPointer) }, [result.rawPointer], workspace: workspace)
            return result
        }
        let expected = try Reference.evaluate(.rkdAngleBackward(chunk: 2), inputs)[0]
        let single = try gradient(slots: 1)
        #expect(SeRKDCheck.relativeError(single, expected) < 1e-5)
        #expect(SeRKDCheck.relativeError(try gradient(slots: min(5, batch * 6)), single) < 1e-6)
    }

    @Test("the angle kernels' workspace at (B, N, D) = (64, 196, 768) stays far below the direct form's B·N²·D and B·N³ tensors")
    func workspace() {
        let geometry = RelationGeometry(batch: 64, count: 196, studentWidth: 768, teacherWidth: 768, chunk: 16)
        let forward = SeRKDKernel.rkdAngle(geometry).workspaceBytes
        let backward = SeRKDKernel.rkdAngleBackward(geometry).workspaceBytes
        let direct = 64 * 196 * 196 * 768 * 4, angles = 64 * 196 * 196 * 196 * 4
        #expect(backward >= forward)
        #expect(backward < 64 << 20, "\(backward) bytes")  // Gram matrices, Double dG, per-worker rows
        #expect(backward * 40 < min(direct, angles))
    }

    @Test("a relation loss over single tokens is refused when the plan is made")
    func singleToken() throws {
        let tokens = Tensor(zeros: .float32, [2, 1, 3])
        #expect(throws: InvalidInput.self) { try SeRKDCheck.run(.rkdAngle(chunk: 4), [tokens, tokens]) }
        #expect(throws: InvalidInput.self) { try SeRKDCheck.run(.rkdDistance(perImageMean: true), [tokens, tokens]) }
    }
}
