import BuiltTools
import Compiler
import Foundation
import GraphIR
import ONNX
import Runtime
import Testing

/// Executors and `serkd-run` with oneDNN and with `SERKD_DNNL=0`, which keeps every op on serkd's
/// kernels and OpenBLAS: both say which they use and compute the same model.
@Suite struct BackendToolTests {
    static let models = PlanFileTests.models

    @Test("a frozen-weights executor (oneDNN convolutions, residual blocks kept in its layout) computes a CNN within 1e-5 of the default one (OpenBLAS)")
    func frozenExecutorAgrees() throws {
        let input = try NumPyFile.read("\(Self.models)/tiny_resnet.input.npy")
        let graph = try ONNXImport.graph(fromFile: "\(Self.models)/tiny_resnet.onnx", options: .init(batch: input.shape[0]))
        let plan = try Pipeline.compile(graph.frozen()).plan
        let frozen = try Executor(plan, frozenWeights: .packed).run([input])[0].floats
        let plain = try Executor(plan).run([input])[0].floats
        let scale = max(1, plain.map(abs).max() ?? 0)
        #expect(frozen.count == plain.count)
        #expect(zip(frozen, plain).allSatisfy { abs($0 - $1) <= 1e-5 * scale })
        // Twice from one executor: the packed weights are reused, not re-read.
        let executor = Executor(plan, frozenWeights: .packed)
        // The convolutions after layers 2 and 3 (first and downsample convolution of the next layer)
        // read the residual sum in oneDNN's layout, and each layer's second convolution the first's
        // output where their layouts agree (all four on AVX2, three on AVX-512). Layer 1's sum is not
        // kept: its identity comes from the max pool, which writes NCHW.
        if OneDNN.library == nil { #expect(executor.blockedHandoffs == 0) } else { #expect(executor.blockedHandoffs >= 7) }
        #expect(try executor.run([input])[0].bitwiseEqual(try executor.run([input])[0]))
    }

    /// Three 3×3 convolutions on 16 channels around a residual sum: `c` reads relu(b + a), and so
    /// does a max pool when `pooled`.
    static func residualGraph(pooled: Bool) -> String {
        func weights(_ seed: Int) -> String { (0..<2304).map { String(Float(($0 * 37 + seed) % 23 - 11) * 0.01) }.joined(separator: ", ") }
        let conv = "{strides=[1,1], pads=[1,1,1,1], dilations=[1,1], groups=1}"
        return """
            graph residual {
              input %x: f32[1,16,8,8]
              param %w1: f32[16,16,3,3] = [\(weights(1))]
              param %w2: f32[16,16,3,3] = [\(weights(2))]
              param %w3: f32[16,16,3,3] = [\(weights(3))]
              %a: f32[1,16,8,8] = conv(%x, %w1) \(conv) @a
              %b: f32[1,16,8,8] = conv(%a, %w2) \(conv) @b
              %s: f32[1,16,8,8] = add(%b, %a) @sum
              %r: f32[1,16,8,8] = relu(%s) @relu
              %c: f32[1,16,8,8] = conv(%r, %w3) \(conv) @c
            \(pooled ? "  %p: f32[1,16,7,7] = maxpool(%r) {kernel=[2,2], strides=[1,1], pads=[0,0,0,0], dilations=[1,1], ceil_mode=0} @pool\n  output %p" : "")
              output %c
            }
            """
    }

    @Test("a residual sum read only by convolutions stays in oneDNN's layout; one a max pool also reads is reordered to NCHW",
          .enabled(if: OneDNN.library != nil, "oneDNN is not loaded"), arguments: [false, true])
    func residualSumsStayBlocked(pooled: Bool) throws {
        let plan = try Pipeline.compile(try Graph(text: Self.residualGraph(pooled: pooled))).plan
        let input = Tensor((0..<1024).map { Float($0 % 17) * 0.125 - 1 }, shape: [1, 16, 8, 8])
        let executor = Executor(plan, frozenWeights: .packed)
        // b reads a, c reads relu(b + a); with the pool reading relu(b + a) as NCHW, the group {a, b, sum} is not kept.
        #expect(executor.blockedHandoffs == (pooled ? 0 : 2))
        for (ours, theirs) in zip(try executor.run([input]), try Executor(plan).run([input])) {
            let scale = max(1, theirs.floats.map(abs).max() ?? 0)
            #expect(zip(ours.floats, theirs.floats).allSatisfy { abs($0 - $1) <= 1e-5 * scale })
        }
    }

    @Test("a frozen-weights executor runs a ViT's linear layers as oneDNN matmuls, within 1e-5 of the default one (OpenBLAS)")
    func frozenLinearLayersAgree() throws {
        let input = try NumPyFile.read("\(Self.models)/tiny_deit_distilled.input.npy")
        let graph = try ONNXImport.graph(fromFile: "\(Self.models)/tiny_deit_distilled.onnx", options: .init(batch: input.shape[0]))
        let plan = try Pipeline.compile(graph.frozen()).plan
        let executor = Executor(plan, frozenWeights: .packed)
        let onDNNL = plan.steps.indices.filter { if case .gemm = plan.steps[$0].kernel { executor.backend(ofStep: $0) == .oneDNN } else { false } }
        #expect(onDNNL.isEmpty == (OneDNN.library == nil))
        let frozen = try executor.run([input]), plain = try Executor(plan).run([input])
        for (ours, theirs) in zip(frozen, plain) {
            let scale = max(1, theirs.floats.map(abs).max() ?? 0)
            #expect(zip(ours.floats, theirs.floats).allSatisfy { abs($0 - $1) <= 1e-5 * scale })
        }
    }

    @Test("serkd-run --version names the convolution backend, and SERKD_DNNL=0 turns oneDNN off")
    func versionNamesTheBackends() throws {
        let off = try BuiltTool.run("serkd-run", ["--version"], environment: ["SERKD_DNNL": "0"])
        #expect(off.status == 0)
        #expect(off.output.contains("\ndnnl: oneDNN not used: SERKD_DNNL=0\n"))
        #expect(off.output.contains("\nbackends: serkd's kernels and OpenBLAS for every op\n"))
        let on = try BuiltTool.run("serkd-run", ["--version"])
        #expect(on.status == 0)
        #expect(on.output.contains("\nblas: OpenBLAS core "))
        #expect(on.output.contains("\ndnnl: oneDNN 2.") && on.output.contains(", ISA ") || on.output.contains("\ndnnl: oneDNN not used: "))
        #expect(on.output.contains("\nbackends: oneDNN for the convolutions and linear layers") || on.output.contains("\nbackends: oneDNN for the convolutions, linear layers and attention")
                || on.output.contains("\ndnnl: oneDNN not used: "))
    }

