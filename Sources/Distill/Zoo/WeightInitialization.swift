import Data
import GraphIR

/// How a zoo weight starts: the schemes timm and torchvision use, so a model built here starts from
/// the same distributions as the original (not the same numbers: the generator is ours).
enum WeightInitialization: Hashable, Sendable {
    case zeros
    case ones
    /// N(0, std²) cut to [−2, 2] by rejection: timm's `trunc_normal_(std=…)`, whose bounds a = −2,
    /// b = 2 are absolute values, not multiples of std.
    case truncatedNormal(standardDeviation: Double)
    /// N(0, 2/fan_out) with fan_out = out channels × kernel area: torchvision's ResNet convolutions,
    /// `kaiming_normal_(mode="fan_out", nonlinearity="relu")`.
    case kaimingNormalFanOut
    /// U(±1/√fan_in) with fan_in = in features × kernel area: PyTorch's `reset_parameters` for
    /// `nn.Linear` and `nn.Conv2d`, weights (kaiming_uniform_ with a = √5) and biases alike.
    case pytorchDefault(fanIn: Int)

    /// The initial values of a weight of `shape` named `name` (its PyTorch state-dict key).
    ///
    /// Each weight draws from its own stream keyed by its name, so a weight's values depend only on
    /// the seed and the name: adding a block or changing the head does not reshuffle the others.
    func tensor(_ shape: Shape, name: String, seed: UInt64) -> Tensor {
        var generator = Xoshiro256(seed: seed, stream: [Self.streamTag, Self.nameKey(name)])
        let count = shape.elementCount
        let values: [Float]
        switch self {
        case .zeros:
            values = [Float](repeating: 0, count: count)
        case .ones:
            values = [Float](repeating: 1, count: count)
        case .truncatedNormal(let standardDeviation):
            values = (0..<count).map { _ in
                var sample: Double
                repeat { sample = generator.gaussian(standardDeviation: standardDeviation) } while sample < -2 || sample > 2
                return Float(sample)
            }
        case .kaimingNormalFanOut:
            precondition(shape.rank == 4, "fan-out initialisation is for convolution weights")
            let fanOut = shape[0] * shape[2] * shape[3]
            let standardDeviation = (2 / Double(fanOut)).squareRoot()
            values = (0..<count).map { _ in Float(generator.gaussian(standardDeviation: standardDeviation)) }
        case .pytorchDefault(let fanIn):
            let bound = 1 / Double(fanIn).squareRoot()
            values = (0..<count).map { _ in Float(generator.uniform(-bound, bound)) }
        }
        return Tensor(values, shape: shape)
    }

    /// Tags the zoo's streams apart from other users of the same seed (data loading, tokenizers).
    static let streamTag: UInt64 = 0x200_0000

    /// FNV-1a of the name's UTF-8 bytes: a stable stream key (Swift's `hashValue` changes per run).
    static func nameKey(_ name: String) -> UInt64 {
        name.utf8.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01B3 }
    }
}
