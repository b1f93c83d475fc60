import Tensor

/// Runs a plan: owns its arena (allocated once, here) and resolves every buffer to an address, so a
/// run is just the kernel calls.
///
/// An executor is not reentrant: one run at a time. Runs of different executors in one process take
/// turns (`BLAS.exclusively`), so each computes bit for bit what it computes alone.
///
/// With `frozenWeights`, convolutions and linear layers that `Backend` sends to oneDNN are prepared
/// here, once: their primitives created and their weights reordered into oneDNN's layout.
public final class Executor {
    /// The program this executor runs.
    public let plan: Plan
    /// The ranks an all-reduce step averages over (`solo` outside a data-parallel job).
    public let communicator: Communicator
    private let arena: TensorStorage
    private let addresses: [UnsafeMutableRawPointer]
    /// The oneDNN convolution of each step that has one.
    private let convolutions: [Int: DNNLConvolution]
    /// The oneDNN matmul of each step that has one.
    private let matmuls: [Int: DNNLMatmul]
    /// The oneDNN attention of each step that has one.
    private let attentions: [Int: DNNLAttention]
    /// Where oneDNN convolutions keep their inputs and outputs in blocked layout, one at a time.
    private let convolutionScratch: TensorStorage?

    /// Which of the plan's weights (persistent tensors read as a kernel's second operand) oneDNN may take.
    public enum FrozenWeights: Sendable {
        /// None: every op runs on serkd's kernels.
        case none
        /// Those no step writes, which never change after this (an inference plan): oneDNN's
        /// convolutions and matmuls keep them in their own layouts, packed once here.
        case packed
        /// All of them for matmuls, read where they are on every run, so they may change between runs
        /// (a training step: the student's as the optimizer updates them, the teacher's); no packed
        /// copy, which for a ViT-B teacher would cost 344 MB, and on AVX-512 packing was no faster.
        /// Convolutions whose weights no step writes (the teacher's) go to oneDNN, packed. Each only
        /// where `Backend.trainingStepLinearLayers` and `Backend.trainingStepConvolutions` say.
        case inPlace
    }

    /// Prepares `plan` for running over `communicator`'s ranks; allocates its arena. `frozenWeights`
    /// says which weights oneDNN's kernels may take, and how.
    public init(_ plan: Plan, frozenWeights: FrozenWeights = .none, communicator: Communicator = .solo) {
        _ = BLAS.selection
        self.plan = plan
        self.communicator = communicator
        arena = TensorStorage(byteCount: plan.arenaBytes)
        let base = arena.base
        let addresses = plan.buffers.map { buffer in
            switch buffer.location {
            case .arena(let offset): base + offset
            case .persistent(let index, let byteOffset): plan.persistent[index].rawPointer + byteOffset
            }
        }
        self.addresses = addresses
        // Persistent tensors that some step writes: optimizer updates write them in place, under
        // buffers of their own, so they are recognised by location.
        let written = Set(plan.steps.flatMap(\.results).compactMap { id -> Int? in
            guard case .persistent(let index, _) = plan.buffers[id.index].location else { return nil }
            return index
        })
        // A step's second operand, when it is a persistent weight oneDNN may take: any, read in place;
        // only one no step writes, packed. Nil for the rest.
        func weightOperand(_ step: Step) -> (pointer: UnsafePointer<Float>, frozen: Bool)? {
            guard frozenWeights != .none, step.operands.count > 1 else { return nil }
            let weight = step.operands[1]
            guard case .persistent(let index, _) = plan.buffers[weight.index].location,
                  frozenWeights == .inPlace || !written.contains(index) else { return nil }
            return (UnsafePointer(addresses[weight.index].assumingMemoryBound(to: Float.self)), !written.contains(index))
        }
        var convolutions: [Int: DNNLConvolution] = [:], matmuls: [Int: DNNLMatmul] = [:]
        for (index, step) in plan.steps.enumerated() {
            guard let (weights, frozen) = weightOperand(step) else { continue }
            switch step.kernel {
            case .conv2d(let geometry) where frozen && (frozenWeights == .packed || Backend.trainingStepConvolutions)
                && Backend.convolution(geometry, weightsFrozen: true) == .oneDNN:
                convolutions[index] = DNNLConvolution(geometry, frozenWeights: weights)
            case .gemm(let geometry) where (frozenWeights == .packed || Backend.trainingStepLinearLayers)
                && Backend.linear(geometry, weightsFrozen: true) == .oneDNN:
                matmuls[index] = DNNLMatmul(geometry, frozenWeights: weights, packed: frozenWeights == .packed)
            default: break
            }
        }
        self.convolutions = convolutions
        self.matmuls = matmuls
        var attentions: [Int: DNNLAttention] = [:]
        if frozenWeights == .packed, Backend.attention == .oneDNN {
            for (index, step) in plan.steps.enumerated() {
                if case .attention(let geometry) = step.kernel { attentions[index] = DNNLAttention(geometry) }
            }
        }
        self.attentions = attentions
        let regions = BlockedRegions(plan, convolutions: convolutions)
        for index in regions.blockedOutputs { convolutions[index]!.passesBlockedOutput = true }
        for index in regions.blockedInputs { convolutions[index]!.takesBlockedInput = true }
        blockedHandoffs = regions.blockedInputs.count
        let scratchBytes = convolutions.values.map(\.scratchBytes).max() ?? 0
        convolutionScratch = scratchBytes > 0 ? TensorStorage(byteCount: scratchBytes) : nil
    }

