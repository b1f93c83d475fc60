/// A model's metadata as `inspect` lists it: `metadata:` then one `  key: value` line per entry,
/// sorted, each value on one line and cut at 100 characters (labels can run to thousands).
public enum MetadataListing {
    /// The lines for `metadata`; none when it is empty.
    public static func lines(_ metadata: [String: String]) -> [String] {
        guard !metadata.isEmpty else { return [] }
        return ["metadata:"] + metadata.keys.sorted().map { key in
            let value = metadata[key]!.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " ")
            return "  \(key): \(value.count > 100 ? String(value.prefix(97)) + "…" : value)"
        }
    }
}
