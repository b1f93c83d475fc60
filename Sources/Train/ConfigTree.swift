import Foundation
import Tensor

/// A run configuration as read: a JSON tree, read strictly. Every key a reader does not ask for is an
/// error, every type mismatch names the key path ("loss.angle.weight: expected a number, got \"x\"").
///
/// Overrides (`--set loss.angle.weight=0.5`) are applied to the tree before reading, so they obey the
/// same checks as the file.
public typealias ConfigTree = JSON

extension JSON {
    /// A float32 setting as the shortest decimal that reads back as the same float (`0.286`, not
    /// the `0.28600001335144043` of its exact double).
    public static func float(_ value: Float) -> ConfigTree {
        value.isFinite ? .number(Double(String(value))!) : .number(Double(value))
    }

    /// A short rendering for messages.
    var brief: String {
        let text = description.replacingOccurrences(of: "\n", with: " ")
        return text.count > 40 ? String(text.prefix(37)) + "…" : text
    }

    /// The tree with the value at the dotted `path` replaced (objects are created as needed).
    public func setting(_ path: [String], to value: ConfigTree) -> ConfigTree {
        guard let head = path.first else { return value }
        var members: [(key: String, value: ConfigTree)] = []
        if case .object(let existing) = self { members = existing }
        if let index = members.firstIndex(where: { $0.key == head }) {
            members[index].value = members[index].value.setting(Array(path.dropFirst()), to: value)
        } else {
            members.append((head, ConfigTree.null.setting(Array(path.dropFirst()), to: value)))
        }
        return .object(members)
    }

    /// Applies `key.path=value` (the value parsed as JSON when it is valid JSON, else as a string).
    public func overriding(_ assignment: String) throws -> ConfigTree {
        guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
            throw InvalidInput("--set \(assignment)", "expected key.path=value")
        }
        let path = assignment[..<equals].split(separator: ".").map(String.init)
        let text = String(assignment[assignment.index(after: equals)...])
        let value = (try? ConfigTree(json: text, source: "--set")) ?? .string(text)
        return setting(path, to: value)
    }
}
