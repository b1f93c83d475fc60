import GraphIR
import Runtime

extension Lowering {
    /// Kernels for the SeRKD operators.
    static func lowerSeRKD(_ op: SeRKDOp, _ node: Node, inputs: [TensorType]) throws -> SeRKDKernel {
        /// The relation losses' geometry, with the limits of their kernels checked against the node.
        func relation(chunk: Int = 1) throws -> RelationGeometry {
            let s = inputs[0].shape, t = inputs[1].shape
            guard s[1] >= 2 else {
                throw InvalidInput("node '\(node.name)'", "\(op.name) needs at least 2 tokens per image, got \(s[1])")
            }
            guard s[0] > 0, s[2] > 0, t[2] > 0 else {
                throw InvalidInput("node '\(node.name)'", "\(op.name) needs non-empty token sets, got \(s) and \(t)")
            }
            return RelationGeometry(batch: s[0], count: s[1], studentWidth: s[2], teacherWidth: t[2], chunk: chunk)
        }
        switch op {
        case .superpixelTokens(let clustering):
            let x = inputs[0].shape
            return .superpixelTokens(SuperpixelGeometry(batch: x[0], height: clustering.height, width: clustering.width, channels: x[2],
                                                        grid: clustering.grid, iterations: clustering.iterations,
                                                        countsMissingNeighbours: clustering.border == .stvit))
        case .rkdDistance(let perImageMean): return .rkdDistance(try relation(), perImageMean: perImageMean)
        case .rkdDistanceBackward(let perImageMean): return .rkdDistanceBackward(try relation(), perImageMean: perImageMean)
        case .rkdAngle(let chunk): return .rkdAngle(try relation(chunk: chunk))
        case .rkdAngleBackward(let chunk): return .rkdAngleBackward(try relation(chunk: chunk))
        }
    }
}
