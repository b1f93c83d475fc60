#if canImport(Glibc)
import Glibc
#endif
import CProto
import GraphIR

/// One ONNX backend node-test case (`model.onnx` plus `test_data_set_0/input_N.pb` and
/// `output_N.pb`, each a serialized `TensorProto`), imported and ready to run.
///
/// Inputs that the importer needs at import time (a `Reshape` target, `Slice` bounds, reduction
/// axes: see `Importer.importTimeInputs`), or that such values are computed from, are graph inputs
/// in these cases; they are bound to their test data, so the graph keeps only the inputs a runtime
/// would be fed. Tensors are converted as
/// the importer converts them (`ElementType`), so a float64 case is checked in float32.
public struct ConformanceCase {
    /// The case folder's name, e.g. `test_relu`.
    public var name: String
    /// The imported graph.
    public var graph: Graph
    /// Data for `graph.inputs`, in order.
    public var inputs: [Tensor]
    /// Expected values of `graph.outputs`, in order.
    public var expected: [Tensor]

    /// Loads the case in `folder` (its first data set).
    public init(folder: String) throws {
        name = String(folder.split(separator: "/").last ?? Substring(folder))
        let modelPath = folder + "/model.onnx"
        let message = try ModelMessage(path: modelPath)
        let graphProto = message.graph.pointee
        let initializers = Set(messages(graphProto.initializer, graphProto.n_initializer).map { text($0.pointee.name) })
        let declared = messages(graphProto.input, graphProto.n_input).map { text($0.pointee.name) }.filter { !initializers.contains($0) }

        let data = folder + "/test_data_set_0"
        let inputData = try Self.tensors(in: data, prefix: "input_")
        let outputData = try Self.tensors(in: data, prefix: "output_")
        guard inputData.count <= declared.count else {
            throw InvalidInput(data, "has \(inputData.count) inputs, the model declares \(declared.count)")
        }

        // Values that decide shapes, and (transitively) what they are computed from. Shape and
        // Size read only their input's type, so the search stops there.
        var needed = Set<String>()
        for node in messages(graphProto.node, graphProto.n_node).map(ONNXNode.init).reversed() {
            if node.outputs.contains(where: needed.contains) && node.opType != "Shape" && node.opType != "Size" {
                needed.formUnion(node.inputs)
            }
            for position in Importer.importTimeInputs[node.opType] ?? [] where position < node.inputs.count {
                needed.insert(node.inputs[position])
            }
        }
        var bindings: [String: Tensor] = [:]
        var fed: [Tensor] = []
        for (name, tensor) in zip(declared, inputData) {
            if needed.contains(name) { bindings[name] = tensor } else { fed.append(tensor) }
        }
        // The batch the importer would take from the first fed input with axes, so a symbolic
        // leading axis gets the test data's extent.
        let batch = fed.first { $0.shape.rank > 0 }?.shape[0]
        graph = try ONNXImport.graph(fromFile: modelPath, options: .init(batch: batch, bindings: bindings))
        inputs = fed
        expected = outputData
    }

    /// `prefix0.pb`, `prefix1.pb`, … decoded in order.
    private static func tensors(in folder: String, prefix: String) throws -> [Tensor] {
        var result: [Tensor] = []
        while true {
            let path = "\(folder)/\(prefix)\(result.count).pb"
            guard access(path, F_OK) == 0 else { return result }
            result.append(try decodeTensorFile(path))
        }
    }

    /// Decodes a file holding one serialized `TensorProto`.
    static func decodeTensorFile(_ path: String) throws -> Tensor {
        let file = try MappedFile(path: path)
        guard let proto = file.withUnsafeBytes({ bytes in
            bytes.baseAddress.flatMap { onnx__tensor_proto__unpack(nil, bytes.count, $0.assumingMemoryBound(to: UInt8.self)) }
        }) else {
            throw InvalidInput(path, "not a serialized ONNX tensor")
        }
        defer { onnx__tensor_proto__free_unpacked(proto, nil) }
        var reader = TensorReader(file: path, folder: ".")
        return try reader.read(proto, what: "tensor").tensor
    }

