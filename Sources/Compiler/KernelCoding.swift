import Foundation
import Runtime
import Tensor

/// Kernels as plan files store them: the JSON of their `Codable` form.
///
/// JSON rather than a binary encoding because it names every field: a plan from a build whose kernels
/// differ fails to decode with the missing or unexpected field named, rather than being misread; a
/// step can be read with `strings`; and the steps of a ViT-B training plan take a few hundred KB,
/// nothing beside its tensors. Keys are sorted so that one plan always gives the same bytes, and
/// infinities and NaN (clip bounds, pad values) are written as strings, which JSON lacks.
struct KernelCoding {
    private let encoder: JSONEncoder
    private let decoder: JSONDecoder

    init() {
        encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    }

    /// The kernel's JSON text.
    func encode(_ kernel: Kernel) throws -> String {
        String(decoding: try encoder.encode(kernel), as: UTF8.self)
    }

    /// The kernel `text` encodes, or a one-line description of why it does not decode.
    func decode(_ text: String) throws -> Kernel {
        do {
            return try decoder.decode(Kernel.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw InvalidInput(nil, Self.describe(error))
        } catch {
            throw InvalidInput(nil, "\(error)")
        }
    }

    /// A decoding error as one line: what was wrong and where in the kernel's JSON.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ key: CodingKey? = nil) -> String {
            let keys = (context.codingPath + (key.map { [$0] } ?? [])).map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "" : " at '\(keys.joined(separator: "."))'"
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing field\(path(context, key))"
        case .typeMismatch(let type, let context): return "expected \(type)\(path(context))"
        case .valueNotFound(let type, let context): return "expected \(type)\(path(context)), found null"
        case .dataCorrupted(let context): return context.debugDescription.split(separator: "\n").first.map(String.init).map { $0 + path(context) } ?? "corrupt"
        @unknown default: return "\(error)"
        }
    }
}