    /// How many convolutions read their input in oneDNN's layout, as the convolutions and
    /// elementwise steps before them left it (see `BlockedRegions`), for reports.
    public let blockedHandoffs: Int

    /// The backend that runs step `index`.
    public func backend(ofStep index: Int) -> Backend {
        convolutions[index] != nil || matmuls[index] != nil || attentions[index] != nil ? .oneDNN : .openBLAS
    }

    /// Runs the plan on `inputs` (in plan input order) and returns copies of its outputs.
    public func run(_ inputs: [Tensor]) throws -> [Tensor] {
        try BLAS.exclusively {
            try feed(inputs)
            for index in plan.steps.indices { try execute(index) }
            return plan.outputs.map(read)
        }
    }

    /// Runs once, timing each step: seconds per step, in step order.
    public func profile(_ inputs: [Tensor]) throws -> [Double] {
        try BLAS.exclusively {
            try feed(inputs)
            return try plan.steps.indices.map { index in
                let start = DispatchTime.now().uptimeNanoseconds
                try execute(index)
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            }
        }
    }

    /// The current contents of a buffer, copied out. (A value kept in oneDNN's layout between
    /// convolutions, see `BlockedRegions`, holds that layout.)
    public func read(_ id: BufferID) -> Tensor {
        let buffer = plan.buffers[id.index]
        let tensor = Tensor(zeros: buffer.dtype, buffer.shape)
        tensor.rawPointer.copyMemory(from: addresses[id.index], byteCount: buffer.byteCount)
        return tensor
    }

    private func feed(_ inputs: [Tensor]) throws {
        guard inputs.count == plan.inputs.count else {
            throw InvalidInput(nil, "the model takes \(plan.inputs.count) inputs, got \(inputs.count)")
        }
        for (id, tensor) in zip(plan.inputs, inputs) {
            let buffer = plan.buffers[id.index]
            guard tensor.dtype == buffer.dtype, tensor.shape == buffer.shape else {
                throw InvalidInput("input '\(buffer.name)'", "expected \(buffer.dtype.shortName)\(buffer.shape), got \(tensor.dtype.shortName)\(tensor.shape)")
            }
            addresses[id.index].copyMemory(from: tensor.rawPointer, byteCount: buffer.byteCount)
        }
    }

