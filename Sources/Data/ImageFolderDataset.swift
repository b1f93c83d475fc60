import Foundation
import Tensor

/// A directory of class folders, `root/<class>/**/<image>`, indexed as torchvision's `ImageFolder`
/// indexes it: classes are the sub-directories of `root` sorted by name (code point order), label
/// *i* is the *i*th class, and samples are every file with an accepted extension (compared
/// case-insensitively) under each class folder, walking sub-folders and symbolic links, in sorted
/// directory order then sorted file name order. A class folder without images is an error, as in
/// torchvision. Images are decoded when sampled.
public struct ImageFolderDataset: LabeledImageSource {
    /// The folder the classes live in.
    public let root: String
    /// Class names; a label is an index into this list.
    public let classes: [String]
    /// Every image's path, in sample order.
    public let paths: [String]
    private let labelValues: [Int]

    public var count: Int { paths.count }
    public var classCount: Int { classes.count }

    /// Lists `root`. Only PNG and JPEG can be decoded, so those are the default extensions.
    public init(root: String, extensions: [String] = ["png", "jpg", "jpeg"]) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InvalidInput(root, "no such directory")
        }
        let entries: [String]
        do {
            entries = try manager.contentsOfDirectory(atPath: root)
        } catch {
            throw InvalidInput(root, "cannot list directory")
        }
        let classes = entries.filter { name in
            var isDirectory: ObjCBool = false
            return manager.fileExists(atPath: root + "/" + name, isDirectory: &isDirectory) && isDirectory.boolValue
        }.sorted(by: Self.codePointOrder)
        guard !classes.isEmpty else { throw InvalidInput(root, "no class folders") }
        let suffixes = extensions.map { "." + $0.lowercased() }

        var paths: [String] = []
        var labels: [Int] = []
        for (label, name) in classes.enumerated() {
            let files = try Self.imageFiles(under: root + "/" + name, suffixes: suffixes)
            guard !files.isEmpty else {
                throw InvalidInput(root + "/" + name, "class folder has no files with extensions \(extensions.joined(separator: ", "))")
            }
            paths += files
            labels += [Int](repeating: label, count: files.count)
        }
        self.root = root
        self.classes = classes
        self.paths = paths
        labelValues = labels
    }

    public func sample(at index: Int) throws -> (image: Image, label: Int) {
        precondition((0..<count).contains(index), "sample \(index) out of 0..<\(count)")
        return (try Image(contentsOf: paths[index]), labelValues[index])
    }

    public func labels() -> [Int] { labelValues }

    /// Python's string order: by Unicode code point, which UTF-8 byte order preserves.
    static func codePointOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Files under `directory` with one of `suffixes`, ordered as `sorted(os.walk(directory))` then
    /// sorted names: directories by path, files by name within each.
    private static func imageFiles(under directory: String, suffixes: [String]) throws -> [String] {
        let manager = FileManager.default
        var directories: [String] = []
        var pending = [directory]
        var visited = Set<String>()
        while let current = pending.popLast() {
            // Symbolic links are followed, but a directory reached twice (a link cycle) is listed once.
            let resolved = (current as NSString).resolvingSymlinksInPath
            guard visited.insert(resolved).inserted else { continue }
            directories.append(current)
            guard let names = try? manager.contentsOfDirectory(atPath: current) else {
                throw InvalidInput(current, "cannot list directory")
            }
            for name in names {
                var isDirectory: ObjCBool = false
                if manager.fileExists(atPath: current + "/" + name, isDirectory: &isDirectory), isDirectory.boolValue {
                    pending.append(current + "/" + name)
                }
            }
        }
        var files: [String] = []
        for current in directories.sorted(by: codePointOrder) {
            let names = (try? manager.contentsOfDirectory(atPath: current)) ?? []
            for name in names.sorted(by: codePointOrder) {
                let path = current + "/" + name
                var isDirectory: ObjCBool = false
                guard manager.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
                let lower = name.lowercased()
                if suffixes.contains(where: { lower.hasSuffix($0) }) { files.append(path) }
            }
        }
        return files
    }
}
