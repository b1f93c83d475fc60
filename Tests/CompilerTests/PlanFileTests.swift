import CProto
@testable import Compiler
import Foundation
import GraphIR
import ONNX
import Runtime
import Testing

/// Plan files: what is written is read back as the same plan and computes the same bits; anything
/// damaged or inconsistent is refused with one line naming the file, before a kernel runs.
@Suite struct PlanFileTests {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/models").path

    /// A convolution (im2col, so it has a workspace) with a bias, then a relu.
    static let small = """
        graph small {
          input %x: f32[1,2,5,5]
          param %w: f32[3,2,3,3] = [\((0..<54).map { String(Float(sin(Double($0) * 1.7 + 0.3)) * 0.5) }.joined(separator: ", "))]
          param %b: f32[3] = [0.1, -0.2, 0.3]
          %y: f32[1,3,5,5] = conv(%x, %w, %b) {strides=[1,1], pads=[1,1,1,1], dilations=[1,1], groups=1} @conv
          %r: f32[1,3,5,5] = relu(%y) @relu
          output %r
        }
        """

    static func input(_ shape: [Int], seed: Int = 1) -> Tensor {
        let count = shape.reduce(1, *)
        return Tensor((0..<count).map { Float(sin(Double($0 + seed) * 0.37)) }, shape: Shape(shape))
    }

    /// A fresh folder, removed when the test ends.
    final class Folder {
        let path = NSTemporaryDirectory() + "serkd-plan-tests-" + UUID().uuidString
        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        func file(_ name: String) -> String { path + "/" + name }
        var contents: [String] { (try? FileManager.default.contentsOfDirectory(atPath: path).sorted()) ?? [] }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// The small graph compiled and written; returns the path and the compilation.
    static func smallPlan(in folder: Folder) throws -> (path: String, compiled: Pipeline.Result) {
        let compiled = try Pipeline.compile(try Graph(text: small))
        let path = folder.file("small.plan")
        try PlanFile(compiled, metadata: ["plan.kind": "inference"]).write(to: path)
        return (path, compiled)
    }

    /// The error reading `path` gives (nil if it reads).
    static func refusal(_ path: String) -> InvalidInput? {
        do {
            _ = try PlanFile.read(path)
            return nil
        } catch let error as InvalidInput {
            return error
        } catch {
            return InvalidInput(nil, "unexpected error \(error)")
        }
    }

    @Test func crc32IsZlibs() {
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
        #expect(CRC32.checksum(UnsafeRawBufferPointer(start: nil, count: 0)) == 0)
        var split = CRC32()
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        split.update(Array(bytes[..<13]))
        split.update(Array(bytes[13...]))
        #expect(split.value == bytes.withUnsafeBytes { CRC32.checksum($0) })
    }

