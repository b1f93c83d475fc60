import Foundation
import Testing

/// The committed protoc-c output must be what `scripts/regenerate-protos.sh` makes from the schemas.
@Suite struct GeneratedProtoTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let hasProtocC = FileManager.default.isExecutableFile(atPath: "/usr/bin/protoc-c")

    @Test(.enabled(if: hasProtocC, "protoc-c is not installed"))
    func generatedCodeIsCurrent() throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("serkd-proto-\(UUID().uuidString)").path
        let process = Process()
        process.executableURL = Self.root.appendingPathComponent("scripts/regenerate-protos.sh")
        process.arguments = [out]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let committed = Self.root.appendingPathComponent("Sources/CProto").path
        for file in ["onnx.pb-c.c", "serkd.pb-c.c", "include/onnx.pb-c.h", "include/serkd.pb-c.h", "include/CProto.h"] {
            let fresh = try Data(contentsOf: URL(fileURLWithPath: out + "/" + file))
            let current = try Data(contentsOf: URL(fileURLWithPath: committed + "/" + file))
            #expect(fresh == current, "\(file) is stale: run scripts/regenerate-protos.sh")
        }
    }
}
