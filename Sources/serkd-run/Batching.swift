import GraphIR

/// Feeds an input whose batch differs from the model's fixed batch in model-sized chunks: a model
/// imported for batch 1 still runs on 8 images (the last chunk is zero-padded and trimmed).
struct Batching {
    let chunks: [Tensor]

    init(input: Tensor, modelInput: TensorType, path: String) throws {
        guard input.dtype == modelInput.dtype else {
            throw InvalidInput(path, "holds \(input.dtype.shortName), the model takes \(modelInput)")
        }
        if input.shape == modelInput.shape {
            chunks = [input]
            return
        }
        let sample = Array(modelInput.shape.dims.dropFirst())
        guard input.shape.rank == modelInput.shape.rank, Array(input.shape.dims.dropFirst()) == sample, modelInput.shape.rank > 0 else {
            throw InvalidInput(path, "has shape \(input.shape), the model takes \(modelInput)")
        }
        let modelBatch = modelInput.shape[0]
        let sampleBytes = sample.reduce(1, *) * input.dtype.byteSize
        chunks = stride(from: 0, to: input.shape[0], by: modelBatch).map { start in
            let chunk = Tensor(zeros: input.dtype, modelInput.shape)
            let rows = min(modelBatch, input.shape[0] - start)
            chunk.rawPointer.copyMemory(from: input.rawPointer + start * sampleBytes, byteCount: rows * sampleBytes)
            return chunk
        }
    }

    /// Runs `body` on every chunk.
    func run(_ body: (Tensor) throws -> Tensor) throws -> [Tensor] { try chunks.map(body) }

    /// Concatenates per-chunk outputs along axis 0 and keeps the first `count` rows.
    static func join(_ outputs: [Tensor], count: Int) throws -> Tensor {
        let rowShape = Array(outputs[0].shape.dims.dropFirst())
        let rowBytes = rowShape.reduce(1, *) * outputs[0].dtype.byteSize
        let joined = Tensor(zeros: outputs[0].dtype, Shape([count] + rowShape))
        var row = 0
        for output in outputs {
            let rows = min(output.shape[0], count - row)
            (joined.rawPointer + row * rowBytes).copyMemory(from: output.rawPointer, byteCount: rows * rowBytes)
            row += rows
        }
        return joined
    }
}
