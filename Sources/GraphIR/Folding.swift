import Tensor

/// When replacing a node by its value at compile time pays: shared by the ONNX importer (shape
/// arithmetic) and the compiler (the frozen teacher's constant subgraphs).
public enum Folding {
    /// Whether folding a pure node with these output `types` and constant `inputs` keeps the model
    /// from growing: results at most as large as the inputs (a transpose, a slice), or small
    /// non-float results (shape arithmetic).
    public static func isWorthIt(_ types: [TensorType], _ inputs: [Tensor]) -> Bool {
        let produced = types.reduce(0) { $0 + $1.shape.elementCount }
        let consumed = inputs.reduce(0) { $0 + $1.elementCount }
        if produced <= consumed { return true }
        return types.allSatisfy { $0.dtype != .float32 } && produced <= 1 << 16
    }
}
