import Foundation
import Testing
@testable import Tensor

@Suite struct NumPyFileTests {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("serkd-npy-\(UUID().uuidString)").path

    init() throws { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }

    @Test func float32ArrayRoundTripsThroughAFile() throws {
        let tensor = Tensor([1.5, -2, 3.25, 0, 7, 8], shape: [2, 3])
        let path = folder + "/a.npy"
        try NumPyFile.write(tensor, to: path)
        let back = try NumPyFile.read(path)
        #expect(back.bitwiseEqual(tensor))
    }

    @Test func headerIsPaddedSoDataStartsOn64Bytes() {
        let bytes = NumPyFile.encode(Tensor([1, 2, 3], shape: [3]))
        #expect((bytes.count - 12) % 64 == 0)
        #expect(String(decoding: bytes[10..<70], as: UTF8.self).contains("'shape': (3,)"))
    }

    @Test func int64AndBoolAndScalarRoundTrip() throws {
        for tensor in [Tensor([Int64.min, 0, 42], shape: [3]), Tensor([true, false], shape: [2, 1]), Tensor(scalar: Float(2.5))] {
            let back = try NumPyFile.encode(tensor).withUnsafeBytes { try NumPyFile.decode($0) }
            #expect(back.bitwiseEqual(tensor))
        }
    }

    @Test func float64AndSmallIntegersConvertOnRead() throws {
        // np.array([[1.25, -3.5]], dtype='<f8') and np.array([200, 7], dtype='|u1')
        var doubles = ([0x93] + Array("NUMPY".utf8)) + [1, 0]
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }\n"
        doubles += [UInt8(header.utf8.count), 0] + Array(header.utf8)
        for value in [1.25, -3.5] { withUnsafeBytes(of: value) { doubles += $0 } }
        let f = try doubles.withUnsafeBytes { try NumPyFile.decode($0) }
        #expect(f.dtype == .float32 && f.shape == [1, 2] && f.floats == [1.25, -3.5])

        var bytes = ([0x93] + Array("NUMPY".utf8)) + [1, 0]
        let h2 = "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }\n"
        bytes += [UInt8(h2.utf8.count), 0] + Array(h2.utf8) + [200, 7]
        let u = try bytes.withUnsafeBytes { try NumPyFile.decode($0) }
        #expect(u.dtype == .int64 && u.int64s == [200, 7])
    }

    @Test func truncatedDataIsRefusedWithTheFileName() throws {
        let path = folder + "/short.npy"
        let bytes = NumPyFile.encode(Tensor([1, 2, 3, 4], shape: [4]))
        try Data(bytes.dropLast(3)).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: InvalidInput.self) { try NumPyFile.read(path) }
        #expect(error?.description == "\(path): array [4] of <f4 needs 16 bytes, file has 13")
    }

    @Test func nonNumPyAndMissingFilesAreRefused() throws {
        let path = folder + "/text.npy"
        try Data("hello world, not numpy".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: InvalidInput(path, "not a .npy file (bad magic)")) { try NumPyFile.read(path) }
        #expect(throws: InvalidInput(folder + "/absent.npy", "no such file")) { try NumPyFile.read(folder + "/absent.npy") }
    }

    @Test func fortranOrderAndUnknownTypesAreRefused() throws {
        for (descr, fortran, message) in [("<f4", "True", "Fortran-order arrays are not supported"),
                                          ("<c8", "False", "unsupported element type '<c8' (expected little-endian float or integer)")] {
            var bytes = ([0x93] + Array("NUMPY".utf8)) + [1, 0]
            let header = "{'descr': '\(descr)', 'fortran_order': \(fortran), 'shape': (1,), }\n"
            bytes += [UInt8(header.utf8.count), 0] + Array(header.utf8) + [0, 0, 0, 0, 0, 0, 0, 0]
            #expect(throws: InvalidInput(nil, message)) { try bytes.withUnsafeBytes { try NumPyFile.decode($0) } }
        }
    }
}