    @Test(arguments: ["tiny_resnet", "tiny_deit_distilled"])
    func anInferencePlanReadsBackAndComputesTheSameBits(_ name: String) throws {
        let folder = try Folder()
        let input = try NumPyFile.read("\(Self.models)/\(name).input.npy")
        let graph = try ONNXImport.graph(fromFile: "\(Self.models)/\(name).onnx", options: .init(batch: input.shape[0]))
        let compiled = try Pipeline.compile(graph)
        let path = folder.file("model.plan")
        try PlanFile(compiled, metadata: ["plan.kind": "inference", "source": name]).write(to: path)

        let file = try PlanFile.read(path)
        #expect(file.metadata == ["plan.kind": "inference", "source": name])
        #expect(file.plan.steps == compiled.plan.steps)
        #expect(file.plan.buffers == compiled.plan.buffers)
        #expect(file.plan.arenaBytes == compiled.plan.arenaBytes)
        #expect(file.plan.inputs == compiled.plan.inputs && file.plan.outputs == compiled.plan.outputs)
        #expect(file.plan.persistent.count == compiled.plan.persistent.count)
        for (read, written) in zip(file.plan.persistent, compiled.plan.persistent) { #expect(read.bitwiseEqual(written)) }
        #expect(file.persistentTensors.allSatisfy { graph.value(named: $0.name) != nil })

        let expected = try Executor(compiled.plan).run([input])
        let actual = try Executor(file.plan).run([input])
        #expect(actual.count == expected.count)
        for (a, e) in zip(actual, expected) { #expect(a.bitwiseEqual(e)) }
        // And it is the model: within float32 rounding of onnxruntime's output.
        let reference = try NumPyFile.read("\(Self.models)/\(name).output.npy")
        #expect(zip(actual[0].floats, reference.floats).allSatisfy { abs($0 - $1) <= 1e-4 })
    }

    @Test func persistentTensorsAreUpdatedInMemoryNotInTheFile() throws {
        let folder = try Folder()
        let (path, _) = try Self.smallPlan(in: folder)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let file = try PlanFile.read(path)
        let weight = try #require(file.plan.persistent.first)
        weight.rawPointer.assumingMemoryBound(to: Float.self).pointee = 42
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try PlanFile.read(path).plan.persistent[0].floats[0] != 42)
        #expect(file.persistentTensors.map(\.name) == ["w", "b"] && file.persistentTensors.allSatisfy { $0.kind == .parameter })
    }

    @Test func aKernelKeepsEveryFieldThroughItsJSON() throws {
        // Infinite clip bounds (JSON has no infinity), optional activations and nested enums.
        let kernels: [Kernel] = [
            .unary(.clip(min: -.infinity, max: 6), dtype: .float32, count: 7),
            .unary(.leakyRelu(alpha: 0.01), dtype: .float32, count: 3),
            .gemm(Gemm.Geometry(a: [2, 3, 4], b: [4, 5], epilogue: Epilogue(bias: .perColumn, activation: .gelu))),
            .conv2d(Conv2D.Geometry(input: [2, 3, 8, 8], weight: [4, 3, 3, 3], pads: [1, 1, 1, 1], hasBias: true, activation: .relu)),
            .maxPool(Pool2D.Geometry(input: [1, 2, 6, 6], output: [3, 3], kernel: [2, 2], strides: [2, 2])),
            .optimizer(.adamW(count: 10, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.05)),
            .loss(.distillationKL(rows: 2, classes: 3, temperature: 4)),
        ]
        let coding = KernelCoding()
        #expect(try kernels.map { try coding.decode(try coding.encode($0)) } == kernels)
    }

    @Test func aTruncatedFileIsRefused() throws {
        let folder = try Folder()
        let (path, _) = try Self.smallPlan(in: folder)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = bytes[12..<20].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        let cases: [(Int, String)] = [
            (0, "not a serkd plan file (bad magic)"),
            (19, "not a serkd plan file (bad magic)"),
            (40, "truncated: header of \(headerLength) bytes, file has 16 after the prefix"),
            (bytes.count - 100, "truncated: the data section has"),
            (bytes.count - 1, "truncated: the data section has"),
        ]
        for (length, message) in cases {
            let cut = folder.file("cut\(length).plan")
            try bytes.prefix(length).write(to: URL(fileURLWithPath: cut))
            let error = Self.refusal(cut)
            #expect(error?.subject == cut, "\(length) bytes")
            #expect(error?.problem.hasPrefix(message) == true, "\(length) bytes: \(error?.problem ?? "read")")
        }
    }

    @Test func aFlippedByteAnywhereIsRefused() throws {
        let folder = try Folder()
        let (path, _) = try Self.smallPlan(in: folder)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        let damaged = folder.file("damaged.plan")
        var accepted: [Int] = []
        for position in original.indices {
            var bytes = original
            bytes[position] ^= 0x10
            try bytes.write(to: URL(fileURLWithPath: damaged))
            if Self.refusal(damaged) == nil { accepted.append(position) }
        }
        #expect(accepted.isEmpty, "flipped bytes at \(accepted) were accepted")
        // Past the prefix and the header, it is the checksum that notices.
        var bytes = original
        bytes[bytes.count - 10] ^= 1
        try bytes.write(to: URL(fileURLWithPath: damaged))
        #expect(Self.refusal(damaged) == InvalidInput(damaged, "checksum mismatch: the file is corrupt (rewrite it with serkd-compile)"))
    }

    @Test func aWrongMagicOrAnotherFormatVersionIsRefused() throws {
        let folder = try Folder()
        let (path, _) = try Self.smallPlan(in: folder)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        let other = folder.file("other.plan")
        var model = original
        model.replaceSubrange(0..<8, with: Array("SERKDMDL".utf8))
        try model.write(to: URL(fileURLWithPath: other))
        #expect(Self.refusal(other) == InvalidInput(other, "not a serkd plan file (bad magic)"))
        for version: UInt32 in [0, 2] {
            var bytes = original
            bytes.replaceSubrange(8..<12, with: withUnsafeBytes(of: version.littleEndian) { Array($0) })
            try bytes.write(to: URL(fileURLWithPath: other))
            #expect(Self.refusal(other) == InvalidInput(other, "plan format \(version) is not supported (this serkd reads 1): recompile with serkd-compile"))
        }
    }

    @Test func anotherKernelABIOrThreadCountIsRefused() throws {
        let folder = try Folder()
        let (path, _) = try Self.smallPlan(in: folder)
        for abi in [PlanFile.kernelABI - 1, PlanFile.kernelABI + 1] {
            try HeaderSurgery.rewrite(path) { $0.kernel_abi = abi }
            #expect(Self.refusal(path) == InvalidInput(path, "plan kernel ABI \(abi) is not supported (this serkd runs \(PlanFile.kernelABI)): recompile with serkd-compile"))
        }
        let threads = UInt32(Parallel.threadCount + 1)
        try HeaderSurgery.rewrite(path) {
            $0.kernel_abi = PlanFile.kernelABI
            $0.threads = threads
        }
        #expect(Self.refusal(path) == InvalidInput(path, "was compiled for \(threads) threads, this process uses \(Parallel.threadCount): "
                                                        + "run with SERKD_THREADS=\(threads), or recompile with serkd-compile"))
    }

