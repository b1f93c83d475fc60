import Foundation
import Tensor

/// The stable, human-readable form of a graph, used by `--dump`, in tests and in bug reports.
///
/// ```
/// graph "tiny" {
///   input %x: f32[2,3]
///   param %w: f32[3,4] = <48 bytes>
///   const %c: i64[2] = [1, 2]
///   %y: f32[2,4] = matmul(%x, %w) {transpose_a=0, transpose_b=0} @"fc"
///   output %y
/// }
/// ```
/// Data of up to `inlineLimit` elements is printed in full, so small graphs round-trip through
/// `Graph(text:)`; larger data is summarised by its size.
extension Graph {
    /// Tensors with at most this many elements are printed in full.
    public static let inlineLimit = 16

    /// The text form.
    public var text: String {
        var lines = ["graph \(TextName.quote(name)) {"]
        for key in metadata.keys.sorted() {
            lines.append("  meta \(TextName.quote(key)) = \(TextName.quote(metadata[key]!))")
        }
        for (index, value) in values.enumerated() where value.kind != .intermediate {
            let id = ValueID(index)
            let keyword = switch value.kind {
            case .input: "input"
            case .parameter: "param"
            case .state: "state"
            default: "const"
            }
            var line = "  \(keyword) %\(TextName.quote(value.name)): \(value.type)"
            if let tensor = tensors[id] {
                line += " = " + (tensor.elementCount <= Self.inlineLimit ? Self.literal(tensor) : "<\(tensor.byteCount) bytes>")
            }
            lines.append(line)
        }
        for node in nodes {
            let outs = node.outputs.map { "%\(TextName.quote(self[$0].name)): \(self[$0].type)" }.joined(separator: ", ")
            let args = node.inputs.map { "%" + TextName.quote(self[$0].name) }.joined(separator: ", ")
            let attributes = node.op.attributes.map { "\($0.name)=\($0.value)" }.joined(separator: ", ")
            lines.append("  \(outs) = \(node.op.kindName)(\(args))\(attributes.isEmpty ? "" : " {\(attributes)}") @\(TextName.quote(node.name))")
        }
        lines.append("  output " + outputs.map { "%" + TextName.quote(self[$0].name) }.joined(separator: ", "))
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    static func literal(_ tensor: Tensor) -> String {
        let values: [String]
        switch tensor.dtype {
        case .int64: values = tensor.int64s.map(String.init)
        case .bool: values = tensor.bools.map { $0 ? "1" : "0" }
        default: values = tensor.doubles.map { String(Float($0)) }
        }
        return "[" + values.joined(separator: ", ") + "]"
    }
}

/// Quoting of names in the text form: bare when made of letters, digits and `_.:/-+`, else in
/// double quotes with `\"` and `\\` escaped.
enum TextName {
    static func isBare(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || "_.:/-+".contains(c))
    }

    static func quote(_ name: String) -> String {
        if !name.isEmpty && name.allSatisfy(isBare) { return name }
        return "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
