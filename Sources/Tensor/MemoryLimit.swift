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
        if let text = getenv("SERKD_MEMORY_LIMIT").map({ String(cString: $0) }), let value = parse(text) { return value }
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

    /// A byte count like `300000`, `512MiB`, `8GiB`, `2GB`; nil if it is not one.
    public static func parse(_ text: String) -> Int? {
        let units: [(String, Double)] = [("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("B", 1)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let value = Double(text.dropLast(suffix.count)), value > 0, value * scale < 9e18 else { return nil }
            return Int(value * scale)
        }
        return Int(text).flatMap { $0 > 0 ? $0 : nil }
    }
}
