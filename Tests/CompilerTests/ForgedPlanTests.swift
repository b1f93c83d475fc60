import Compiler
import Foundation
import GraphIR
import Runtime
import Testing

/// Plan files that are intact as files (valid checksum) but whose kernels were edited: each is refused
/// at load with one line naming the step, before any kernel can touch memory outside its buffers.
@Suite struct ForgedPlanTests {
    /// One step of each kind the forgeries edit: a convolution with a workspace, a transpose (a copy),
    /// a fused elementwise chain and a matrix product.
    static let graph = """
        graph forged {
          input %x: f32[1,2,5,5]
          input %m: f32[3,4]
          param %w: f32[3,2,3,3] = [\((0..<54).map { String(Float($0 % 7) * 0.1) }.joined(separator: ", "))]
          param %v: f32[4,2] = [1, 2, 3, 4, 5, 6, 7, 8]
          %y: f32[1,3,5,5] = conv(%x, %w) {strides=[1,1], pads=[1,1,1,1], dilations=[1,1], groups=1} @conv
          %t: f32[4,3] = transpose(%m) {permutation=[1,0]} @transpose
          %e: f32[4,3] = exp(%t) @exp
          %a: f32[4,3] = add(%e, %t) @add
          %p: f32[3,2] = matmul(%m, %v) {transpose_a=0, transpose_b=0} @product
          %q: f32[1,2,4,4] = maxpool(%x) {kernel=[2,2], strides=[1,1], pads=[0,0,0,0], dilations=[1,1], ceil_mode=0} @pool
          output %y
          output %q
          output %a
          output %p
        }
        """

    static func compiled() throws -> Pipeline.Result { try Pipeline.compile(try Graph(text: graph)) }

    /// The step whose kernel matches, and its index.
    static func step(_ plan: Plan, _ matches: (Kernel) -> Bool) throws -> (Int, Step) {
        let index = try #require(plan.steps.firstIndex { matches($0.kernel) }, "no such step in \(plan.steps.map(\.kernel.name))")
        return (index, plan.steps[index])
    }

    /// Writes `plan` as a file (the writer does not validate) and returns the refusal reading it gives.
    static func refusal(of plan: Plan, _ compiled: Pipeline.Result) throws -> InvalidInput? {
        let folder = try PlanFileTests.Folder()
        let path = folder.file("forged.plan")
        try PlanFile(plan, graph: compiled.graph, metadata: [:]).write(to: path)
        let error = PlanFileTests.refusal(path)
        if let error { #expect(error.subject == path && !error.problem.contains("\n"), "\(error)") }
        return error
    }

    /// Rewrites the kernel of the first step `matches` selects.
    static func forge(_ matches: (Kernel) -> Bool, _ change: (inout Kernel) -> Void) throws -> (problem: String?, prefix: String) {
        let compiled = try compiled()
        var plan = compiled.plan
        let (index, step) = try step(plan, matches)
        change(&plan.steps[index].kernel)
        return (try refusal(of: plan, compiled)?.problem, "step \(index) ('\(step.label)', \(step.kernel.name)): ")
    }

    static func isConv(_ kernel: Kernel) -> Bool { if case .conv2d = kernel { true } else { false } }
    static func isCopy(_ kernel: Kernel) -> Bool { if case .copy = kernel { true } else { false } }
    static func isFused(_ kernel: Kernel) -> Bool { if case .fusedElementwise = kernel { true } else { false } }
    static func isGemm(_ kernel: Kernel) -> Bool { if case .gemm = kernel { true } else { false } }
    static func isPool(_ kernel: Kernel) -> Bool { if case .maxPool = kernel { true } else { false } }

    @Test("the unedited plan reads back")
    func theOriginalReads() throws {
        let compiled = try Self.compiled()
        #expect(try Self.refusal(of: compiled.plan, compiled) == nil)
    }

    @Test("forged convolution dimensions are refused")
    func convolutionDimensions() throws {
        // More filters than the weight and output buffers hold.
        let (channels, prefix) = try Self.forge(Self.isConv) { if case .conv2d(var g) = $0 { g.outputChannels = 300; $0 = .conv2d(g) } }
        #expect(channels?.hasPrefix(prefix) == true, "\(channels ?? "read")")
        // A larger input plane than the input buffer: the geometry rebuilds, but reads past the buffer.
        let (plane, _) = try Self.forge(Self.isConv) { $0 = .conv2d(Conv2D.Geometry(input: [1, 2, 50, 50], weight: [3, 2, 3, 3], pads: [1, 1, 1, 1])) }
        #expect(plane == prefix + "operand 0 'x' (f32[1,2,5,5]) holds 200 bytes, the kernel reads 20000")
        // A stride of zero, and a padding of a million.
        let (stride, _) = try Self.forge(Self.isConv) { if case .conv2d(var g) = $0 { g.strideHeight = 0; $0 = .conv2d(g) } }
        #expect(stride == prefix + "stride is 0, outside 1…16777216")
        let (pad, _) = try Self.forge(Self.isConv) { if case .conv2d(var g) = $0 { g.padTop = 1 << 30; $0 = .conv2d(g) } }
        #expect(pad == prefix + "top padding is 1073741824, outside 0…16777216")
    }

    @Test("a forged workspace size is refused")
    func workspaceSize() throws {
        let (problem, prefix) = try Self.forge(Self.isConv) { if case .conv2d(var g) = $0 { g.workspaceBytes = 8; $0 = .conv2d(g) } }
        #expect(problem == prefix + "the geometry is not one this build derives from its shapes (algorithm, thread split or workspace)")
    }

    @Test("a forged element size is refused")
    func elementSize() throws {
        let (eight, prefix) = try Self.forge(Self.isCopy) { if case .copy(var g) = $0 { g.elementSize = 8; $0 = .copy(g) } }
        #expect(eight == prefix + "operand 0 'm' (f32[3,4]) is read as 8-byte elements")
        let (three, _) = try Self.forge(Self.isCopy) { if case .copy(var g) = $0 { g.elementSize = 3; $0 = .copy(g) } }
        #expect(three == prefix + "no copy of 3-byte elements")
    }

    @Test("forged strides reaching outside the input are refused")
    func copyStrides() throws {
        let (problem, prefix) = try Self.forge(Self.isCopy) { if case .copy(var g) = $0 { g.strides = g.strides.map { $0 * 1000 }; $0 = .copy(g) } }
        #expect(problem?.hasPrefix(prefix + "operand 0 'm' (f32[3,4]) holds 48 bytes, the kernel reads") == true, "\(problem ?? "read")")
        let (negative, _) = try Self.forge(Self.isCopy) { if case .copy(var g) = $0 { g.offset = -1; $0 = .copy(g) } }
        #expect(negative == prefix + "the view starts 1 elements before its input")
    }

    @Test("operand slots that do not match the kernel are refused")
    func operandSlots() throws {
        let compiled = try Self.compiled()
        let (index, step) = try Self.step(compiled.plan, Self.isGemm)
        let prefix = "step \(index) ('\(step.label)', gemm): "
        var missing = compiled.plan
        missing.steps[index].operands.removeLast()
        #expect(try Self.refusal(of: missing, compiled)?.problem == prefix + "the kernel takes 2 operands, the step names 1")
        // The small output in place of the larger operand: the product would read past it.
        var swapped = compiled.plan
        swapped.steps[index].operands[0] = step.results[0]
        let output = compiled.plan.buffers[step.results[0].index]
        #expect(try Self.refusal(of: swapped, compiled)?.problem
                == prefix + "operand 0 '\(output.name)' (f32[3,2]) holds 24 bytes, the kernel reads 48")
        // An int64 buffer read as floats.
        var retyped = compiled.plan
        retyped.buffers[step.operands[0].index].dtype = .int64
        retyped.buffers[step.operands[0].index].shape = [3,2]
        let problem = try Self.refusal(of: retyped, compiled)?.problem
        #expect(problem?.contains("is read as f32") == true, "\(problem ?? "read")")
    }

