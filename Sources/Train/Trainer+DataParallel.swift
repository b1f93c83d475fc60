import Data
import GraphIR
import Runtime
import Tensor

// Data-parallel training (Horovod's and DDP's scheme over MPI): every rank holds the whole model and
// runs the same compiled step on its shard of each global batch; the step's all-reduce averages the
// gradients, so every rank applies the same update and the parameters stay equal without being sent.
// What the step does not cover happens here: rank 0's state reaches the others at the start (fresh
// or resumed), batch-norm running statistics (which each rank updates from its own shard) are
// averaged before anything reads them, and the ranks agree on an interruption.
extension Trainer {
    /// The config one rank compiles its step for: the same run with `batch` split over `ranks`.
    static func rankConfig(_ config: RunConfig, plan: String?, ranks: Int) throws -> RunConfig {
        guard ranks > 1 else { return config }
        guard plan == nil else {
            throw InvalidInput("--plan", "holds a step for one process; with \(ranks) ranks each rank compiles its step (leave out --plan)")
        }
        guard config.batch % ranks == 0 else {
            throw InvalidInput("batch", "\(config.batch) does not split evenly over \(ranks) ranks (the global batch must be a multiple of the ranks)")
        }
        var local = config
        local.batch = config.batch / ranks
        return local
    }

    /// Gives every rank rank 0's parameters, optimizer state and running statistics, and its
    /// position in the run (rank 0 alone reads a checkpoint: the run folder need only exist there),
    /// after checking that the ranks run the same step on the same data: otherwise they would wait
    /// for each other's collectives forever or average unrelated gradients.
    func synchronizeState(_ position: (epoch: Int, step: Int, best: Double)) throws -> (epoch: Int, step: Int, best: Double) {
        guard communicator.size > 1 else { return position }
        var signature = CRC32()
        signature.update(Array(CompiledStep.signature(config).description.utf8))
        let mine = [Double(signature.value), Double(trainLoader.source.count), Double(evalLoader.source.count), Double(steps.total)]
        let reference = try communicator.broadcast(mine)
        if mine[0] != reference[0] {
            throw InvalidInput("config", "differs from rank 0's in the settings that shape the step (seed, method, models, batch, loss, optimizer, image type): every rank must run the same config")
        }
        if mine[1...] != reference[1...] {
            let (a, b) = (mine.map { Int($0) }, reference.map { Int($0) })
            throw InvalidInput("data", "this rank has \(a[1]) training and \(a[2]) evaluation samples (\(a[3]) steps), rank 0 \(b[1]) and \(b[2]) (\(b[3]) steps): every rank needs the same data")
        }
        for id in step.state.dataValues where step.state[id].kind == .parameter || step.state[id].kind == .state {
            try communicator.broadcast(step.state.tensors[id]!)
        }
        let shared = try communicator.broadcast([Double(position.epoch), Double(position.step), position.best])
        return (Int(shared[0]), Int(shared[1]), shared[2])
    }

    /// Replaces every batch-norm running mean and variance by its average over the ranks. They are
    /// momentum averages of per-shard batch statistics, linear in those, so averaging them whenever
    /// they are read (evaluation, checkpoints) gives what averaging after every step would.
    func averageRunningStatistics() throws {
        guard communicator.size > 1 else { return }
        let graph = step.state
        for node in graph.nodes {
            guard case .training(.gradient(.batchNormTraining)) = node.op else { continue }
            for statistic in node.inputs[3...4] { try communicator.average(graph.tensors[statistic]!) }
        }
    }

    /// Whether any rank was interrupted (SIGINT): all ranks stop at the same step, so rank 0's
    /// checkpoint is the state of all of them.
    func isInterrupted() throws -> Bool {
        let local = Self.interrupted.isSet ? 1.0 : 0
        return try communicator.allReduceMax([local])[0] > 0
    }
}
