#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file written beside its destination under a temporary name and renamed into place on `commit()`.
///
/// Readers never see a half-written output: if writing fails or the writer is dropped without
/// committing, the temporary is removed and the destination is left as it was.
public final class AtomicFile {
    /// The final path.
    public let path: String
    private let temporaryPath: String
    private var descriptor: Int32
    private var committed = false

    /// Creates the temporary file next to `path`.
    public init(path: String) throws {
        self.path = path
        var template = Array((path + ".tmp-XXXXXX").utf8CString)
        descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw InvalidInput(path, "cannot create file (\(String(cString: strerror(errno))))")
        }
        temporaryPath = String(cString: template)
        fchmod(descriptor, 0o644)
    }

    /// Appends `count` bytes from `bytes`.
    public func write(_ bytes: UnsafeRawPointer, count: Int) throws {
        var done = 0
        while done < count {
            let written = Glibc.write(descriptor, bytes + done, min(count - done, 1 << 30))
            if written < 0 {
                if errno == EINTR { continue }
                throw InvalidInput(path, "write failed (\(String(cString: strerror(errno))))")
            }
            done += written
        }
    }

    /// Appends the bytes of `array`.
    public func write(_ array: [UInt8]) throws {
        try array.withUnsafeBytes { try write($0.baseAddress!, count: $0.count) }
    }

    /// Closes the file and renames it into place.
    public func commit() throws {
        guard !committed else { return }
        guard close(descriptor) == 0 else {
            descriptor = -1
            throw InvalidInput(path, "write failed (\(String(cString: strerror(errno))))")
        }
        descriptor = -1
        guard rename(temporaryPath, path) == 0 else {
            throw InvalidInput(path, "cannot write file (\(String(cString: strerror(errno))))")
        }
        committed = true
    }

    deinit {
        if !committed {
            if descriptor >= 0 { close(descriptor) }
            unlink(temporaryPath)
        }
    }

    /// Writes `bytes` to `path` atomically.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let file = try AtomicFile(path: path)
        try file.write(bytes)
        try file.commit()
    }
}
