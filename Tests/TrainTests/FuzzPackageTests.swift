import Foundation
import Testing

/// The fuzz package (Fuzz/) compiles the main package's library sources through symlinks under a
/// manifest of its own, so nothing but this test notices when a library gains a dependency the fuzz
/// manifest does not list (a new C module left Fuzz/build.sh unable to build once).
@Suite struct FuzzPackageTests {
    static let root = DocumentationLinkTests.root

    /// Each `.target(name: "X", dependencies: [...])` of a manifest: its name and dependency names.
    static func targets(inManifest path: String) throws -> [String: Set<String>] {
        let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"\.target\(name: "([A-Za-z]+)"(?:, dependencies: \[([^\]]*)\])?"#)
        var result: [String: Set<String>] = [:]
        for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
            let name = String(text[Range(match.range(at: 1), in: text)!])
            let list = Range(match.range(at: 2), in: text).map { String(text[$0]) } ?? ""
            result[name] = Set(list.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \"")) }.filter { !$0.isEmpty })
        }
        return result
    }

    @Test("every library module the fuzz targets compile has the main package's dependencies and a symlink to its sources")
    func fuzzManifestMirrorsTheMainOne() throws {
        let main = try Self.targets(inManifest: "Package.swift")
        let fuzz = try Self.targets(inManifest: "Fuzz/Package.swift").filter { !$0.key.hasPrefix("Fuzz") }
        #expect(fuzz.count >= 10)
        for (name, dependencies) in fuzz {
            #expect(main[name] == dependencies, "Fuzz/Package.swift: \(name) depends on \(dependencies.sorted()), the main package on \(main[name]?.sorted() ?? [])")
            let link = Self.root.appendingPathComponent("Fuzz/Sources/\(name)").resolvingSymlinksInPath().standardized.path
            #expect(link == Self.root.appendingPathComponent("Sources/\(name)").standardized.path, "Fuzz/Sources/\(name) is not a link to Sources/\(name)")
        }
        for (name, dependencies) in fuzz {
            for dependency in dependencies where main[dependency] != nil {
                #expect(fuzz[dependency] != nil, "Fuzz/Package.swift lacks \(dependency), which \(name) needs")
            }
        }
    }
}
