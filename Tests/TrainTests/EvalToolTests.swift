import BuiltTools
import Distill
import Foundation
import GraphIR
import Testing

/// `serkd-run eval` normalises the evaluation images as the model's metadata says, falling back to
/// the config's student normalisation only for a model that records none.
@Suite struct EvalToolTests {
    func model(_ workspace: Workspace, _ name: String, metadata: [String: String]) throws -> String {
        var (graph, _) = try ModelZoo.model("deit_distilled_small_images", batch: 4, classes: 10, imageSize: 32, channels: 3, seed: 3)
        graph.metadata.merge(metadata) { $1 }
        try ModelFile.write(graph, to: workspace.file(name))
        return workspace.file(name)
    }

    /// The `loss …` part of eval's line.
    func loss(_ output: String) -> Substring? { output.split(separator: ",").first { $0.hasPrefix(" loss") } }

    @Test("the model's normalization.mean/std decide the preprocessing, not the config's")
    func modelNormalisationWins() throws {
        let workspace = try Workspace()
        try workspace.writeCIFAR(count: 8)
        let config = try workspace.writeConfig(workspace.config())
        // The config's student normalisation is ImageNet's (the default), written out here.
        let same = try model(workspace, "same.serkd", metadata: ["normalization.mean": "0.485,0.456,0.406", "normalization.std": "0.229,0.224,0.225"])
        let bare = try model(workspace, "bare.serkd", metadata: [:])
        let other = try model(workspace, "other.serkd", metadata: ["normalization.mean": "0.9,0.9,0.9", "normalization.std": "0.01,0.01,0.01"])
        let results = try [same, bare, other].map { try BuiltTool.run("serkd-run", ["eval", $0, "--config", config]) }
        for result in results { #expect(result.status == 0, "\(result.error)") }
        #expect(loss(results[0].output) != nil)
        #expect(loss(results[0].output) == loss(results[1].output))
        #expect(loss(results[0].output) != loss(results[2].output))

        let wrong = try model(workspace, "gray.serkd", metadata: ["normalization.mean": "0.5", "normalization.std": "0.5"])
        let refused = try BuiltTool.run("serkd-run", ["eval", wrong, "--config", config])
        #expect(refused.status == 1)
        #expect(refused.error == "serkd-run: \(wrong): normalises 1 channels, the data has 3\n")
    }
}
