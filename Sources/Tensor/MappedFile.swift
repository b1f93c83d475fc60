#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped into memory: model files are read without copying them first.
///
/// A `writable` mapping is private copy-on-write: tensors living in it (a student's parameters) can be
/// updated in place without touching the file.
public final class MappedFile: @unchecked Sendable {
    /// The path it was opened from, for error messages.
    public let path: String
    /// Start of the mapping (nil for an empty file).
    public let base: UnsafeRawPointer?
    /// File size in bytes.
    public let byteCount: Int

    /// Maps `path`, throwing a one-line `InvalidInput` when it is missing, a directory, unreadable or
    /// not a regular file (a FIFO would block, a device such as /dev/zero never ends).
    public init(path: String, writable: Bool = false) throws {
        self.path = path
        // Non-blocking, so that opening a FIFO returns at once (and is then refused) instead of
        // waiting for a writer; it changes nothing for a regular file.
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw InvalidInput(path, Self.describe(errno)) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw InvalidInput(path, Self.describe(errno)) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw InvalidInput(path, "not a regular file") }
        byteCount = Int(info.st_size)
        if byteCount == 0 {
            base = nil
            return
        }
        guard let mapped = mmap(nil, byteCount, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            throw InvalidInput(path, "cannot map file (\(String(cString: strerror(errno))))")
        }
        base = UnsafeRawPointer(mapped)
    }

    /// The whole file as UTF-8 text (invalid sequences replaced), for configs and other small text files.
    public static func text(_ path: String) throws -> String {
        try MappedFile(path: path).withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the file's bytes, which stay valid only for the call.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(UnsafeRawBufferPointer(start: base, count: byteCount)) }
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), byteCount) }
    }

    private static func describe(_ code: Int32) -> String {
        switch code {
        case ENOENT: "no such file"
        case EACCES: "permission denied"
        case EISDIR: "is a directory"
        default: String(cString: strerror(code))
        }
    }
}
