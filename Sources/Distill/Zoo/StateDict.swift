import Data
import GraphIR

/// A PyTorch state dict: weights and buffers by key (`blocks.0.attn.qkv.weight`,
/// `layer1.0.bn1.running_var`). Zoo graphs name their weights by these keys, so a dict saved from
/// the matching timm or torchvision model loads into them one to one.
public struct StateDict: Sendable {
    /// The tensors by key.
    public var tensors: [String: Tensor]

    public init(_ tensors: [String: Tensor]) { self.tensors = tensors }

    /// Reads an `.npz` holding one array per key, as written by
    /// `numpy.savez(path, **{k: v.numpy() for k, v in model.state_dict().items()})` (float64 arrays
    /// load as float32).
    public init(npz path: String) throws {
        let archive = try ZipArchive(path: path)
        var tensors: [String: Tensor] = [:]
        for entry in archive.entries where entry.name.hasSuffix(".npy") {
            let bytes = try archive.contents(of: entry)
            do {
                tensors[String(entry.name.dropLast(4))] = try bytes.withUnsafeBytes { try NumPyFile.decode($0) }
            } catch let error as InvalidInput {
                throw InvalidInput(path, "member '\(entry.name)': \(error.problem)")
            }
        }
        self.tensors = tensors
    }

    /// Keys that are bookkeeping rather than weights: BatchNorm's `num_batches_tracked` counter only
    /// matters for a momentum of None, which serkd does not use.
    static func isBookkeeping(_ key: String) -> Bool { key.hasSuffix("num_batches_tracked") }
}

extension Graph {
    /// Replaces the data of every weight (parameter or state value) with the tensor of the same
    /// name in `stateDict`, like PyTorch's strict `load_state_dict`: every weight must be present with
    /// its shape, and every entry must name a weight (BatchNorm's `num_batches_tracked` excepted).
    /// `source` names the dict in errors. Nothing changes when an error is thrown.
    public mutating func load(_ stateDict: StateDict, source: String) throws {
        var replacements: [(ValueID, Tensor)] = []
        var used = Set<String>()
        for id in dataValues where self[id].kind == .parameter || self[id].kind == .state {
            let value = self[id]
            guard let tensor = stateDict.tensors[value.name] else {
                throw InvalidInput(source, "no entry for the model's weight '\(value.name)' \(value.type)")
            }
            guard tensor.dtype == value.type.dtype, tensor.shape == value.type.shape else {
                throw InvalidInput(source, "'\(value.name)' is \(tensor.dtype.shortName)\(tensor.shape), the model's weight is \(value.type)")
            }
            replacements.append((id, tensor))
            used.insert(value.name)
        }
        let unexpected = stateDict.tensors.keys.filter { !used.contains($0) && !StateDict.isBookkeeping($0) }.sorted()
        guard unexpected.isEmpty else {
            throw InvalidInput(source, "entries the model has no weight for: \(unexpected.prefix(5).joined(separator: ", "))"
                               + (unexpected.count > 5 ? " and \(unexpected.count - 5) more" : ""))
        }
        for (id, tensor) in replacements { tensors[id] = tensor }
    }
}
