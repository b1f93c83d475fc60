import Testing
import Tensor

@Suite struct ShapeTests {
    @Test func broadcastFollowsNumPyRules() {
        #expect(Shape.broadcast([2, 1, 4], [3, 1]) == [2, 3, 4])
        #expect(Shape.broadcast([], [5]) == [5])
        #expect(Shape.broadcast([0, 3], [1, 3]) == [0, 3])
        #expect(Shape.broadcast([2, 3], [3, 2]) == nil)
    }

    @Test func stridesAreRowMajor() {
        #expect(Shape([2, 3, 4]).strides == [12, 4, 1])
        #expect(Shape([]).strides == [])
        #expect(Shape([]).elementCount == 1)
    }

    @Test func checkedElementCountCatchesOverflowAndNegativeExtents() {
        #expect(Shape([1 << 40, 1 << 30]).checkedElementCount == nil)
        #expect(Shape([3, -1]).checkedElementCount == nil)
        #expect(Shape([3, 4]).checkedElementCount == 12)
    }
}

@Suite struct AtomicFileTests {
    @Test func droppedWriterLeavesNoFileBehind() throws {
        let path = "/tmp/serkd-atomic-\(UInt64.random(in: 0...UInt64.max))"
        do {
            let file = try AtomicFile(path: path)
            try file.write([1, 2, 3])
        }
        #expect((try? MappedFile(path: path)) == nil)
        try AtomicFile.write([4, 5], to: path)
        #expect(try MappedFile(path: path).withUnsafeBytes { Array($0) } == [4, 5])
    }
}
