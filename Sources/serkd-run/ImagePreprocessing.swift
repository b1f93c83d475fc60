import CLI
import Data
import GraphIR

/// Turns image files into a model's input batch the way timm evaluates: resize the shorter side to
/// ⌊size / crop⌋, centre-crop, scale to [0, 1], normalise by mean and std. The crop fraction and
/// normalisation are the model's own (from its metadata) unless the flags say otherwise; timm's
/// 0.875 and ImageNet's statistics for a model that records none.
struct ImagePreprocessing {
    /// The metadata key of the centre-crop fraction a model was evaluated with in training.
    static let cropFractionKey = "preprocessing.crop_fraction"

    /// `--crop-fraction` as given.
    var cropFraction: Double?
    /// `--mean` and `--std` as given (one value, or one per channel).
    var mean: [Float]?
    var std: [Float]?

    /// Reads `--crop-fraction F`, `--mean a,b,c` and `--std a,b,c`.
    init(_ arguments: inout Arguments) throws {
        cropFraction = try arguments.option("crop-fraction").map { text in
            guard let value = Double(text), value > 0, value <= 1 else { throw InvalidInput("--crop-fraction", "expected a number in (0, 1], got '\(text)'") }
            return value
        }
        func numbers(_ name: String) throws -> [Float]? {
            guard let text = arguments.option(name) else { return nil }
            let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { Float($0.trimmingCharacters(in: .whitespaces)) }
            guard !parts.isEmpty, parts.allSatisfy({ $0?.isFinite == true }) else {
                throw InvalidInput("--\(name)", "expected comma-separated numbers, got '\(text)'")
            }
            return parts.map { $0! }
        }
        mean = try numbers("mean")
        std = try numbers("std")
        guard std?.allSatisfy({ $0 > 0 }) != false else { throw InvalidInput("--std", "must be positive") }
    }

    /// The first preprocessing flag given, if any.
    var givenFlag: String? {
        cropFraction != nil ? "--crop-fraction" : mean != nil ? "--mean" : std != nil ? "--std" : nil
    }

    /// The normalisation for `channels` channels: the flags over `own` (the model's) over ImageNet's
    /// (for 3 channels; a model with other inputs and no normalisation of its own needs the flags).
    func normalization(channels: Int, own: Normalization?) throws -> Normalization {
        let defaults = own ?? (channels == 3 ? Normalization.imageNet : nil)
        guard let meanValues = mean ?? defaults?.mean, let stdValues = std ?? defaults?.std else {
            throw InvalidInput(nil, "the model records no input normalisation and takes \(channels) channels: give --mean and --std")
        }
        func expanded(_ values: [Float], _ source: String) throws -> [Float] {
            if values.count == 1 { return Array(repeating: values[0], count: channels) }
            guard values.count == channels else { throw InvalidInput(source, "has \(values.count) values, the model takes \(channels) channels") }
            return values
        }
        return Normalization(mean: try expanded(meanValues, mean == nil ? "the model's normalization.mean" : "--mean"),
                             std: try expanded(stdValues, std == nil ? "the model's normalization.std" : "--std"))
    }

    /// The images at `paths`, preprocessed into one [N, C, H, W] batch for an input of type `input`,
    /// normalised as `normalization(channels:own:)` says and cropped by `--crop-fraction`, else by
    /// `ownCropFraction` (the model's), else by 0.875.
    func batch(_ paths: [String], for input: TensorType, own: Normalization?, ownCropFraction: Double?) throws -> Tensor {
        guard input.dtype == .float32, input.shape.rank == 4, input.shape[2] == input.shape[3] else {
            throw InvalidInput(nil, "--image needs a model taking square f32 images [N, C, S, S], this one takes \(input)")
        }
        let channels = input.shape[1], size = input.shape[2]
        let transform = SampleTransform.evaluation(size: size, channels: channels, cropFraction: cropFraction ?? ownCropFraction ?? 0.875,
                                                   normalization: try normalization(channels: channels, own: own))
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
}