    private func execute(_ index: Int) throws {
        let step = plan.steps[index]
        let x = step.operands.map { UnsafeRawPointer(addresses[$0.index]) }
        let y = step.results.map { addresses[$0.index] }
        let workspace = step.workspaceOffset.map { arena.base + $0 }
        func f(_ p: UnsafeRawPointer) -> UnsafePointer<Float> { p.assumingMemoryBound(to: Float.self) }
        func fm(_ p: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Float> { p.assumingMemoryBound(to: Float.self) }
        func i(_ p: UnsafeRawPointer) -> UnsafePointer<Int64> { p.assumingMemoryBound(to: Int64.self) }
        func im(_ p: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Int64> { p.assumingMemoryBound(to: Int64.self) }
        func b(_ p: UnsafeRawPointer) -> UnsafePointer<UInt8> { p.assumingMemoryBound(to: UInt8.self) }
        func bm(_ p: UnsafeMutableRawPointer) -> UnsafeMutablePointer<UInt8> { p.assumingMemoryBound(to: UInt8.self) }
        do {
            switch step.kernel {
            case .unary(let function, let dtype, let count):
                if dtype == .int64 { Elementwise.apply(function, i(x[0]), im(y[0]), count: count) } else { Elementwise.apply(function, f(x[0]), fm(y[0]), count: count) }
            case .binary(let function, let dtype, let geometry):
                if dtype == .int64 { try Elementwise.binary(function, geometry, i(x[0]), i(x[1]), im(y[0])) } else { Elementwise.binary(function, geometry, f(x[0]), f(x[1]), fm(y[0])) }
            case .compare(let comparison, let dtype, let geometry):
                switch dtype {
                case .int64: Elementwise.compare(comparison, geometry, i(x[0]), i(x[1]), bm(y[0]))
                case .bool: Elementwise.compare(comparison, geometry, b(x[0]), b(x[1]), bm(y[0]))
                default: Elementwise.compare(comparison, geometry, f(x[0]), f(x[1]), bm(y[0]))
                }
            case .select(let geometry, let elementSize):
                Elementwise.select(geometry, condition: b(x[0]), x[1], x[2], y[0], elementSize: elementSize)
            case .logicalNot(let count):
                Elementwise.logicalNot(b(x[0]), bm(y[0]), count: count)
            case .cast(let source, let target, let count):
                Elementwise.cast(from: source, to: target, x[0], y[0], count: count)
            case .copy(let geometry):
                DataMovement.copy(geometry, from: x[0], to: y[0])
            case .concat(let geometry):
                DataMovement.concat(geometry, x, into: y[0])
            case .gather(let geometry):
                try DataMovement.gather(geometry, data: x[0], indices: i(x[1]), into: y[0])
            case .pad(let geometry):
                DataMovement.pad(geometry, from: x[0], to: y[0])
            case .gemm(let geometry):
                if let matmul = matmuls[index] {
                    try matmul.run(f(x[0]), bias: x.count > 2 ? f(x[2]) : nil, into: fm(y[0]))
                } else {
                    Gemm.multiply(geometry, f(x[0]), f(x[1]), bias: x.count > 2 ? f(x[2]) : nil, into: fm(y[0]))
                }
            case .conv2d(let geometry):
                if let convolution = convolutions[index] {
                    try convolution.run(input: f(x[0]), weight: f(x[1]), bias: x.count > 2 ? f(x[2]) : nil, output: fm(y[0]),
                                        scratch: convolutionScratch?.base)
                } else {
                    Conv2D.run(geometry, input: f(x[0]), weight: f(x[1]), bias: x.count > 2 ? f(x[2]) : nil, output: fm(y[0]), workspace: workspace)
                }
            case .maxPool(let geometry):
                Pool2D.max(geometry, f(x[0]), fm(y[0]))
            case .averagePool(let geometry):
                Pool2D.average(geometry, f(x[0]), fm(y[0]))
            case .globalAveragePool(let planes, let size):
                Pool2D.globalAverage(planes: planes, size: size, f(x[0]), fm(y[0]))
            case .globalMaxPool(let planes, let size):
                Pool2D.globalMax(planes: planes, size: size, f(x[0]), fm(y[0]))
            case .batchNorm(let layout, let epsilon):
                Normalization.batchNorm(layout, epsilon: epsilon, f(x[0]), scale: f(x[1]), bias: f(x[2]), mean: f(x[3]), variance: f(x[4]), fm(y[0]))
            case .layerNorm(let geometry, let hasBias):
                Normalization.layerNorm(geometry, f(x[0]), scale: f(x[1]), bias: hasBias ? f(x[2]) : nil, fm(y[0]),
                                        mean: fm(y[1]), inverseStandardDeviation: fm(y[2]))
            case .softmax(let layout):
                Normalization.softmax(layout, f(x[0]), fm(y[0]))
            case .logSoftmax(let layout):
                Normalization.logSoftmax(layout, f(x[0]), fm(y[0]))
            case .reduce(let kind, let dtype, let geometry):
                if dtype == .int64 { Reductions.reduce(kind, geometry, i(x[0]), im(y[0])) } else { Reductions.reduce(kind, geometry, f(x[0]), fm(y[0])) }
            case .gradient(let kernel):
                try kernel.run(x, y, workspace: workspace)
            case .seRKD(let kernel):
                try kernel.run(x, y, workspace: workspace)
            case .optimizer(let kernel):
                try kernel.run(x, y)
            case .loss(let kernel):
                kernel.run(x, y)
            case .attention(let geometry):
                if let attention = attentions[index], let workspace {
                    try attention.run(queries: f(x[0]), keys: f(x[1]), values: f(x[2]), output: fm(y[0]), workspace: workspace)
                    break
                }
                FusedAttention.run(geometry, queries: f(x[0]), keys: f(x[1]), values: f(x[2]), output: fm(y[0]), workspace: workspace)
            case .fusedElementwise(let geometry):
                FusedElementwise.run(geometry, inputs: x.map(f), output: fm(y[0]), workspace: workspace)
            case .allReduce(let kernel):
                try kernel.run(x, y, workspace: workspace, communicator: communicator)
            case .argMax(let layout, let dtype, let last):
                if dtype == .int64 { Reductions.argMax(layout, selectLastIndex: last, i(x[0]), im(y[0])) } else { Reductions.argMax(layout, selectLastIndex: last, f(x[0]), im(y[0])) }
            }
        } catch let error as InvalidInput {
            throw InvalidInput("node '\(step.label)'", error.problem)
        }
    }
}

import Dispatch
