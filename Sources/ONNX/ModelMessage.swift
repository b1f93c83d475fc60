import CProto
import GraphIR

/// An ONNX file parsed by protobuf-c: the `ModelProto` tree, owned and freed with it.
///
/// The file is mapped, parsed and unmapped; the tree holds protobuf-c's copies of every field.
/// Tensor decoding takes the large buffers out of the tree (see `TensorReader`), so they are not
/// copied a second time.
final class ModelMessage {
    /// The path it was read from, for messages.
    let path: String
    /// The parsed model.
    let proto: UnsafeMutablePointer<Onnx__ModelProto>

    /// Parses `path`, throwing a one-line error when it is missing, empty or not an ONNX model.
    init(path: String) throws {
        self.path = path
        let file = try MappedFile(path: path)
        guard let base = file.base else { throw InvalidInput(path, "empty file, not an ONNX model") }
        guard let proto = onnx__model_proto__unpack(nil, file.byteCount, base.assumingMemoryBound(to: UInt8.self)) else {
            throw InvalidInput(path, "not an ONNX model (the protobuf data is truncated or malformed)")
        }
        guard proto.pointee.graph != nil else {
            onnx__model_proto__free_unpacked(proto, nil)
            throw InvalidInput(path, "not an ONNX model (it has no graph)")
        }
        self.proto = proto
    }

    deinit { onnx__model_proto__free_unpacked(proto, nil) }

    /// The main graph (checked present at parse).
    var graph: UnsafeMutablePointer<Onnx__GraphProto> { proto.pointee.graph }

    /// `opset_import` as domain → version, with the default domain spelt "".
    func opsets() throws -> [String: Int] {
        var result: [String: Int] = [:]
        for entry in messages(proto.pointee.opset_import, proto.pointee.n_opset_import) {
            let domain = ONNXDomain.normalized(text(entry.pointee.domain))
            result[domain] = Int(entry.pointee.version)
        }
        return result
    }

    /// `producer_name producer_version`.
    var producer: String {
        [text(proto.pointee.producer_name), text(proto.pointee.producer_version)].filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// `metadata_props` as key → value.
    var metadataProperties: [String: String] {
        var result: [String: String] = [:]
        for entry in messages(proto.pointee.metadata_props, proto.pointee.n_metadata_props) {
            result[text(entry.pointee.key)] = text(entry.pointee.value)
        }
        return result
    }

    /// The IR version the file declares.
    var irVersion: Int { proto.pointee.has_ir_version != 0 ? Int(proto.pointee.ir_version) : 0 }
}

/// ONNX domain names.
enum ONNXDomain {
    /// `""` and `"ai.onnx"` both name the default operator set; the importer spells it `""`.
    static func normalized(_ domain: String) -> String { domain == "ai.onnx" ? "" : domain }

    /// The domain as shown to users.
    static func display(_ domain: String) -> String { domain.isEmpty ? "ai.onnx" : domain }

    /// `ai.onnx:17,com.microsoft:1`, sorted.
    static func describe(_ opsets: [String: Int]) -> String {
        opsets.sorted { $0.key < $1.key }.map { "\(display($0.key)):\($0.value)" }.joined(separator: ",")
    }
}
