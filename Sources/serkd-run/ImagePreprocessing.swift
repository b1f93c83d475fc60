import CLI
import Data
import GraphIR

/// Turns image files into a model's input batch the way timm evaluates: resize the shorter side to
/// ⌊size / crop⌋, centre-crop, scale to [0, 1], normalise by mean and std (ImageNet's by default).
struct ImagePreprocessing {
    var cropFraction: Double
    var normalization: Normalization

    /// Reads `--crop-fraction F`, `--mean a,b,c` and `--std a,b,c`.
    init(_ arguments: inout Arguments) throws {
        cropFraction = try arguments.option("crop-fraction").map { text in
            guard let value = Double(text), value > 0, value <= 1 else { throw InvalidInput("--crop-fraction", "expected a number in (0, 1], got '\(text)'") }
            return value
        } ?? 0.875
        func triple(_ name: String, default value: [Float]) throws -> [Float] {
            guard let text = arguments.option(name) else { return value }
            let parts = text.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == value.count || parts.count == 1 else {
                throw InvalidInput("--\(name)", "expected \(value.count) comma-separated numbers, got '\(text)'")
            }
            return parts
        }
        normalization = Normalization(mean: try triple("mean", default: Normalization.imageNet.mean),
                                      std: try triple("std", default: Normalization.imageNet.std))
        guard normalization.std.allSatisfy({ $0 > 0 }) else { throw InvalidInput("--std", "must be positive") }
    }

    /// The images at `paths`, preprocessed into one [N, C, H, W] batch for an input of type `input`.
    func batch(_ paths: [String], for input: TensorType) throws -> Tensor {
        guard input.dtype == .float32, input.shape.rank == 4, input.shape[2] == input.shape[3] else {
            throw InvalidInput(nil, "--image needs a model taking square f32 images [N, C, S, S], this one takes \(input)")
        }
        let channels = input.shape[1], size = input.shape[2]
        guard normalization.mean.count == channels || normalization.mean.count == 1 else {
            throw InvalidInput("--mean", "has \(normalization.mean.count) values, the model takes \(channels) channels")
        }
        let perChannel = Normalization(mean: expand(normalization.mean, channels), std: expand(normalization.std, channels))
        let transform = SampleTransform.evaluation(size: size, channels: channels, cropFraction: cropFraction, normalization: perChannel)
        let batch = Tensor(zeros: .float32, [paths.count, channels, size, size])
        var generator = Xoshiro256(seed: 0)
        for (index, path) in paths.enumerated() {
            let image = try Image(contentsOf: path)
            do {
                try transform.apply(image, into: batch.rawPointer.assumingMemoryBound(to: Float.self) + index * channels * size * size, using: &generator)
            } catch let error as InvalidInput {
                throw error.about(path)
            }
        }
        return batch
    }

    private func expand(_ values: [Float], _ count: Int) -> [Float] { values.count == 1 ? Array(repeating: values[0], count: count) : values }
}
