#if canImport(Glibc)
import Glibc
#endif

/// The fuzzer's input as a file, for readers that take a path (they map the file, as serkd does with
/// every model it reads): one file per process in /dev/shm, rewritten for each input.
public enum InputFile {
    /// The file's path, named after the target and the process so parallel jobs do not collide.
    public static let path = "/dev/shm/serkd-fuzz-\(getpid())" + "." + CommandLine.arguments[0].split(separator: "/").last.map(String.init)!

    /// Replaces the file's contents with `count` bytes at `start` and returns its path.
    public static func write(_ start: UnsafePointer<UInt8>?, _ count: Int) -> String {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot write \(path)")
        var written = 0
        while written < count {
            let n = Glibc.write(fd, start! + written, count - written)
            precondition(n > 0, "cannot write \(path)")
            written += n
        }
        close(fd)
        return path
    }
}
