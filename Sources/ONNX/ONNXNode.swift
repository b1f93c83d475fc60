import CProto
import GraphIR

/// An ONNX attribute value, copied out of the protobuf message. Tensors stay in the message and are
/// decoded when a rule asks for them.
enum Attribute {
    case int(Int)
    case ints([Int])
    case float(Float)
    case floats([Float])
    case string(String)
    case strings([String])
    case tensor(UnsafeMutablePointer<Onnx__TensorProto>)
    /// A reference to an attribute of the calling node (inside a local function body).
    case reference(String)
    /// A kind serkd does not read (graphs, sparse tensors, type protos), by name.
    case unsupported(String)

    init(_ proto: UnsafeMutablePointer<Onnx__AttributeProto>) {
        let a = proto.pointee
        let reference = text(a.ref_attr_name)
        if !reference.isEmpty {
            self = .reference(reference)
            return
        }
        // Old files may omit `type`; then the field that is set decides.
        let type = a.has_type != 0 ? a.type.rawValue : 0
        switch type {
        case 1: self = .float(a.f)
        case 2: self = .int(Int(a.i))
        case 3: self = .string(text(a.s))
        case 4: self = a.t.map { .tensor($0) } ?? .unsupported("empty tensor")
        case 5, 10: self = .unsupported("graph")
        case 6: self = .floats(scalars(a.floats, a.n_floats))
        case 7: self = .ints(scalars(a.ints, a.n_ints).map { Int($0) })
        case 8: self = .strings(scalars(a.strings, a.n_strings).map(text))
        case 9: self = .unsupported("tensor list")
        case 11, 12: self = .unsupported("sparse tensor")
        case 13, 14: self = .unsupported("type")
        default:
            if a.has_f != 0 { self = .float(a.f) }
            else if a.has_i != 0 { self = .int(Int(a.i)) }
            else if a.has_s != 0 { self = .string(text(a.s)) }
            else if let t = a.t { self = .tensor(t) }
            else if a.n_floats > 0 { self = .floats(scalars(a.floats, a.n_floats)) }
            else if a.n_ints > 0 { self = .ints(scalars(a.ints, a.n_ints).map { Int($0) }) }
            else if a.g != nil || a.n_graphs > 0 { self = .unsupported("graph") }
            else { self = .ints([]) }
        }
    }
}

/// One ONNX node with its attributes read out of the message. Names of omitted optional inputs
/// and outputs are empty strings, as in ONNX.
struct ONNXNode {
    var name: String
    var opType: String
    /// Normalised: the default domain is "".
    var domain: String
    var inputs: [String]
    var outputs: [String]
    var attributes: [String: Attribute]

    init(name: String, opType: String, domain: String, inputs: [String], outputs: [String], attributes: [String: Attribute]) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    init(_ proto: UnsafeMutablePointer<Onnx__NodeProto>) {
        let n = proto.pointee
        var attributes: [String: Attribute] = [:]
        for attribute in messages(n.attribute, n.n_attribute) {
            attributes[text(attribute.pointee.name)] = Attribute(attribute)
        }
        self.init(name: text(n.name), opType: text(n.op_type), domain: ONNXDomain.normalized(text(n.domain)),
                  inputs: texts(n.input, n.n_input), outputs: texts(n.output, n.n_output), attributes: attributes)
    }

    /// The node's name, or its first output's when it has none (conformance cases leave names empty).
    var label: String { name.isEmpty ? (outputs.first { !$0.isEmpty } ?? opType) : name }

    // Typed attribute access. A wrong type is the file's fault, so it throws `LoweringError.invalid`.

    func int(_ key: String) throws -> Int? {
        switch attributes[key] {
        case nil: return nil
        case .int(let value): return value
        default: throw LoweringError.invalid("attribute '\(key)' must be an integer")
        }
    }

    func int(_ key: String, default value: Int) throws -> Int { try int(key) ?? value }

    func ints(_ key: String) throws -> [Int]? {
        switch attributes[key] {
        case nil: return nil
        case .ints(let value): return value
        case .int(let value): return [value]
        default: throw LoweringError.invalid("attribute '\(key)' must be a list of integers")
        }
    }

    func float(_ key: String, default value: Float) throws -> Float {
        switch attributes[key] {
        case nil: return value
        case .float(let value): return value
        case .int(let value): return Float(value)
        default: throw LoweringError.invalid("attribute '\(key)' must be a float")
        }
    }

    func floats(_ key: String) throws -> [Float]? {
        switch attributes[key] {
        case nil: return nil
        case .floats(let value): return value
        case .float(let value): return [value]
        default: throw LoweringError.invalid("attribute '\(key)' must be a list of floats")
        }
    }

    func string(_ key: String, default value: String) throws -> String {
        switch attributes[key] {
        case nil: return value
        case .string(let value): return value
        default: throw LoweringError.invalid("attribute '\(key)' must be a string")
        }
    }
}

/// Why a node could not be lowered.
enum LoweringError: Error {
    /// serkd does not implement this op, attribute value or dtype: collected and reported together.
    case unsupported(String)
    /// The file is wrong (bad attribute type, impossible shapes): reported at once.
    case invalid(String)
}