    @Test("a result larger than the kernel writes is refused: it would leak arena bytes into the output")
    func resultLargerThanWritten() throws {
        let (problem, prefix) = try Self.forge(Self.isGemm) { if case .gemm(var g) = $0 { g.m = 1; $0 = .gemm(g) } }
        #expect(problem == prefix + "result 0 'p' (f32[3,2]) holds 24 bytes, the kernel writes 8")
    }

    @Test("a negative or inconsistent fused count is refused")
    func fusedCount() throws {
        let (negative, prefix) = try Self.forge(Self.isFused) { if case .fusedElementwise(var g) = $0 { g.count = -5; $0 = .fusedElementwise(g) } }
        #expect(negative?.hasPrefix(prefix + "broadcast count -5 is not the product of") == true, "\(negative ?? "read")")
        let (extents, _) = try Self.forge(Self.isFused) { if case .fusedElementwise(var g) = $0 { g.extents = [-1, -12]; $0 = .fusedElementwise(g) } }
        #expect(extents?.hasPrefix(prefix) == true, "\(extents ?? "read")")
        let (register, _) = try Self.forge(Self.isFused) {
            if case .fusedElementwise(var g) = $0 { g.instructions[0].operands = [99]; $0 = .fusedElementwise(g) }
        }
        #expect(register == prefix + "instruction 0 reads a register not yet written")
    }

    @Test("pooling windows outside the plane, or unevenly spaced, are refused")
    func poolingWindows() throws {
        let (outside, prefix) = try Self.forge(Self.isPool) { if case .maxPool(var g) = $0 { g.rows[3].start = 4; $0 = .maxPool(g) } }
        #expect(outside == prefix + "a window row lies outside the 5 input rows")
        // Still inside the plane, but the kernels step from the first whole window by one stride.
        let (uneven, _) = try Self.forge(Self.isPool) { if case .maxPool(var g) = $0 { g.columns[1].start = 3; $0 = .maxPool(g) } }
        #expect(uneven == prefix + "whole window columns are not evenly spaced")
    }

    @Test("overflowing sizes are refused, not computed")
    func overflow() throws {
        let (problem, prefix) = try Self.forge(Self.isGemm) {
            if case .gemm(var g) = $0 { g.batchExtents = [1 << 40, 1 << 40]; g.batchStridesA = [0, 0]; g.batchStridesB = [0, 0]; $0 = .gemm(g) }
        }
        #expect(problem?.hasPrefix(prefix + "sizes [") == true && problem?.hasSuffix("overflow") == true, "\(problem ?? "read")")
    }

    @Test("a plan whose arena exceeds the memory limit is refused before allocating")
    func hugeArena() throws {
        let folder = try PlanFileTests.Folder()
        let (path, _) = try PlanFileTests.smallPlan(in: folder)
        try HeaderSurgery.rewrite(path) { $0.arena_bytes = 40 << 30 }
        let problem = PlanFileTests.refusal(path)?.problem
        #expect(problem?.hasPrefix("the arena of 42949672960 bytes exceeds the memory limit of ") == true, "\(problem ?? "read")")
    }
}
