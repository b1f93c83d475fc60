#if canImport(Glibc)
import Glibc
#endif
import GraphIR

/// A tensor's reference to bytes in another file (`data_location = EXTERNAL`): the `location`,
/// `offset` and `length` entries of `TensorProto.external_data`.
///
/// Locations are relative to the model's folder and must stay inside it: absolute paths and paths
/// that resolve elsewhere (through `..` or a symbolic link) are rejected, so a model cannot make
/// serkd read arbitrary files.
struct ExternalData {
    /// The file, relative to the model's folder.
    var location: String
    /// Where the tensor's bytes start.
    var offset: Int
    /// How many bytes it has, when the file says.
    var length: Int?

    /// Reads the entries; unknown keys (such as `checksum`) are ignored.
    init(_ entries: [(key: String, value: String)], file: String, what: String) throws {
        func fail(_ problem: String) -> InvalidInput { InvalidInput(file, "\(what): external data \(problem)") }
        func number(_ key: String, _ text: String) throws -> Int {
            guard let value = Int(text), value >= 0 else { throw fail("has an invalid \(key) '\(text)'") }
            return value
        }
        var location: String?
        offset = 0
        for (key, value) in entries {
            switch key {
            case "location": location = value
            case "offset": offset = try number(key, value)
            case "length": length = try number(key, value)
            default: break
            }
        }
        guard let location, !location.isEmpty else { throw fail("has no location") }
        self.location = location
    }

    /// The real path of the referenced file, after checking it lies inside `folder`.
    func resolve(in folder: String, file: String, what: String) throws -> String {
        func fail(_ problem: String) -> InvalidInput { InvalidInput(file, "\(what): external data location '\(location)' \(problem)") }
        guard !location.hasPrefix("/") else { throw fail("is an absolute path; it must be relative to the model's folder") }
        guard !location.utf8.contains(0) else { throw fail("contains a NUL byte") }
        guard let root = Self.realPath(folder) else { throw fail("cannot be checked: the model's folder '\(folder)' is not accessible") }
        guard let resolved = Self.realPath(folder + "/" + location) else {
            throw fail(errno == ENOENT ? "does not exist" : "cannot be opened (\(String(cString: strerror(errno))))")
        }
        guard resolved.hasPrefix(root == "/" ? "/" : root + "/") else { throw fail("is outside the model's folder") }
        return resolved
    }

    /// Maps the tensor's `byteCount` bytes of `path` copy-on-write, after checking the file holds them.
    func map(path: String, byteCount: Int, file: String, what: String, type: ElementType, shape: Shape) throws -> TensorStorage {
        func fail(_ problem: String) -> InvalidInput { InvalidInput(file, "\(what): external data '\(location)' \(problem)") }
        if let length, length != byteCount {
            throw fail("has length \(length), but \(type)\(shape) needs \(byteCount) bytes")
        }
        // Non-blocking: a FIFO opens at once and is refused below instead of waiting for a writer.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw fail("cannot be opened (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw fail("is not a regular file") }
        let size = Int(info.st_size)
        guard offset <= size, byteCount <= size - offset else {
            throw fail("is \(size) bytes, too short for \(byteCount) bytes at offset \(offset)")
        }
        guard byteCount > 0 else { return TensorStorage(byteCount: 0) }
        // mmap wants a page-aligned file offset: map from the page holding the first byte.
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset - offset % page
        let mappedLength = offset - start + byteCount
        guard let mapping = mmap(nil, mappedLength, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, off_t(start)), mapping != MAP_FAILED else {
            throw fail("cannot be mapped (\(String(cString: strerror(errno))))")
        }
        return TensorStorage(adopting: mapping + (offset - start), byteCount: byteCount) { _ in
            munmap(mapping, mappedLength)
        }
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