    /// Why `outputs` (from running `graph` on `inputs`) do not match `expected`, or nil when they do.
    ///
    /// Float32 elements agree when |actual − expected| ≤ `absolute` + `relative`·|expected| (NaN
    /// matches NaN, infinities must be equal); integers and bools must be equal.
    public func mismatch(_ outputs: [Tensor], absolute: Double = 1e-4, relative: Double = 1e-3) -> String? {
        guard outputs.count == expected.count else { return "\(outputs.count) outputs, expected \(expected.count)" }
        for (index, (actual, wanted)) in zip(outputs, expected).enumerated() {
            let label = "output \(index) ('\(graph[graph.outputs[index]].name)')"
            guard actual.dtype == wanted.dtype else { return "\(label) is \(actual.dtype.shortName), expected \(wanted.dtype.shortName)" }
            guard actual.shape == wanted.shape else { return "\(label) has shape \(actual.shape), expected \(wanted.shape)" }
            for (position, (a, e)) in zip(actual.doubles, wanted.doubles).enumerated() {
                let close = actual.dtype == .float32
                    ? (a == e || (a.isNaN && e.isNaN) || abs(a - e) <= absolute + relative * abs(e))
                    : a == e
                if !close { return "\(label) element \(position) is \(a), expected \(e)" }
            }
        }
        return nil
    }

    /// Runs the case with `execute` (the reference interpreter, or a compiled runtime) and returns
    /// why it failed, or nil when it passed. Import problems surface when the case is loaded.
    public func failure(executingWith execute: (Graph, [Tensor]) throws -> [Tensor]) -> String? {
        do {
            return mismatch(try execute(graph, inputs))
        } catch {
            return "run failed: \(error)"
        }
    }
}

/// Runs a folder of conformance cases and tallies the results against a list of known exclusions.
public struct ConformanceSuite {
    /// The outcome of one run over all cases.
    public struct Report {
        /// Cases that passed.
        public var passed: [String] = []
        /// Cases that failed, with the reason, that are not excluded.
        public var failed: [(name: String, reason: String)] = []
        /// Excluded cases that failed, with the reason they fail now.
        public var excluded: [(name: String, reason: String)] = []
        /// Excluded cases that passed: the exclusion is stale.
        public var unexpectedlyPassed: [String] = []

        /// `onnx node conformance: 600 passed, 0 failed, 12 excluded (reference)` and the failures.
        public func summary(label: String) -> String {
            var lines = ["onnx node conformance: \(passed.count) passed, \(failed.count) failed, \(excluded.count) excluded (\(label))"]
            lines += failed.map { "  FAIL \($0.name): \($0.reason)" }
            lines += unexpectedlyPassed.map { "  STALE EXCLUSION \($0): passes now" }
            return lines.joined(separator: "\n")
        }
    }

    /// The folder holding one sub-folder per case.
    public var folder: String
    /// Case name → why it is expected to fail.
    public var exclusions: [String: String]

    /// Reads the case folder and an exclusion file: one case per line, `name  reason`; `#` starts
    /// a comment.
    public init(folder: String, exclusionFile: String) throws {
        self.folder = folder
        exclusions = [:]
        let file = try MappedFile(path: exclusionFile)
        let text = file.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        for line in text.split(separator: "\n") {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = content.split(separator: " ", maxSplits: 1)
            guard let name = words.first else { continue }
            exclusions[String(name)] = words.count > 1 ? words[1].trimmingCharacters(in: " \t") : ""
        }
    }

    /// Case folders (those holding `model.onnx`), sorted by name.
    public var caseNames: [String] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix("."), access("\(folder)/\(name)/model.onnx", F_OK) == 0 { names.append(name) }
        }
        return names.sorted()
    }

    /// Loads and runs every case with `execute`.
    public func run(executingWith execute: (Graph, [Tensor]) throws -> [Tensor]) -> Report {
        var report = Report()
        for name in caseNames {
            let reason: String?
            do {
                reason = try ConformanceCase(folder: "\(folder)/\(name)").failure(executingWith: execute)
            } catch {
                reason = "import failed: \(error)"
            }
            switch (reason, exclusions[name] != nil) {
            case (nil, false): report.passed.append(name)
            case (nil, true): report.unexpectedlyPassed.append(name)
            case (let reason?, false): report.failed.append((name, reason))
            case (let reason?, true): report.excluded.append((name, reason))
            }
        }
        return report
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> String {
        String(drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed())
    }
}
