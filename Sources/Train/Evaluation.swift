import Compiler
import Data
import Foundation
import GraphIR
import Runtime

/// Top-1/top-5 accuracy and cross-entropy of a classifier over an evaluation loader.
public struct EvaluationResult: Sendable {
    public var top1: Double
    public var top5: Double
    public var loss: Double
    public var samples: Int
}

/// Runs a compiled classifier (one image input, logits as output 0) over whole datasets. The last
/// partial batch is padded with zeros and its padding ignored.
public final class Evaluator {
    let executor: Executor
    let batch: Int

    /// Compiles `graph` once.
    public init(_ graph: Graph) throws {
        executor = Executor(try Pipeline.compile(graph).plan)
        batch = graph.type(of: graph.inputs[0]).shape[0]
    }

    /// Accuracy over every batch of `loader`. In a data-parallel job each rank evaluates its shard
    /// (`loader.shard`) and the counts are summed over `communicator`'s ranks, so every rank gets the
    /// whole dataset's result.
    public func evaluate(_ loader: BatchLoader, communicator: Communicator = .solo) throws -> EvaluationResult {
        var correct1 = 0, correct5 = 0, samples = 0
        var loss = 0.0
        let stream = loader.batches(epoch: 0)
        while let next = try stream.next() {
            let rows = next.labels.shape[0]
            if rows == 0 { continue }
            let input = rows == batch ? next.images : padded(next.images, to: batch)
            let logits = try executor.run([input])[0]
            let classes = logits.shape[1]
            let values = logits.floats, labels = next.labels.int64s
            for row in 0..<rows {
                let scores = values[(row * classes)..<((row + 1) * classes)]
                let label = Int(labels[row])
                let better = scores.filter { $0 > scores[scores.startIndex + label] }.count
                if better == 0 { correct1 += 1 }
                if better < 5 { correct5 += 1 }
                let largest = Double(scores.max()!)
                let logSum = log(scores.reduce(0.0) { $0 + exp(Double($1) - largest) }) + largest
                loss += logSum - Double(scores[scores.startIndex + label])
            }
            samples += rows
        }
        let totals = try communicator.allReduceSum([Double(correct1), Double(correct5), loss, Double(samples)])
        (correct1, correct5, loss, samples) = (Int(totals[0]), Int(totals[1]), totals[2], Int(totals[3]))
        guard samples > 0 else { return EvaluationResult(top1: 0, top5: 0, loss: 0, samples: 0) }
        return EvaluationResult(top1: Double(correct1) / Double(samples), top5: Double(correct5) / Double(samples),
                                loss: loss / Double(samples), samples: samples)
    }

    private func padded(_ images: Tensor, to rows: Int) -> Tensor {
        var shape = images.shape
        shape[0] = rows
        let result = Tensor(zeros: .float32, shape)
        result.rawPointer.copyMemory(from: images.rawPointer, byteCount: images.byteCount)
        return result
    }
}