    @Test("a CNN infers the same on oneDNN and with SERKD_DNNL=0: within 1e-5 of each other, 1e-4 of onnxruntime")
    func bothBackendsAgree() throws {
        let folder = try PlanFileTests.Folder()
        var results: [[Float]] = []
        for environment in [[:], ["SERKD_DNNL": "0"]] {
            let output = folder.file("y\(results.count).npy")
            let run = try BuiltTool.run("serkd-run", ["infer", "\(Self.models)/tiny_resnet.onnx", "--input", "\(Self.models)/tiny_resnet.input.npy",
                                                      "--output", output], environment: environment)
            #expect(run.status == 0, "\(run.error)")
            results.append(try NumPyFile.read(output).floats)
        }
        let expected = try NumPyFile.read("\(Self.models)/tiny_resnet.output.npy").floats
        #expect(results[0].count == expected.count && results[1].count == expected.count)
        #expect(zip(results[0], results[1]).allSatisfy { abs($0 - $1) <= 1e-5 })
        #expect(zip(results[0], expected).allSatisfy { abs($0 - $1) <= 1e-4 })
    }

    @Test("infer --profile reports time per op class, the backend that ran it, and GFLOP/s against the sgemm peak")
    func profileNamesClassesAndBackends() throws {
        let run = try BuiltTool.run("serkd-run", ["infer", "\(Self.models)/tiny_resnet.onnx", "--input", "\(Self.models)/tiny_resnet.input.npy", "--profile"])
        #expect(run.status == 0, "\(run.error)")
        let lines = run.output.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("profile (one run, ") })
        #expect(lines.contains { $0.hasPrefix("  all: ") && $0.contains("(sgemm peak ") })
        let oneDNN = try BuiltTool.run("serkd-run", ["--version"]).output.contains("dnnl: oneDNN 2.")
        let dense = try #require(lines.first { $0.hasPrefix("  convolution.dense") })
        #expect(dense.contains("[oneDNN]") == oneDNN)
        #expect(dense.hasSuffix("%"), "a GFLOP/s rate and its share of the peak: \(dense)")
        let pooling = try #require(lines.first { $0.hasPrefix("  pooling ") })
        #expect(pooling.hasSuffix("-"), "no arithmetic counted for pooling: \(pooling)")
    }
}