    @Test func aKernelThatDoesNotDecodeIsRefused() throws {
        let folder = try Folder()
        let (path, compiled) = try Self.smallPlan(in: folder)
        let label = compiled.plan.steps[0].label
        let cases = [
            ("{\"conv3d\":{}}", "does not decode"),
            ("{\"gemm\":{\"_0\":{\"m\":1}}}", "missing field at 'gemm._0."),
            ("not json", "does not decode"),
        ]
        for (json, message) in cases {
            try HeaderSurgery.rewrite(path) { header in
                let step = header.steps[0]!
                free(step.pointee.kernel)
                step.pointee.kernel = strdup(json)
            }
            let error = try #require(Self.refusal(path))
            #expect(error.subject == path)
            #expect(error.problem.hasPrefix("step 0 ('\(label)'): kernel does not decode ("), "\(error.problem)")
            #expect(error.problem.contains(message), "\(error.problem)")
            #expect(error.problem.hasSuffix("): recompile with serkd-compile"))
        }
    }

    /// Plans that are well-formed files but wrong inside, written with a valid checksum.
    @Test func aStructurallyInvalidPlanIsRefused() throws {
        let folder = try Folder()
        let compiled = try Pipeline.compile(try Graph(text: Self.small))
        let plan = compiled.plan
        let arenaIndex = try #require(plan.buffers.firstIndex { if case .arena = $0.location { true } else { false } })
        let arenaBuffer = plan.buffers[arenaIndex]
        let arenaName = arenaBuffer.name
        let workspaceStep = try #require(plan.steps.firstIndex { $0.kernel.workspaceBytes > 0 })
        let label = plan.steps[workspaceStep].label
        let cases: [(String, (inout Plan) -> Void)] = [
            ("buffer b\(arenaIndex) '\(arenaName)' (\(arenaBuffer.byteCount) bytes at offset \(plan.arenaBytes + 64)) lies outside the arena of \(plan.arenaBytes) bytes",
             { $0.buffers[arenaIndex].location = .arena(offset: plan.arenaBytes + 64) }),
            ("buffer b\(arenaIndex) '\(arenaName)' at offset 4 is not 64-byte aligned", { $0.buffers[arenaIndex].location = .arena(offset: 4) }),
            ("buffer b\(arenaIndex) '\(arenaName)' lies in persistent tensor #7, the plan has 2",
             { $0.buffers[arenaIndex].location = .persistent(index: 7, byteOffset: 0) }),
            ("buffer b\(arenaIndex) '\(arenaName)' (\(arenaBuffer.dtype.shortName)\(arenaBuffer.shape) at byte 0) does not fit in tensor 'b' (f32[3])",
             { $0.buffers[arenaIndex].location = .persistent(index: 1, byteOffset: 0) }),
            ("step 0 ('\(plan.steps[0].label)') refers to buffer b999, the plan has \(plan.buffers.count)", { $0.steps[0].operands[0] = BufferID(999) }),
            ("step 0 ('\(plan.steps[0].label)') refers to buffer b\(plan.buffers.count), the plan has \(plan.buffers.count)",
             { $0.steps[0].results[0] = BufferID(plan.buffers.count) }),
            ("step \(workspaceStep) ('\(label)', \(plan.steps[workspaceStep].kernel.name)): needs \(plan.steps[workspaceStep].kernel.workspaceBytes) bytes of workspace, the step has none",
             { $0.steps[workspaceStep].workspaceOffset = nil }),
            ("step \(workspaceStep) ('\(label)', \(plan.steps[workspaceStep].kernel.name)): workspace of \(plan.steps[workspaceStep].kernel.workspaceBytes) bytes at offset \(plan.arenaBytes) lies outside the arena of \(plan.arenaBytes) bytes",
             { $0.steps[workspaceStep].workspaceOffset = plan.arenaBytes }),
            ("the input list refers to buffer b50, the plan has \(plan.buffers.count)", { $0.inputs = [BufferID(50)] }),
            ("the output list refers to buffer b50, the plan has \(plan.buffers.count)", { $0.outputs.append(BufferID(50)) }),
        ]
        for (message, damage) in cases {
            var broken = plan
            damage(&broken)
            let path = folder.file("broken.plan")
            try PlanFile(broken, graph: compiled.graph, metadata: [:]).write(to: path)
            #expect(Self.refusal(path) == InvalidInput(path, message))
        }
        // A persistent tensor whose recorded size disagrees with its shape.
        let path = folder.file("sized.plan")
        try PlanFile(plan, graph: compiled.graph, metadata: [:]).write(to: path)
        try HeaderSurgery.rewrite(path) { $0.persistent[1]!.pointee.data_length = 8 }
        #expect(Self.refusal(path) == InvalidInput(path, "tensor 'b' f32[3] needs 12 bytes, header says 8"))
    }

