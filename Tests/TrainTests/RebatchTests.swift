import Compiler
import Distill
import Foundation
import GraphIR
import Reference
import Testing
import Train

/// A `.serkd` model made for one batch size serves another: each sample's result is unchanged.
@Suite struct RebatchTests {
    @Test func aSavedModelRunsAtAnotherBatch() throws {
        let workspace = try Workspace()
        let (graph, _) = try ModelZoo.model("deit_distilled_small_images", batch: 2, classes: 10, imageSize: 32, channels: 1, seed: 3)
        let path = workspace.file("student.serkd")
        try ModelFile.write(graph, to: path)
        let entry = RunConfig.Model(source: path, taps: nil, mean: [0], std: [1], zoo: [:])
        let data = try RunConfig.load(try workspace.writeConfig(workspace.config())).data
        let three = try ModelLoader.load(entry, batch: 3, data: data, seed: 0, role: "student").graph
        #expect(three.type(of: three.inputs[0]).shape == [3, 1, 32, 32])

        let images: [Float] = (0..<(3 * 1024)).map { index -> Float in Float((index * 37) % 101) / 101 - 0.5 }
        let batched = try Reference.run(three, inputs: [Tensor(images, shape: [3, 1, 32, 32])])[0].floats
        let pair = try Reference.run(graph, inputs: [Tensor(Array(images[0..<2048]), shape: [2, 1, 32, 32])])[0].floats
        let worst = zip(batched[0..<20], pair).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        #expect(worst <= 1e-5)
    }
}
