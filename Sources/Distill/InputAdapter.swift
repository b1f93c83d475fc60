import GraphIR

extension Graph {
    /// This model behind an adapter, so it can read images prepared for another model: inputs
    /// normalised with (`mean`, `std`) and `channels` channels are renormalised to this model's
    /// (`ownMean`, `ownStd`) — x' = x·σ/σ' + (μ − μ')/σ' — and grey images are repeated to three
    /// channels. A teacher trained on ImageNet statistics can then see the student's batches.
    /// Different resolutions are refused: resizing inside the graph would silently change what the
    /// teacher sees.
    public func adaptingInput(channels: Int, mean: [Float], std: [Float], ownMean: [Float], ownStd: [Float], role: String) throws -> Graph {
        guard inputs.count == 1 else { throw InvalidInput(role, "must take exactly one input (images), it takes \(inputs.count)") }
        let own = type(of: inputs[0])
        guard own.dtype == .float32, own.shape.rank == 4 else { throw InvalidInput(role, "must take images [B, C, H, W], it takes \(own)") }
        let ownChannels = own.shape[1]
        guard channels == ownChannels || channels == 1 else {
            throw InvalidInput(role, "takes \(ownChannels)-channel images, the data has \(channels) channels")
        }
        func perChannel(_ values: [Float], _ count: Int, _ what: String) throws -> [Float] {
            if values.count == count { return values }
            if values.count == 1 { return Array(repeating: values[0], count: count) }
            throw InvalidInput(role, "\(what) has \(values.count) values for \(count) channels")
        }
        let (m, s) = (try perChannel(mean, ownChannels, "the data's mean"), try perChannel(std, ownChannels, "the data's std"))
        let (om, os) = (try perChannel(ownMean, ownChannels, "the normalisation mean"), try perChannel(ownStd, ownChannels, "the normalisation std"))
        if channels == ownChannels && m == om && s == os { return self }

        var adapted = Graph(name: name)
        adapted.metadata = metadata
        var shape = own.shape
        shape[1] = channels
        let images = adapted.addInput("adapter/images", TensorType(.float32, shape))
        var x = images
        if channels != ownChannels {
            x = try adapted.apply1(.expand(own.shape), [x], name: "adapter/grey_to_rgb")
        }
        if m != om || s != os {
            let scale = adapted.addConstant("adapter/scale", Tensor(zip(s, os).map { $0 / $1 }, shape: [1, ownChannels, 1, 1]))
            let shift = adapted.addConstant("adapter/shift", Tensor((0..<ownChannels).map { (m[$0] - om[$0]) / os[$0] }, shape: [1, ownChannels, 1, 1]))
            x = try adapted.apply1(.binary(.mul), [x, scale], name: "adapter/rescale")
            x = try adapted.apply1(.binary(.add), [x, shift], name: "adapter/shift")
        }
        let map = try adapted.insert(self, prefix: "", bindings: [inputs[0]: x])
        adapted.outputs = outputs.map { map[$0]! }
        return adapted
    }
}
