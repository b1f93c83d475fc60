import Runtime

/// An independent check of a plan's memory placement: simulates which step last wrote every arena
/// byte and confirms that each step reads exactly the data its operands are supposed to hold.
///
/// It knows nothing of how offsets were chosen, so it catches planner bugs the planner's own
/// bookkeeping would share: two buffers alive together that overlap, an in-place result written over
/// an input that is read again later, a workspace overlapping a live operand.
public enum PlanChecker {
    /// A write event: which step wrote which buffer (step −1: the caller feeding inputs).
    struct Write: Equatable {
        var step: Int
        var buffer: Int
    }

    /// The first violation, or nil when every read sees the data it expects.
    public static func firstViolation(in plan: Plan) -> String? {
        // Arena bytes as intervals, each with its last write.
        var intervals: [(start: Int, end: Int, write: Write)] = []
        func record(_ start: Int, _ end: Int, _ write: Write) {
            guard end > start else { return }
            var next: [(start: Int, end: Int, write: Write)] = []
            for interval in intervals {
                if interval.end <= start || interval.start >= end { next.append(interval); continue }
                if interval.start < start { next.append((interval.start, start, interval.write)) }
                if interval.end > end { next.append((end, interval.end, interval.write)) }
            }
            next.append((start, end, write))
            intervals = next
        }
        func writers(_ start: Int, _ end: Int) -> [Write?] {
            var covered = start
            var result: [Write?] = []
            for interval in intervals.sorted(by: { $0.start < $1.start }) where interval.end > start && interval.start < end {
                if interval.start > covered { result.append(nil) }
                result.append(interval.write)
                covered = max(covered, interval.end)
            }
            if covered < end { result.append(nil) }
            return result
        }
        func range(_ id: BufferID) -> (Int, Int)? {
            let buffer = plan.buffers[id.index]
            guard case .arena(let offset) = buffer.location else { return nil }
            return (offset, offset + buffer.byteCount)
        }
        // Which write each buffer's content comes from: its own, or (for views and in-place results,
        // which share bytes) the write that produced those bytes when it was defined.
        var expected: [Int: Write] = [:]
        for input in plan.inputs {
            expected[input.index] = Write(step: -1, buffer: input.index)
            if let (start, end) = range(input) { record(start, end, expected[input.index]!) }
        }
        var written = Set(plan.inputs.map(\.index))
        for step in plan.steps { written.formUnion(step.results.map(\.index)) }

        for (index, step) in plan.steps.enumerated() {
            for operand in step.operands {
                guard let (start, end) = range(operand), end > start else { continue }
                let seen = writers(start, end)
                if let want = expected[operand.index] {
                    if seen.contains(where: { $0 != want }) {
                        return "step \(index) (\(step.label)) reads '\(plan.buffers[operand.index].name)', but its bytes were overwritten"
                    }
                } else if !written.contains(operand.index) {
                    // A view of another buffer: all its bytes must come from one write.
                    guard let first = seen.first, let write = first, seen.allSatisfy({ $0 == write }) else {
                        return "step \(index) (\(step.label)) reads the view '\(plan.buffers[operand.index].name)' over mixed or unwritten bytes"
                    }
                    expected[operand.index] = write
                } else {
                    return "step \(index) (\(step.label)) reads '\(plan.buffers[operand.index].name)' before it is written"
                }
            }
            if let offset = step.workspaceOffset {
                record(offset, offset + step.kernel.workspaceBytes, Write(step: index, buffer: -1))
            }
            for result in step.results {
                let write = Write(step: index, buffer: result.index)
                expected[result.index] = write
                if let (start, end) = range(result) { record(start, end, write) }
            }
        }
        for output in plan.outputs {
            guard let (start, end) = range(output), end > start else { continue }
            let seen = writers(start, end)
            if let want = expected[output.index], seen.contains(where: { $0 != want }) {
                return "output '\(plan.buffers[output.index].name)' was overwritten before the end of the run"
            }
        }
        return nil
    }
}