    @Test func aFailedWriteLeavesNothingBehind() throws {
        let folder = try Folder()
        let (_, compiled) = try Self.smallPlan(in: folder)
        let file = PlanFile(compiled, metadata: [:])
        try FileManager.default.createDirectory(atPath: folder.file("taken.plan"), withIntermediateDirectories: false)
        #expect(throws: InvalidInput.self) { try file.write(to: folder.file("taken.plan")) }
        #expect(throws: InvalidInput.self) { try file.write(to: folder.file("missing/model.plan")) }
        #expect(folder.contents == ["small.plan", "taken.plan"])
    }
}

/// Rewrites a plan file's header through protobuf-c and recomputes the checksum, to make files that
/// are intact as files but wrong inside.
enum HeaderSurgery {
    static func rewrite(_ path: String, _ change: (inout Serkd__PlanHeader) -> Void) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let headerLength = Int(bytes[12..<20].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let dataStart = (20 + headerLength + 63) / 64 * 64
        let data = Array(bytes[dataStart..<(bytes.count - 4)])
        let header = try #require(bytes.withUnsafeBufferPointer { serkd__plan_header__unpack(nil, headerLength, $0.baseAddress! + 20) })
        defer { serkd__plan_header__free_unpacked(header, nil) }
        change(&header.pointee)
        var packed = [UInt8](repeating: 0, count: serkd__plan_header__get_packed_size(header))
        _ = serkd__plan_header__pack(header, &packed)
        var file = Array(bytes[0..<12])
        withUnsafeBytes(of: UInt64(packed.count).littleEndian) { file += $0 }
        file += packed
        file += [UInt8](repeating: 0, count: (file.count + 63) / 64 * 64 - file.count)
        file += data
        let crc = file.withUnsafeBytes { CRC32.checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { file += $0 }
        try Data(file).write(to: URL(fileURLWithPath: path))
    }
}
