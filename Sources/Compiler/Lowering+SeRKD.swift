import GraphIR
import Runtime

extension Lowering {
    /// Kernels for the SeRKD operators.
    static func lowerSeRKD(_ node: Node, inputs: [TensorType], output: TensorType) throws -> SeRKDKernel {
        if case .superpixelTokens(let clustering) = node.op {
            let x = inputs[0].shape
            return .superpixelTokens(SuperpixelGeometry(batch: x[0], height: clustering.height, width: clustering.width, channels: x[2],
                                                        grid: clustering.grid, iterations: clustering.iterations,
                                                        countsMissingNeighbours: clustering.border == .stvit))
        }
        let s = inputs[0].shape, t = inputs[1].shape
        guard s[1] >= 2 else {
            throw InvalidInput("node '\(node.name)'", "\(node.op.kindName) needs at least 2 tokens per image, got \(s[1])")
        }
        guard s[0] > 0, s[2] > 0, t[2] > 0 else {
            throw InvalidInput("node '\(node.name)'", "\(node.op.kindName) needs non-empty token sets, got \(s) and \(t)")
        }
        func geometry(chunk: Int = 1) -> RelationGeometry {
            RelationGeometry(batch: s[0], count: s[1], studentWidth: s[2], teacherWidth: t[2], chunk: chunk)
        }
        switch node.op {
        case .rkdDistance(let perImageMean): return .rkdDistance(geometry(), perImageMean: perImageMean)
        case .rkdDistanceBackward(let perImageMean): return .rkdDistanceBackward(geometry(), perImageMean: perImageMean)
        case .rkdAngle(let chunk): return .rkdAngle(geometry(chunk: chunk))
        case .rkdAngleBackward(let chunk): return .rkdAngleBackward(geometry(chunk: chunk))
        default: preconditionFailure("\(node.op.kindName) is not a SeRKD op")
        }
    }
}
