import Foundation
import Testing

/// The documentation a contributor reads from a fresh clone: every relative link in the README,
/// examples/README.md and docs/ names a file inside the repository.
@Suite struct DocumentationLinkTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The targets of `[text](target)` links in `text` that look like file paths (not URLs, anchors
    /// or the `](%value, …)` fragments of quoted IR).
    static func relativeLinks(_ text: String) -> [String] {
        var links: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "](") {
            rest = rest[open.upperBound...]
            guard let close = rest.firstIndex(of: ")") else { break }
            let target = String(rest[..<close])
            let isPath = !target.isEmpty && !target.contains(" ") && !target.contains("%") && !target.contains("://") && !target.hasPrefix("#")
                && (target.contains("/") || target.contains("."))
            if isPath { links.append(String(target.prefix { $0 != "#" })) }
        }
        return links
    }

    @Test("every relative link in the README, examples/README.md and docs/ resolves inside the repository")
    func relativeLinksResolve() throws {
        let docs = try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("docs").path)
            .filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        var checked = 0
        for page in ["README.md", "examples/README.md"] + docs {
            let url = Self.root.appendingPathComponent(page)
            let text = try String(contentsOf: url, encoding: .utf8)
            for link in Self.relativeLinks(text) {
                let target = url.deletingLastPathComponent().appendingPathComponent(link).standardized.path
                #expect(target.hasPrefix(Self.root.standardized.path + "/"), "\(page) links outside the repository: \(link)")
                #expect(FileManager.default.fileExists(atPath: target), "\(page) links to a missing file: \(link)")
                checked += 1
            }
        }
        #expect(checked >= 3)
    }

    @Test("working notes are not shipped: no notes/ folder")
    func noWorkingNotes() {
        #expect(!FileManager.default.fileExists(atPath: Self.root.appendingPathComponent("notes").path))
    }
}
