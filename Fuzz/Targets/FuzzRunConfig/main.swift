import Train

/// Run-config parsing of arbitrary text: JSON, then every setting's checks.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRunConfig(_ start: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    guard let tree = try? ConfigTree(json: text, source: "fuzz.json") else { return 0 }
    _ = try? RunConfig(tree, source: "fuzz.json", baseFolder: "/nonexistent")
    return 0
}
