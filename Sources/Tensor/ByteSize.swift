import Foundation

/// A byte count as a user writes it (`--memory-budget`, `SERKD_MEMORY_LIMIT`): `1048576`, `512MiB`,
/// `2GiB`, `1.5G`.
///
/// `KiB MiB GiB TiB` and the one-letter `K M G T` are powers of 1024, as memory is counted; `KB MB
/// GB TB` are powers of 1000, as disks are. Case does not matter; a space before the unit is allowed.
public enum ByteSize {
    private static let units: [(suffix: String, scale: Double)] = [
        ("kib", 0x1p10), ("mib", 0x1p20), ("gib", 0x1p30), ("tib", 0x1p40),
        ("kb", 1e3), ("mb", 1e6), ("gb", 1e9), ("tb", 1e12),
        ("k", 0x1p10), ("m", 0x1p20), ("g", 0x1p30), ("t", 0x1p40), ("b", 1),
    ]

    /// The number of bytes `text` names (rounded down to a whole byte), or an error saying what
    /// was expected.
    public static func parse(_ text: String) throws -> Int {
        let lowered = text.lowercased().trimmingCharacters(in: .whitespaces)
        let unit = units.first { lowered.hasSuffix($0.suffix) } ?? ("", 1)
        let number = lowered.dropLast(unit.suffix.count).trimmingCharacters(in: .whitespaces)
        guard let value = Double(number), value.isFinite, value > 0, value * unit.scale < 0x1p62, value * unit.scale >= 1 else {
            throw InvalidInput(nil, "expected a positive size like 512MiB or 2GiB, got '\(text)'")
        }
        return Int(value * unit.scale)
    }
}
