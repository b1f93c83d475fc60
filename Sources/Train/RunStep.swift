import Data
import Distill
import GraphIR

/// The training step a run config describes, built from its models: what `serkd-run train` compiles
/// in process and `serkd-compile graph` compiles into a plan file, so both get the same step.
public struct RunStep {
    /// The whole step: student and teacher forward, losses, backward, optimizer update.
    public var step: TrainingStep
    /// The student at the training batch, with its taps.
    public var student: ModelLoader.Loaded

    /// Loads the student (and the teacher, when the objective uses one), checks that the student
    /// takes the config's images, and assembles the step; with a `shard` of several, that rank's
    /// step of a data-parallel job (`config.batch` is then the per-rank batch).
    public init(config: RunConfig, shard: Shard = .whole) throws {
        let data = config.data
        let student = try ModelLoader.load(config.student, batch: config.batch, data: data, seed: config.seed, role: "student")
        guard student.graph.inputs.count == 1 || student.graph.inputs.count == 2 && student.graph[student.graph.inputs[1]].name == TrainingStep.dropPathStep else {
            throw InvalidInput("student", "must take one input (images), it takes \(student.graph.inputs.count)")
        }
        let imageType = student.graph.type(of: student.graph.inputs[0])
        guard imageType.shape == [config.batch, data.channels, data.imageSize, data.imageSize] else {
            throw InvalidInput("student", "takes \(imageType), the data gives [\(config.batch),\(data.channels),\(data.imageSize),\(data.imageSize)] (data.channels, data.image_size)")
        }
        var teacher: (graph: Graph, taps: ModelTaps)?
        if let entry = config.teacher, config.objective.usesTeacher {
            let loaded = try ModelLoader.load(entry, batch: config.batch, data: data, seed: config.seed &+ 1, role: "teacher")
            let adapted = try loaded.graph.adaptingInput(channels: data.channels, mean: config.student.mean, std: config.student.std,
                                                        ownMean: entry.mean, ownStd: entry.std, role: "teacher")
            teacher = (adapted, loaded.taps)
        }
        step = try TrainingStep(student: student.graph, studentTaps: student.taps, teacher: teacher, objective: config.objective,
                                optimizer: config.optimizer, seed: config.seed, shard: shard)
        self.student = student
    }
}
