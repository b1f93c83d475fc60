import CProto

// Reading protobuf-c's C structs from Swift: repeated fields are (count, pointer) pairs and strings
// are nullable C strings. These helpers turn them into Swift values at the edge of the module.

/// The messages of a repeated message field, skipping null entries.
func messages<T>(_ base: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?, _ count: Int) -> [UnsafeMutablePointer<T>] {
    guard let base, count > 0 else { return [] }
    return UnsafeBufferPointer(start: base, count: count).compactMap { $0 }
}

/// The elements of a repeated scalar field.
func scalars<T>(_ base: UnsafeMutablePointer<T>?, _ count: Int) -> [T] {
    guard let base, count > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: base, count: count))
}

/// A string field (empty when unset).
func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
    pointer.map { String(cString: $0) } ?? ""
}

/// The strings of a repeated string field.
func texts(_ base: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ count: Int) -> [String] {
    guard let base, count > 0 else { return [] }
    return UnsafeBufferPointer(start: base, count: count).map(text)
}

/// A `bytes` field as text (ONNX stores attribute strings as bytes).
func text(_ bytes: ProtobufCBinaryData) -> String {
    guard let data = bytes.data, bytes.len > 0 else { return "" }
    return String(decoding: UnsafeBufferPointer(start: data, count: bytes.len), as: UTF8.self)
}

/// Key/value entries (`StringStringEntryProto`) as pairs, in file order.
func entries(_ base: UnsafeMutablePointer<UnsafeMutablePointer<Onnx__StringStringEntryProto>?>?, _ count: Int) -> [(key: String, value: String)] {
    messages(base, count).map { (text($0.pointee.key), text($0.pointee.value)) }
}
