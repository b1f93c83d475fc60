/// The values of an inference plan that stay in oneDNN's layout between convolutions.
///
/// oneDNN's convolutions compute in a channel-blocked or channels-last layout (nChw8c on AVX2, NHWC
/// on AVX-512) while serkd's tensors are NCHW, so on its own each convolution reorders its input in
/// and its output back: on ResNet-101 those reorders were a fifth of the run. But elementwise work
/// (a residual add, a ReLU) does not care how elements are ordered, as long as every operand is
/// ordered alike. So values are grouped through the elementwise steps that join them, and a group
/// stays in oneDNN's layout when nothing in or around it cares about the order:
/// - each value is written by a oneDNN convolution or by an elementwise step of the group, whose
///   operands and result all have one shape (no broadcasting);
/// - each is read, in full and under its own buffer (no view of it), only by oneDNN convolutions as
///   their input and by elementwise steps of the group, and it is not a plan output;
/// - the convolutions writing and reading the group agree on one layout, and that layout has no
///   padding (its bytes are the NCHW tensor's bytes): an elementwise step would write into the
///   padding, which oneDNN requires to be zero.
/// Reorders then happen only where a group meets something that reads NCHW (pooling, a reshape, a
/// plan output).
struct BlockedRegions {
    /// Convolution steps that read their input in oneDNN's layout.
    private(set) var blockedInputs: Set<Int> = []
    /// Convolution steps that leave their output in oneDNN's layout.
    private(set) var blockedOutputs: Set<Int> = []

    /// The groups of `plan` whose values can stay in oneDNN's layout, given the steps running on
    /// oneDNN's `convolutions`.
    init(_ plan: Plan, convolutions: [Int: DNNLConvolution]) {
        guard !convolutions.isEmpty else { return }
        var writers: [Int: [Int]] = [:]
        for (index, step) in plan.steps.enumerated() {
            for result in step.results { writers[result.index, default: []].append(index) }
        }
        let elementwise = Set(plan.steps.indices.filter { Self.isOrderFree(plan.steps[$0], plan) })
        // Values joined by an elementwise step belong to one group.
        var parent = Array(plan.buffers.indices)
        func root(_ i: Int) -> Int {
            var i = i
            while parent[i] != i { parent[i] = parent[parent[i]]; i = parent[i] }
            return i
        }
        var candidates: Set<Int> = []
        for (index, convolution) in convolutions where convolution.primitives.destinationOut != nil {
            candidates.insert(plan.steps[index].results[0].index)
        }
        for index in elementwise {
            let step = plan.steps[index]
            let result = step.results[0].index
            candidates.insert(result)
            for operand in step.operands {
                candidates.insert(operand.index)
                parent[root(operand.index)] = root(result)
            }
        }
        var groups: [Int: [Int]] = [:]
        for buffer in candidates { groups[root(buffer), default: []].append(buffer) }

        for members in groups.values {
            var layout: OneDNN.MemoryDescriptor?
            var producers: [Int] = [], consumers: [Int] = []
            func agrees(_ descriptor: OneDNN.MemoryDescriptor) -> Bool {
                if let layout { return layout.matches(descriptor) }
                layout = descriptor
                return true
            }
            let valid = members.allSatisfy { member in
                let buffer = plan.buffers[member]
                guard let written = writers[member], written.count == 1 else { return false }
                let writer = written[0]
                if let convolution = convolutions[writer] {
                    guard agrees(convolution.primitives.destination), convolution.primitives.destination.byteCount == buffer.byteCount else { return false }
                    producers.append(writer)
                } else if !elementwise.contains(writer) {
                    return false
                }
                guard let readers = Self.readers(of: BufferID(member), after: writer, in: plan) else { return false }
                return readers.allSatisfy { reader in
                    let step = plan.steps[reader]
                    if let convolution = convolutions[reader], step.operands[0].index == member,
                       !step.operands.dropFirst().contains(where: { Self.overlap($0, BufferID(member), plan) }) {
                        guard agrees(convolution.primitives.source) else { return false }
                        consumers.append(reader)
                        return true
                    }
                    return elementwise.contains(reader)
                        && step.operands.allSatisfy { $0.index == member || !Self.overlap($0, BufferID(member), plan) }
                }
            }
            guard valid, !producers.isEmpty, !consumers.isEmpty else { continue }
            blockedOutputs.formUnion(producers)
            blockedInputs.formUnion(consumers)
        }
    }

    /// Whether `step` computes each output element from the same element of each operand: a
    /// float elementwise step whose operands and result all have one shape.
    static func isOrderFree(_ step: Step, _ plan: Plan) -> Bool {
        switch step.kernel {
        case .unary(_, .float32, _), .binary(_, .float32, _), .fusedElementwise: break
        default: return false
        }
        guard step.results.count == 1 else { return false }
        let shape = plan.buffers[step.results[0].index].shape
        return (step.operands + step.results).allSatisfy {
            let buffer = plan.buffers[$0.index]
            guard case .arena = buffer.location else { return false }
            return buffer.dtype == .float32 && buffer.shape == shape
        }
    }

    /// Whether two buffers share arena bytes.
    static func overlap(_ a: BufferID, _ b: BufferID, _ plan: Plan) -> Bool {
        let (x, y) = (plan.buffers[a.index], plan.buffers[b.index])
        guard case .arena(let p) = x.location, case .arena(let q) = y.location else { return false }
        return p < q + y.byteCount && q < p + x.byteCount
    }

    /// The steps that read the value `result` (written by step `writer`): those reading a buffer
    /// overlapping its bytes before a later step overwrites them. Nil when a plan output overlaps it.
    static func readers(of result: BufferID, after writer: Int, in plan: Plan) -> [Int]? {
        guard case .arena(let start) = plan.buffers[result.index].location else { return nil }
        let end = start + plan.buffers[result.index].byteCount
        var readers: [Int] = []
        for index in (writer + 1)..<plan.steps.count {
            let step = plan.steps[index]
            if step.operands.contains(where: { overlap($0, result, plan) }) { readers.append(index) }
            if step.results.contains(where: { overlap($0, result, plan) })
                || step.workspaceOffset.map({ $0 < end && start < $0 + step.kernel.workspaceBytes }) == true {
                return readers
            }
        }
        return plan.outputs.contains(where: { overlap($0, result, plan) }) ? nil : readers
    }
}
