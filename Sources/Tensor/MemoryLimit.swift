#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The most bytes one allocation that a file asks for may take: a plan's arena, a decoded array or
/// image. Sizes read from files are checked against it before anything is allocated, so a hostile
/// or corrupt file gets a one-line refusal rather than an abort in the allocator or the OOM killer.
///
/// `SERKD_MEMORY_LIMIT` sets it (bytes, or with a unit: `8GiB`, `512MiB`); by default it is the
/// machine's physical memory.
public enum MemoryLimit {
    /// The limit in bytes for this process.
    public static let bytes: Int = {
        if let text = getenv("SERKD_MEMORY_LIMIT").map({ String(cString: $0) }), let value = try? ByteSize.parse(text) { return value }
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0 else { return 1 << 34 }
        return pages.multipliedReportingOverflow(by: size).overflow ? Int.max : pages * size
    }()

    /// Throws unless `byteCount` bytes for `what` ("the arena", "array f32[…]") fit the limit.
    public static func check(_ byteCount: Int, for what: String) throws {
        guard byteCount <= bytes else {
            throw InvalidInput(nil, "\(what) of \(byteCount) bytes exceeds the memory limit of \(bytes) bytes (SERKD_MEMORY_LIMIT)")
        }
    }
}
