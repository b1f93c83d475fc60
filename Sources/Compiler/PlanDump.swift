import Runtime

/// A plan as text for people: one line per step, then the buffers (`serkd-compile --dump`).
public enum PlanDump {
    /// Every step (index, kernel, key geometry, operands → results with shapes and places, workspace),
    /// then every buffer.
    public static func text(_ plan: Plan) -> String {
        var lines: [String] = ["steps (\(plan.steps.count), arena \(plan.arenaBytes) bytes):"]
        for (index, step) in plan.steps.enumerated() {
            let operands = step.operands.map { describe($0, in: plan) }.joined(separator: ", ")
            let results = step.results.map { describe($0, in: plan) }.joined(separator: ", ")
            var line = "  \(index): \(step.kernel.name) \(geometry(step.kernel))  (\(operands)) -> (\(results))"
            if let offset = step.workspaceOffset, step.kernel.workspaceBytes > 0 {
                line += "  workspace \(step.kernel.workspaceBytes) B @\(offset)"
            }
            lines.append(line + "  # \(step.label)")
        }
        lines.append("buffers (\(plan.buffers.count)):")
        for (index, buffer) in plan.buffers.enumerated() {
            lines.append("  b\(index) \(buffer.name): \(buffer.dtype.shortName)\(buffer.shape) \(place(buffer)), \(buffer.byteCount) B")
        }
        let inputs = plan.inputs.map { "\($0)" }.joined(separator: ", "), outputs = plan.outputs.map { "\($0)" }.joined(separator: ", ")
        lines.append("inputs: \(inputs)")
        lines.append("outputs: \(outputs)")
        return lines.joined(separator: "\n")
    }

    /// The kernel's resolved geometry as `field=value` pairs (set flags by name alone), read from its
    /// stored properties, so every kernel (fused ones added later too) prints without a case of its
    /// own. Long arrays are elided.
    public static func geometry(_ kernel: Kernel) -> String {
        guard var payload = Mirror(reflecting: kernel).children.first?.value else { return "" }
        // Families of kernels (gradient, SeRKD, optimizer, loss) wrap an enum whose case the kernel's
        // name already says: describe that case's payload.
        let inner = Mirror(reflecting: payload)
        if inner.displayStyle == .enum, let child = inner.children.first { payload = child.value }
        return fields(payload, path: "").joined(separator: " ")
    }

    private static func fields(_ value: Any, path: String) -> [String] {
        let mirror = Mirror(reflecting: value)
        func label(_ child: Mirror.Child) -> String {
            guard let name = child.label, !name.hasPrefix(".") else { return path }
            return path.isEmpty ? name : "\(path).\(name)"
        }
        switch mirror.displayStyle {
        case .struct, .tuple:
            return mirror.children.flatMap { fields($0.value, path: label($0)) }
        case .optional:
            return mirror.children.first.map { fields($0.value, path: path) } ?? []
        case .enum where !mirror.children.isEmpty:
            let child = mirror.children.first!
            let payload = fields(child.value, path: path)
            return ["\(path.isEmpty ? "" : path + "=")\(child.label ?? "")"] + payload
        case .collection:
            let text = compact(value) ?? "[\(mirror.children.count) items]"
            return [path.isEmpty ? text : "\(path)=\(text)"]
        default:
            // Flags print as their name when set and not at all when clear.
            if let flag = value as? Bool, !path.isEmpty { return flag ? [path] : [] }
            return [path.isEmpty ? "\(value)" : "\(path)=\(value)"]
        }
    }

    /// A short array of numbers (or of short arrays of numbers) as `[1,2,3]`; nil for anything longer
    /// or structured.
    private static func compact(_ value: Any) -> String? {
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .collection:
            guard mirror.children.count <= 8 else { return nil }
            let elements = mirror.children.map { compact($0.value) }
            guard elements.allSatisfy({ $0 != nil }) else { return nil }
            return "[\(elements.map { $0! }.joined(separator: ","))]"
        case nil:
            return "\(value)"
        default:
            return nil
        }
    }

    private static func describe(_ id: BufferID, in plan: Plan) -> String {
        let buffer = plan.buffers[id.index]
        return "\(id) \(buffer.dtype.shortName)\(buffer.shape) \(place(buffer))"
    }

    private static func place(_ buffer: Buffer) -> String {
        switch buffer.location {
        case .arena(let offset): "@\(offset)"
        case .persistent(let index, let byteOffset): byteOffset == 0 ? "p\(index)" : "p\(index)+\(byteOffset)"
        }
    }
}
