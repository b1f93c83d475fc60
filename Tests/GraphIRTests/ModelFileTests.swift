import Foundation
import Testing
@testable import GraphIR

@Suite struct ModelFileTests {
    let folder: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("serkd-model-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    func sample() throws -> Graph {
        var graph = try Graph(text: TextFormTests.mlp)
        let big = graph.addConstant("table", Tensor((0..<1000).map(Float.init), shape: [10, 100]))
        let indices = graph.addConstant("rows", Tensor([Int64(3), -1], shape: [2]))
        let gathered = try graph.apply1(.gather(axis: 0), [big, indices], name: "pick")
        graph.outputs.append(gathered)
        return graph
    }

    @Test func modelRoundTripsWithDataAndMetadata() throws {
        let graph = try sample()
        let path = folder + "/m.serkd"
        try ModelFile.write(graph, to: path)
        let back = try ModelFile.read(path)
        #expect(back.text == graph.text)
        for id in graph.dataValues {
            #expect(back.tensors[id]!.bitwiseEqual(graph.tensors[id]!))
            #expect(Int(bitPattern: back.tensors[id]!.rawPointer) % 64 == 0)
        }
    }

    @Test func tensorsReadFromAFileCanBeUpdatedWithoutChangingIt() throws {
        let path = folder + "/cow.serkd"
        try ModelFile.write(try sample(), to: path)
        let first = try ModelFile.read(path)
        let w = first.value(named: "w")!
        first.tensors[w]!.rawPointer.storeBytes(of: Float(99), as: Float.self)
        #expect(try ModelFile.read(path).tensors[w]!.floats[0] == 1)
    }

    @Test func corruptFilesAreRefusedWithOneLine() throws {
        let path = folder + "/good.serkd"
        try ModelFile.write(try sample(), to: path)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))

        func check(_ data: Data, _ expected: String) throws {
            let bad = folder + "/bad.serkd"
            try data.write(to: URL(fileURLWithPath: bad))
            let error = #expect(throws: InvalidInput.self) { try ModelFile.read(bad) }
            #expect(error?.description == "\(bad): \(expected)")
        }
        try check(Data("random bytes, not a model".utf8), "not a serkd model file (bad magic)")
        try check(bytes.prefix(bytes.count - 100), "truncated: data of 'table' lies outside the file")
        try check(bytes.prefix(40), "truncated: header of \(bytes[12..<20].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }) bytes, file has 20 after the prefix")
        var newer = bytes
        newer[8] = 9
        try check(newer, "model file format 9 is not supported (this serkd reads format 1)")
        var garbled = bytes
        for i in 20..<60 { garbled[i] = 0xff }
        try check(garbled, "corrupt header")
    }
}
